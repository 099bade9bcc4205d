#include "inferd/slice/slice_workers.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <random>

namespace tpustack::inferd::slice {

struct FollowerCall::State {
  grpc::ClientContext context;
  std::mutex mu;
  std::condition_variable answered;
  bool done = false;
  grpc::Status status;
  RemoteRows rows;
};

namespace {

Clock::duration from_ns(uint64_t ns) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns));
}

std::chrono::system_clock::time_point on_system_clock(Clock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline - Clock::now());
}

// Starts `call` (a stub's async() method) and returns at once; `rows_of` turns the answer into rows when it comes.
template <class Request, class Response, class Call, class RowsOf>
std::unique_ptr<FollowerCall> start_call(Call call, const Request& request, Clock::time_point deadline,
                                         RowsOf rows_of) {
  auto state = std::make_shared<FollowerCall::State>();
  auto sent = std::make_shared<Request>(request);  // gRPC may serialize it after the call started
  auto response = std::make_shared<Response>();
  state->context.set_deadline(on_system_clock(deadline));
  call(&state->context, sent.get(), response.get(), [state, sent, response, rows_of](grpc::Status status) {
    RemoteRows rows;
    if (status.ok()) {
      rows = rows_of(*response);
      rows.queue = from_ns(response->metadata().queue_time_ns());
      rows.inference = from_ns(response->metadata().inference_time_ns());
    }
    std::lock_guard lock(state->mu);
    state->status = std::move(status);
    state->rows = std::move(rows);
    state->done = true;
    state->answered.notify_all();
  });
  return std::make_unique<FollowerCall>(state);
}

std::string worker_label(size_t worker) { return std::to_string(worker); }

}  // namespace

FollowerCall::~FollowerCall() {
  bool done;
  {
    std::lock_guard lock(state_->mu);
    done = state_->done;
  }
  // Outside the lock: gRPC may run the completion, which takes it, on this thread.
  if (!done) state_->context.TryCancel();
}

bool FollowerCall::wait_until(Clock::time_point until) {
  std::unique_lock lock(state_->mu);
  return state_->answered.wait_until(lock, until, [this] { return state_->done; });
}

Result<RemoteRows> FollowerCall::take() {
  std::lock_guard lock(state_->mu);
  if (!state_->status.ok()) {
    return Error{"gRPC " + std::to_string(state_->status.error_code()) + ": " + state_->status.error_message()};
  }
  return std::move(state_->rows);
}

bool FollowerCall::busy() const {
  std::lock_guard lock(state_->mu);
  return state_->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

SliceWorkers::SliceWorkers(std::vector<std::string> addresses, size_t self,
                           tpustack::metrics::MetricsRegistry& registry, Clock::duration call_timeout,
                           retry::Backoff::Policy policy)
    : self_(self),
      call_timeout_(call_timeout),
      batches_(registry.counter("inferd_slice_batches_total",
                                "Units of work (request parts) the leader gave each worker of the slice, itself "
                                "included",
                                {"worker"})),
      up_(registry.gauge("inferd_slice_worker_up", "1 while the leader sends work to the worker, 0 while it is out",
                         {"worker"})),
      retries_(registry.counter("inferd_slice_retries_total", "Units re-sent after a worker failed them").unlabelled()),
      router_(addresses, self, policy, std::random_device{}()) {
  // The channel's own reconnection follows the probes' pace, so a worker that came back is reached at the next probe.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(policy.initial.count()));
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(policy.initial.count()));
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(policy.max.count()));
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < addresses.size(); ++i) {
    batches_.labels({worker_label(i)});
    if (i == self) {
      stubs_.emplace_back();
      continue;
    }
    stubs_.push_back(::inferd::v1::Inferd::NewStub(
        grpc::CreateCustomChannel(addresses[i], grpc::InsecureChannelCredentials(), arguments)));
    router_.start_out(i, "not reached yet", now);
  }
  publish_up(router_.workers());
  prober_ = std::thread([this] { probe_loop(); });
}

SliceWorkers::~SliceWorkers() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  prober_.join();
}

size_t SliceWorkers::choose(size_t sequences, const std::set<size_t>& excluded, bool retry) {
  size_t worker;
  {
    std::lock_guard lock(mu_);
    worker = router_.choose(sequences, excluded);
  }
  batches_.labels({worker_label(worker)}).inc();
  if (retry) retries_.inc();
  return worker;
}

void SliceWorkers::finished(size_t worker, size_t sequences) {
  std::lock_guard lock(mu_);
  router_.finished(worker, sequences);
}

void SliceWorkers::failed(size_t worker, size_t sequences, const std::string& error, bool busy) {
  std::vector<WorkerStatus> now;
  {
    std::lock_guard lock(mu_);
    const bool was_serving = router_.workers()[worker].serving;
    router_.failed(worker, sequences, error, busy, Clock::now());
    now = router_.workers();
    if (was_serving && !now[worker].serving)
      spdlog::warn("slice worker {} ({}) is out: {}", worker, now[worker].address, error);
  }
  publish_up(now);
}

std::unique_ptr<FollowerCall> SliceWorkers::embed(size_t worker, const ::inferd::v1::EmbedRequest& request,
                                                  Clock::time_point deadline) {
  auto* stub = stubs_.at(worker)->async();
  return start_call<::inferd::v1::EmbedRequest, ::inferd::v1::EmbedResponse>(
      [stub](auto... args) { stub->Embed(args...); }, request, std::min(deadline, Clock::now() + call_timeout_),
      [](const ::inferd::v1::EmbedResponse& response) {
        RemoteRows out;
        for (const auto& embedding : response.embeddings()) {
          out.rows.width = static_cast<size_t>(embedding.values_size());
          out.rows.values.insert(out.rows.values.end(), embedding.values().begin(), embedding.values().end());
        }
        return out;
      });
}

std::unique_ptr<FollowerCall> SliceWorkers::rerank(size_t worker, const ::inferd::v1::RerankRequest& request,
                                                   Clock::time_point deadline) {
  auto* stub = stubs_.at(worker)->async();
  return start_call<::inferd::v1::RerankRequest, ::inferd::v1::RerankResponse>(
      [stub](auto... args) { stub->Rerank(args...); }, request, std::min(deadline, Clock::now() + call_timeout_),
      [](const ::inferd::v1::RerankResponse& response) {
        // Ranks come best first: back into text order, one score per row as the local batcher gives them.
        RemoteRows out;
        out.rows.width = 1;
        out.rows.values.assign(static_cast<size_t>(response.ranks_size()), 0.0f);
        for (const auto& rank : response.ranks()) {
          if (rank.index() < out.rows.values.size()) out.rows.values[rank.index()] = rank.score();
        }
        return out;
      });
}

std::vector<WorkerStatus> SliceWorkers::workers() const {
  std::lock_guard lock(mu_);
  return router_.workers();
}

void SliceWorkers::publish_up(const std::vector<WorkerStatus>& workers) {
  for (size_t i = 0; i < workers.size(); ++i) up_.labels({worker_label(i)}).set(workers[i].serving ? 1 : 0);
}

struct SliceWorkers::Probe {
  grpc::ClientContext context;
  ::inferd::v1::HealthRequest request;
  ::inferd::v1::HealthResponse response;
  grpc::Status status;
  bool answered = false;  // under mu_

  // nullopt when the worker is serving, else why not.
  std::optional<std::string> outcome() const {
    if (!status.ok()) {
      return "Health: gRPC " + std::to_string(status.error_code()) + ": " + status.error_message();
    }
    if (!response.ready()) return std::string("Health: not ready (loading its models or shutting down)");
    return std::nullopt;
  }
};

bool SliceWorkers::apply_probes() {
  bool applied = false;
  for (auto it = probes_.begin(); it != probes_.end();) {
    if (!it->second->answered) {
      ++it;
      continue;
    }
    const size_t worker = it->first;
    const std::optional<std::string> error = it->second->outcome();
    router_.probed(worker, error, Clock::now());
    if (!error) spdlog::info("slice worker {} ({}) is serving", worker, router_.workers()[worker].address);
    it = probes_.erase(it);
    applied = true;
  }
  return applied;
}

void SliceWorkers::probe_due(std::unique_lock<std::mutex>& lock) {
  std::vector<std::pair<size_t, Probe*>> started;
  for (size_t worker : router_.probes_due(Clock::now())) {
    auto [it, added] = probes_.try_emplace(worker, nullptr);
    if (!added) continue;  // still in flight
    it->second = std::make_unique<Probe>();
    it->second->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    started.emplace_back(worker, it->second.get());
  }
  // Outside the lock: gRPC may run a completion, which takes it, on this thread. Only this thread erases probes.
  lock.unlock();
  for (auto [worker, probe] : started) {
    stubs_.at(worker)->async()->Health(&probe->context, &probe->request, &probe->response,
                                       [this, probe](grpc::Status status) {
                                         std::lock_guard answered(mu_);
                                         probe->status = std::move(status);
                                         probe->answered = true;
                                         wake_.notify_all();
                                       });
  }
  lock.lock();
}

void SliceWorkers::probe_loop() {
  const auto any_answered = [this] {
    return std::any_of(probes_.begin(), probes_.end(), [](const auto& entry) { return entry.second->answered; });
  };
  std::unique_lock lock(mu_);
  while (true) {
    if (apply_probes()) {
      const auto now = router_.workers();
      lock.unlock();
      publish_up(now);
      lock.lock();
    }
    if (stopping_) break;
    probe_due(lock);
    wake_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_ || any_answered(); });
  }
  // The callbacks of probes in flight name this object: cancel them and wait until each has run.
  std::vector<Probe*> in_flight;
  for (auto& [worker, probe] : probes_) in_flight.push_back(probe.get());
  lock.unlock();
  for (Probe* probe : in_flight) probe->context.TryCancel();
  lock.lock();
  wake_.wait(lock, [this] {
    return std::all_of(probes_.begin(), probes_.end(), [](const auto& entry) { return entry.second->answered; });
  });
}

}  // namespace tpustack::inferd::slice
