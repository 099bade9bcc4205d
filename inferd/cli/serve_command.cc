#include "inferd/cli/serve_command.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>

#include "common/cli/command_line.h"
#include "common/cli/option_sources.h"
#include "common/config/config_document.h"
#include "common/config/duration.h"
#include "common/http/http_server.h"
#include "common/lifecycle/shutdown_signals.h"
#include "common/logging/logging.h"
#include "common/metrics/metrics_server.h"
#include "inferd/batch_jobs/job_runner.h"
#include "inferd/batch_jobs/jobs_api.h"
#include "inferd/cli/accelerator_choice.h"
#include "inferd/server/grpc_front.h"
#include "inferd/server/http_front.h"
#include "inferd/server/version_follower.h"
#include "inferd/slice/slice_workers.h"
#include "inferd/slice/worker_addresses.h"

namespace tpustack::inferd::cli {

namespace {

using namespace tpustack::inferd::server;

struct ServeOptions {
  std::string config_file;
  std::string models_dir;
  std::vector<std::string> models;
  std::string listen = "0.0.0.0:8080";
  std::string grpc_listen = "0.0.0.0:50051";
  AcceleratorFlags accelerator;
  bool warmup = false;
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  batching::BatchLimits limits;
  std::string max_wait = "2ms";
  size_t max_queue = 1024;
  size_t max_queue_tokens = 0;
  std::vector<std::string> served_names;
  bool auto_truncate = true;
  int max_concurrent_requests = 512;
  std::vector<std::string> preload;
  uint64_t memory_budget = 0;
  InputLimits input;
  std::string request_timeout = "30s";
  std::string grace_period = "30s";
  std::string log_level = "info";
  std::string variant = "f32";
  std::string log_format = "text";
  bool log_json = false;
  std::string data_dir;
  size_t max_file_bytes = 200 << 20;
  generation::GenerativeOptions generation;
  std::string slice_routing = "on";
  std::string slice_call_timeout = "10s";
};

void add_flags(CLI::App& app, ServeOptions& o) {
  app.add_option("--config", o.config_file,
                 "YAML file of settings, each named after its flag in lowerCamelCase (--max-batch-tokens: "
                 "maxBatchTokens); a flag beats the file, and the file beats the INFERD_* environment variables "
                 "(INFERD_MAX_BATCH_TOKENS)");
  app.add_option("--models-dir", o.models_dir, "directory of model directories (name or owner/name)");
  app.add_option("--model", o.models, "NAME=DIR, repeatable");
  app.add_option("--listen", o.listen, "HTTP address")->capture_default_str();
  app.add_option("--grpc-listen", o.grpc_listen, "gRPC address")->capture_default_str();
  add_accelerator_flags(app, o.accelerator);
  app.add_flag("--warmup", o.warmup,
               "compile the PJRT backend's programs at load, not at first use: every encoder batch shape, every "
               "decoding step shape");
  app.add_option("--threads", o.threads, "engine threads per model")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--max-batch-tokens", o.limits.max_batch_tokens, "tokens per batch")->capture_default_str();
  app.add_option("--max-batch-requests", o.limits.max_batch_requests, "sequences per batch")->capture_default_str();
  app.add_option("--max-wait", o.max_wait, "longest wait for a batch to fill")->capture_default_str();
  app.add_option("--max-queue", o.max_queue, "queued sequences per model before 429")->capture_default_str();
  app.add_option("--max-queue-tokens", o.max_queue_tokens,
                 "queued tokens per model before 429 (a request larger than the queue gets 413); 0: 8 batches "
                 "of --max-batch-tokens")
      ->capture_default_str();
  app.add_option("--max-client-batch-size", o.input.max_inputs,
                 "inputs per request (OpenAI's /v1/embeddings takes up to 2048); larger ones are queued in parts of "
                 "this size")
      ->capture_default_str();
  app.add_option("--served-model-name", o.served_names,
                 "the name clients see: ALIAS for the one model served, ALIAS=NAME for model NAME; repeatable");
  app.add_option("--auto-truncate", o.auto_truncate,
                 "cut over-long inputs to the model's maximum unless a request says \"truncate\": false (as TEI)")
      ->capture_default_str();
  app.add_option("--max-concurrent-requests", o.max_concurrent_requests,
                 "HTTP requests answered at once; past it 503 with Retry-After")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--payload-limit", o.input.max_body_bytes, "request body bytes")->capture_default_str();
  app.add_option("--data-dir", o.data_dir,
                 "directory of the Files and Batch APIs' state (an SQLite database); without it /v1/files and "
                 "/v1/batches answer 404");
  app.add_option("--max-file-bytes", o.max_file_bytes, "bytes of one file uploaded to /v1/files")
      ->capture_default_str();
  app.add_option("--preload", o.preload, "models to load at start; /ready waits for them")->delimiter(',');
  app.add_option("--memory-budget", o.memory_budget, "bytes of weights loaded at once; 0: no limit")
      ->capture_default_str();
  app.add_option("--kv-cache-bytes", o.generation.kv_cache_bytes,
                 "bytes of each decoder's KV cache (keys and values of every layer; f32, or bf16 on a PJRT device in "
                 "bf16): the tokens its running sequences hold together; a request that finds no room gets 429")
      ->capture_default_str();
  app.add_option("--max-num-seqs", o.generation.max_sequences, "sequences a decoder runs at once (vLLM's flag)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-num-batched-tokens", o.generation.max_step_tokens,
                 "tokens one decoder step computes, decoding first, then prompt chunks (vLLM's flag)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout", o.request_timeout, "default per-request deadline")->capture_default_str();
  app.add_option("--grace-period", o.grace_period, "time to finish in-flight work after SIGTERM")
      ->capture_default_str();
  app.add_option("--variant", o.variant,
                 "number format of the products: f32, bf16, i8 (weights quantized at load), or auto (the fastest "
                 "that meets its accuracy bar on this CPU)")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16", "i8", "auto"}));
  app.add_option("--slice-routing", o.slice_routing,
                 "on a multi-host slice's leader (TPU_WORKER_ID 0 of several TPU_WORKER_HOSTNAMES), spread embed and "
                 "rerank work over every worker through their gRPC ports; off: each worker serves alone")
      ->capture_default_str()
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--slice-call-timeout", o.slice_call_timeout,
                 "longest wait for a follower's answer to one part before the part goes to another worker and the "
                 "follower is out (a stalled follower); the client's deadline still bounds it")
      ->capture_default_str();
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--log-format", o.log_format, "text, or json for one JSON object per line")->capture_default_str();
  app.add_flag("--log-json", o.log_json, "the same as --log-format json");
}

// Ends the process at `deadline` unless disarmed first: the grace period holds even when a handler or a model
// load does not finish.
class ShutdownDeadline {
 public:
  explicit ShutdownDeadline(std::chrono::steady_clock::time_point deadline)
      : thread_([this, deadline] {
          std::unique_lock lock(mu_);
          if (disarmed_.wait_until(lock, deadline, [this] { return done_; })) return;
          spdlog::warn("still stopping when the grace period ran out; exiting now");
          spdlog::default_logger()->flush();
          std::_Exit(1);
        }) {}
  ~ShutdownDeadline() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    disarmed_.notify_all();
    thread_.join();
  }
  ShutdownDeadline(const ShutdownDeadline&) = delete;
  ShutdownDeadline& operator=(const ShutdownDeadline&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable disarmed_;
  bool done_ = false;
  std::thread thread_;
};

// Waits for in-flight requests and queued work to finish, or for `until`.
void drain(const ServingState& state, const ModelPool& pool, std::chrono::steady_clock::time_point until) {
  while (std::chrono::steady_clock::now() < until && (state.in_flight > 0 || pool.pending() > 0)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (state.in_flight > 0) spdlog::warn("grace period over with {} requests still in flight", state.in_flight.load());
}

int serve(const ServeOptions& o) {
  // Before any thread starts: every thread inherits the blocked signals, and only the wait below takes them.
  const tpustack::lifecycle::ShutdownSignals signals;

  const DeviceEnvironment environment = read_device_environment();
  auto accelerator = choose_accelerator(o.accelerator, environment);
  if (!accelerator) {
    spdlog::error("{}", accelerator.error().message);
    return 1;
  }
  const BackendChoice* backend = &accelerator->choice;
  const std::shared_ptr<engine::pjrt::PjrtRuntime>& pjrt = accelerator->pjrt;
  auto role = worker_role(environment);
  if (!role) {
    spdlog::error("{}", role.error().message);
    return 1;
  }
  tpustack::metrics::MetricsRegistry registry;
  ServerMetrics metrics(registry);
  // It also decides every later version: the catalog at start follows the rules of every rescan.
  ModelVersionFollower follower({o.models_dir, o.models}, metrics);
  auto catalog = follower.initial_catalog();
  if (!catalog) {
    spdlog::error("{}", catalog.error().message);
    return 1;
  }
  if (auto named = apply_served_names(*catalog, o.served_names); !named) {
    spdlog::error("{}", named.error().message);
    return 1;
  }
  for (const std::string& name : o.preload) {
    if (!catalog->contains(name)) {
      spdlog::error("--preload {}: no such model in --models-dir or --model", name);
      return 1;
    }
  }
  batching::BatchLimits limits = o.limits;
  std::chrono::nanoseconds request_timeout, grace, slice_call_timeout;
  for (auto [text, duration] :
       {std::pair{&o.max_wait, &limits.max_wait}, std::pair{&o.request_timeout, &request_timeout},
        std::pair{&o.grace_period, &grace}, std::pair{&o.slice_call_timeout, &slice_call_timeout}}) {
    auto parsed = tpustack::config::parse_duration(*text);
    if (!parsed) {
      spdlog::error("{}", parsed.error().message);
      return 1;
    }
    *duration = *parsed;
  }
  std::unique_ptr<batch_jobs::JobStore> store;
  if (!o.data_dir.empty()) {
    auto opened = batch_jobs::JobStore::open(o.data_dir);
    if (!opened) {
      spdlog::error("{}", opened.error().message);
      return 1;
    }
    store = std::move(opened).value();
  }
  spdlog::info("backend {} ({}); worker {} of {} ({})", backend->backend, backend->reason, role->worker_id,
               role->workers, role->role);
  spdlog::info("open-file limit {} (each HTTP connection holds one)", tpustack::http::raise_open_file_limit());

  const auto precision = engine::parse_precision(o.variant);  // none for auto
  // A queue of a few batches' tokens: past it a client waits longer than a retry costs.
  const size_t max_queue_tokens = o.max_queue_tokens ? o.max_queue_tokens : 8 * limits.max_batch_tokens;
  PoolOptions pool_options{limits,    o.max_queue,      o.threads,    o.memory_budget,
                           precision, max_queue_tokens, o.generation, {}};
  if (pjrt) {
    pool_options.pjrt.runtime = pjrt;
    pool_options.pjrt.options.max_batch = limits.max_batch_requests;
    pool_options.pjrt.options.warmup = o.warmup;
  }
  ModelPool pool(*catalog, pool_options, metrics);
  InputLimits input = o.input;
  input.max_tokens = limits.max_batch_tokens;
  InferenceService service(pool, input, metrics);
  const auto concurrent = static_cast<size_t>(o.max_concurrent_requests);
  // Request threads tokenize: as many tokenization workers as requests answered at once.
  ServerInfo info{"0.1.0",
                  backend->backend,
                  *role,
                  environment.tpu_accelerator_type,
                  limits,
                  o.max_queue,
                  o.input.max_inputs,
                  o.variant,
                  o.auto_truncate,
                  concurrent,
                  concurrent,
                  max_queue_tokens,
                  pjrt};
  ServingState state;
  HttpApi api(service, info, state, registry, metrics, request_timeout);
  std::unique_ptr<batch_jobs::JobRunner> runner;
  std::unique_ptr<batch_jobs::JobsApi> jobs;
  if (store) {
    // One engine batch of lines at a time, in the capacity interactive requests leave.
    runner = std::make_unique<batch_jobs::JobRunner>(
        *store,
        [&api](const std::string& url, const std::string& body) {
          HttpReply reply = api.serve_background(url, body);
          return batch_jobs::EndpointAnswer{reply.status, std::move(reply.body)};
        },
        batch_jobs::JobRunnerOptions{limits.max_batch_requests});
    jobs = std::make_unique<batch_jobs::JobsApi>(
        *store, [&runner] { runner->wake(); }, o.max_file_bytes);
    api.serve_jobs(jobs.get());
  }
  std::unique_ptr<slice::SliceWorkers> slice_workers;  // outlives both fronts, whose handlers may be using it
  HttpFront http({o.listen, o.input.max_body_bytes, o.max_concurrent_requests, o.max_file_bytes}, api);
  GrpcFront grpc(o.grpc_listen, service, info, state);
  auto grpc_port = grpc.start();
  if (!grpc_port) {
    spdlog::error("{}", grpc_port.error().message);
    return 1;
  }
  if (role->role == "leader" && o.slice_routing == "on") {
    auto addresses = slice::worker_addresses(environment.tpu_worker_hostnames, *grpc_port);
    if (!addresses) {
      spdlog::error("{}", addresses.error().message);
      return 1;
    }
    spdlog::info("spreading embed and rerank work over the slice's {} workers", addresses->size());
    slice_workers =
        std::make_unique<slice::SliceWorkers>(std::move(addresses).value(), 0, registry, slice_call_timeout);
    service.spread_over(slice_workers.get());
  }
  if (auto serving = http.start(); !serving) {
    spdlog::error("{}", serving.error().message);
    return 1;
  }
  if (auto following = follower.start(pool); !following) {
    spdlog::error("{}", following.error().message);
    return 1;
  }
  spdlog::info("inferd serving {} models: HTTP on {}, gRPC on port {}", catalog->size(), o.listen, *grpc_port);
  if (runner) {
    runner->start();
    spdlog::info("batch jobs kept in {}", o.data_dir);
  }

  std::thread preloader([&] {
    for (const std::string& name : o.preload) {
      auto acquired = pool.acquire(name);
      if (!acquired) {
        spdlog::error("preload of {} failed: {}", name, acquired.error().message);
        return;  // never ready: the startup probe fails and Kubernetes restarts us with the reason in the log
      }
    }
    state.ready = true;
    grpc.update_health();
    spdlog::info("ready");
  });

  const std::string signal = signals.wait();
  spdlog::info("received {}; draining for up to {}", signal, tpustack::config::format_duration(grace));
  const auto until = std::chrono::steady_clock::now() + grace;
  ShutdownDeadline deadline(until + std::chrono::seconds(1));
  state.draining = true;
  // Batch lines in flight answer and are recorded; the rest wait in the store for the next start.
  if (runner) runner->stop();
  follower.stop();  // no version switches while the last requests finish
  grpc.update_health();
  drain(state, pool, until);
  // What is still queued fails now, so the handlers waiting for it answer 503 and the HTTP server stops at once.
  pool.stop();
  http.stop();
  grpc.stop(std::chrono::milliseconds(500));
  preloader.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& command) {
  auto options = std::make_shared<ServeOptions>();
  add_flags(command, *options);
  return [&command, options] {
    config::ConfigDocument config;
    if (!options->config_file.empty()) {
      auto loaded = config::ConfigDocument::load_file(options->config_file);
      if (!loaded) return tpustack::cli::usage_error(command, loaded.error().message);
      config = std::move(loaded).value();
    }
    if (auto filled = tpustack::cli::fill_unset_flags(command, config, "INFERD_"); !filled) {
      return tpustack::cli::usage_error(command, filled.error().message);
    }
    auto json = tpustack::logging::parse_json_format(options->log_format);
    if (!json) return tpustack::cli::usage_error(command, json.error().message);
    if (auto logged = tpustack::logging::setup_logging({options->log_level, options->log_json || *json}, "inferd");
        !logged) {
      return tpustack::cli::usage_error(command, logged.error().message);
    }
    return serve(*options);
  };
}

}  // namespace tpustack::inferd::cli
