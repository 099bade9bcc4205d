#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/metrics_registry.h"
#include "common/result/result.h"
#include "inferd/batching/ticket.h"
#include "inferd/slice/slice_router.h"
#include "proto/inferd/v1/inferd.grpc.pb.h"

namespace tpustack::inferd::slice {

// A unit's rows as a follower computed them, before the leader's own finishing (normalisation, sigmoid).
struct RemoteRows {
  batching::Rows rows;
  Clock::duration queue{}, inference{};
};

// A call to a follower in flight. The gRPC library completes it on its own threads, so the request thread that
// waits here may give up (deadline, client gone) and leave at once: the call's state outlives it.
class FollowerCall {
 public:
  struct State;
  explicit FollowerCall(std::shared_ptr<State> state) : state_(std::move(state)) {}
  ~FollowerCall();  // cancels the call if it is still running
  FollowerCall(const FollowerCall&) = delete;
  FollowerCall& operator=(const FollowerCall&) = delete;

  // True once the follower answered or the call failed, waiting at most until `until`.
  bool wait_until(Clock::time_point until);
  // After wait_until: the rows, or the gRPC status that says why not.
  Result<RemoteRows> take();
  // Whether a failure was the follower's full queue (RESOURCE_EXHAUSTED), not a fault of the follower.
  bool busy() const;

 private:
  std::shared_ptr<State> state_;
};

// The leader's side of serving across a slice: one gRPC channel per follower, inferd.v1 Embed and Rerank calls with
// the client's deadline, a prober thread that sends Health to workers out once their backoff passed, and the
// SliceRouter that decides, behind a lock. Its metrics: inferd_slice_batches_total{worker},
// inferd_slice_worker_up{worker}, inferd_slice_retries_total.
class SliceWorkers {
 public:
  // A follower's call ends at the client's deadline or `call_timeout` after it began, whichever comes first: a
  // follower that stalls (stopped, its connection hanging) is out then, and its part goes elsewhere in time.
  SliceWorkers(std::vector<std::string> addresses, size_t self, tpustack::metrics::MetricsRegistry& registry,
               Clock::duration call_timeout,
               retry::Backoff::Policy policy = {std::chrono::milliseconds(250), std::chrono::seconds(5), 2.0, 0.5});
  ~SliceWorkers();
  SliceWorkers(const SliceWorkers&) = delete;
  SliceWorkers& operator=(const SliceWorkers&) = delete;

  size_t self() const { return self_; }
  // SliceRouter::choose, counted in the metrics; `retry` when the unit failed elsewhere before.
  size_t choose(size_t sequences, const std::set<size_t>& excluded, bool retry);
  void finished(size_t worker, size_t sequences);
  void failed(size_t worker, size_t sequences, const std::string& error, bool busy);

  std::unique_ptr<FollowerCall> embed(size_t worker, const ::inferd::v1::EmbedRequest& request,
                                      Clock::time_point deadline);
  std::unique_ptr<FollowerCall> rerank(size_t worker, const ::inferd::v1::RerankRequest& request,
                                       Clock::time_point deadline);

  std::vector<WorkerStatus> workers() const;

 private:
  void probe_loop();
  struct Probe;
  // Sends Health to the due workers not already probed, each on its own, so that a follower that stalls holds back
  // nobody else's return; applies the outcomes that came back.
  void probe_due(std::unique_lock<std::mutex>& lock);
  // Applies the answered probes to the router; whether any was.
  bool apply_probes();
  void publish_up(const std::vector<WorkerStatus>& workers);

  size_t self_;
  Clock::duration call_timeout_;
  std::vector<std::unique_ptr<::inferd::v1::Inferd::Stub>> stubs_;  // none for self
  tpustack::metrics::Family<tpustack::metrics::Counter>& batches_;
  tpustack::metrics::Family<tpustack::metrics::Gauge>& up_;
  tpustack::metrics::Counter& retries_;
  mutable std::mutex mu_;
  SliceRouter router_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<size_t, std::unique_ptr<Probe>> probes_;  // in flight or answered, by worker; the prober erases them
  std::thread prober_;
};

}  // namespace tpustack::inferd::slice
