#include "inferd/server/server_metrics.h"

namespace tpustack::inferd::server {

namespace {

using tpustack::metrics::exponential_buckets;
using tpustack::metrics::latency_buckets;

}  // namespace

ServerMetrics::ServerMetrics(tpustack::metrics::MetricsRegistry& r)
    : request_count(r.counter("inferd_requests_total", "Requests received", {"method"})),
      request_success(r.counter("inferd_requests_succeeded_total", "Requests answered successfully", {"method"})),
      request_failure(r.counter("inferd_requests_failed_total", "Requests that failed, by error type", {"err"})),
      request_duration(r.histogram("inferd_request_duration_seconds", "Whole request", {"method"}, latency_buckets())),
      request_tokenization_duration(
          r.histogram("inferd_request_tokenization_duration_seconds", "Tokenization", {"method"}, latency_buckets())),
      request_queue_duration(r.histogram("inferd_request_queue_duration_seconds", "Wait in the batch queue", {"method"},
                                         latency_buckets())),
      request_inference_duration(
          r.histogram("inferd_request_inference_duration_seconds", "Batch inference", {"method"}, latency_buckets())),
      request_input_length(
          r.histogram("inferd_request_input_tokens", "Tokens per input", {"method"}, exponential_buckets(1, 2, 14))),
      queue_size(r.gauge("inferd_queue_size", "Sequences waiting in the batch queue", {"model"})),
      batch_next_size(
          r.histogram("inferd_batch_next_size", "Sequences per batch", {"model"}, exponential_buckets(1, 2, 10))),
      batch_next_tokens(
          r.histogram("inferd_batch_next_tokens", "Tokens per batch", {"model"}, exponential_buckets(1, 2, 18))),
      http_requests(r.counter("inferd_http_requests_total", "HTTP requests by route and status", {"route", "status"})),
      models_loaded(r.gauge("inferd_models_loaded", "Models loaded in memory")),
      model_version(r.gauge("inferd_model_version_info", "The version each model serves (1) and served before (0)",
                            {"model", "digest"})),
      model_switches(r.counter("inferd_model_switches_total", "Switches of a model to another version", {"model"})),
      time_to_first_token(r.histogram("inferd_generation_time_to_first_token_seconds",
                                      "From a generation request's arrival to its first token", {"model"},
                                      latency_buckets())),
      inter_token_latency(r.histogram("inferd_generation_inter_token_latency_seconds",
                                      "Between one generated token of a sequence and its next", {"model"},
                                      latency_buckets())),
      generation_tokens(r.counter("inferd_generation_tokens_total",
                                  "Tokens of finished generations: their prompts and what was generated",
                                  {"model", "kind"})),
      generation_sequences(
          r.gauge("inferd_generation_sequences", "Sequences of a decoder, running or waiting", {"model", "state"})),
      kv_cache_blocks(
          r.gauge("inferd_kv_cache_blocks", "Blocks of a decoder's KV cache, used or free", {"model", "state"})),
      pjrt_device_batches(r.counter("inferd_pjrt_device_batches_total",
                                    "Encoder batches (bucket executions) run on each PJRT device", {"device", "kind"})),
      pjrt_compile_cache(r.counter("inferd_pjrt_compile_cache_total",
                                   "PJRT executables found in the compile cache (hit) or compiled (miss)",
                                   {"result"})) {}

}  // namespace tpustack::inferd::server
