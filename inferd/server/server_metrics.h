#pragma once

#include "common/metrics/metrics_registry.h"

namespace tpustack::inferd::server {

// inferd's Prometheus metrics: TEI's te_* set under Prometheus' naming rules (counters end in _total, durations in
// _seconds), so `promtool check metrics` passes; README's Metrics section maps each TEI name to its inferd name.
struct ServerMetrics {
  explicit ServerMetrics(tpustack::metrics::MetricsRegistry& registry);

  tpustack::metrics::Family<tpustack::metrics::Counter>& request_count;                    // {method}
  tpustack::metrics::Family<tpustack::metrics::Counter>& request_success;                  // {method}
  tpustack::metrics::Family<tpustack::metrics::Counter>& request_failure;                  // {err}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& request_duration;               // {method}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& request_tokenization_duration;  // {method}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& request_queue_duration;         // {method}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& request_inference_duration;     // {method}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& request_input_length;           // {method}
  tpustack::metrics::Family<tpustack::metrics::Gauge>& queue_size;                         // {model}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& batch_next_size;                // {model}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& batch_next_tokens;              // {model}
  tpustack::metrics::Family<tpustack::metrics::Counter>& http_requests;                    // {route, status}
  tpustack::metrics::Family<tpustack::metrics::Gauge>& models_loaded;
  tpustack::metrics::Family<tpustack::metrics::Gauge>& model_version;     // {model, digest}: 1 served, 0 past
  tpustack::metrics::Family<tpustack::metrics::Counter>& model_switches;  // {model}
  // Text generation, as vLLM's and TGI's dashboards read it.
  tpustack::metrics::Family<tpustack::metrics::Histogram>& time_to_first_token;  // {model}
  tpustack::metrics::Family<tpustack::metrics::Histogram>& inter_token_latency;  // {model}
  tpustack::metrics::Family<tpustack::metrics::Counter>& generation_tokens;      // {model, kind}: prompt, completion
  tpustack::metrics::Family<tpustack::metrics::Gauge>& generation_sequences;     // {model, state}: running, waiting
  tpustack::metrics::Family<tpustack::metrics::Gauge>& kv_cache_blocks;          // {model, state}: used, free
  // The PJRT backend: executions per device (data-parallel replicas); compile cache lookups.
  tpustack::metrics::Family<tpustack::metrics::Counter>& pjrt_device_batches;  // {device, kind}
  tpustack::metrics::Family<tpustack::metrics::Counter>& pjrt_compile_cache;   // {result}: hit, miss
};

}  // namespace tpustack::inferd::server
