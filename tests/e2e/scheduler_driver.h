#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/http_call.h"
#include "tests/fakes/fake_api_store.h"

namespace tpustack::e2e {

// The secondary kube-scheduler (`schedulerName: tpu-scheduler`) with tpu-extender as its extender, as far
// as the story needs it: for each pending pod its own predicates (nodeSelector, taints, Ready, allocatable
// google.com/tpu), then POST /filter and /prioritize in the nodeCacheCapable form, the best node, POST /bind.
// A pod no node takes gets PodScheduled=False reason Unschedulable on its status, as kube-scheduler
// writes it; that is what the provisioner waits for.
//
// An attempt that failed on an error (the extender away or answering Error, a bind refused) is written as
// PodScheduled=False reason SchedulerError with the error, as kube-scheduler's handleSchedulingFailure does.
//
// Its queue behaves like kube-scheduler's (all versions since 1.19), inconvenient parts included: a pod that
// failed (a filter, the extender, a bind) is parked in the unschedulable queue and tried again only when
// - a Node is added, or a Node's labels, taints, allocatable, conditions or spec.unschedulable change;
// - an assigned pod is deleted (not when it merely finishes);
// - the pod itself is updated (labels, annotations or spec; status-only changes do not count);
// - or it has been parked for `flush_interval` (60 s in 1.20-1.21, 5 minutes from 1.22 on);
// and then not before its backoff (1 s, doubling per attempt, at most 10 s) has passed, unless the pod is
// updated while it waits out that backoff (an update moves a pod from the backoff queue to the active one).
// It never retries a pod just because another pod was bound, nor one whose attempt failed on an error sooner
// (since 1.28 kube-scheduler sends those to the backoff queue; before, it parks them like the rest). Like
// kube-scheduler, each cycle looks at the nodes from where the last one stopped and stops once it has found enough
// feasible ones (all below 100 nodes), and the bind runs on its own while the next pods are scheduled, the pod assumed
// on its node meanwhile.
//
// With several extender URLs (replicas behind one Service), each request goes to one of them chosen at random,
// as a new connection through a Service's virtual IP would. A replica that refuses the connection or answers an
// Error fails that attempt (filter, bind) like any non-ignorable extender; a failed prioritize only loses the
// extender's scores, as kube-scheduler ignores prioritize errors. There are no retries beyond the queue's.
class SchedulerDriver {
 public:
  using Narrate = std::function<void(const std::string&)>;
  using Clock = std::chrono::steady_clock;
  SchedulerDriver(fakes::FakeApiStore& store, std::vector<std::string> extender_urls, Narrate narrate,
                  std::chrono::nanoseconds flush_interval = std::chrono::minutes(5));
  ~SchedulerDriver();  // waits for the binds in flight

  // One pass of the queue onto `nodes`, the Nodes whose kubelet runs (kube-scheduler only sees nodes whose
  // status a kubelet keeps): the pods that are due, oldest first.
  void schedule_pending(const std::vector<nlohmann::json>& nodes);
  // Scheduling attempts made so far, for tests that show a pod was not retried.
  int attempts(const std::string& pod_key) const;
  // Why each pod's last attempt failed: "reason: message" as written on its PodScheduled condition.
  const std::map<std::string, std::string>& failures() const { return failures_; }

 private:
  // Empty when `node` passes kube-scheduler's own predicates for `pod`; else why not.
  std::string predicate_failure(const nlohmann::json& pod, const nlohmann::json& node,
                                const std::map<std::string, int>& used_chips) const;
  // False when the pod was not bound: it goes to the unschedulable queue.
  bool schedule(const nlohmann::json& pod, const std::vector<nlohmann::json>& nodes,
                const std::vector<nlohmann::json>& pods);
  // Writes PodScheduled=False with `reason` (Unschedulable: no node fits; SchedulerError: the attempt failed).
  void mark_failed(const nlohmann::json& pod, const std::string& reason, const std::string& message);
  // True when an event since the last pass moves every parked pod (a Node added or changed, an assigned pod
  // deleted); remembers what it saw for the next pass.
  bool cluster_event(const std::vector<nlohmann::json>& nodes, const std::vector<nlohmann::json>& pods);

  struct Parked {
    std::string fingerprint;  // the pod's labels, annotations and spec when it was tried
    Clock::time_point since;
    bool moved = false;             // an event moved it to the backoff queue; it runs once its backoff has passed
    std::string moved_fingerprint;  // as it was when moved: a later update sends it to the active queue
  };
  struct Attempts {
    int count = 0;
    Clock::time_point last;
  };

  // The replica a request goes to.
  const std::string& extender();
  // Takes the answers of binds that came back (all of them with `wait`): a refused one parks its pod.
  void finish_binds(bool wait);

  // A pod in its binding cycle: assumed on `node` (its chips taken) until the extender's bind answers.
  struct Binding {
    nlohmann::json pod;
    std::string node;
    int chips = 0;
    std::string fingerprint;
    std::string url;  // the replica asked
    std::future<HttpReply> reply;
  };

  fakes::FakeApiStore& store_;
  std::vector<std::string> extender_urls_;
  std::mt19937 pick_;
  Narrate narrate_;
  std::chrono::nanoseconds flush_interval_;
  std::map<std::string, std::string> failures_;
  std::map<std::string, Parked> parked_;
  std::map<std::string, Attempts> attempts_;
  std::map<std::string, std::string> node_fingerprints_;
  std::size_t next_start_node_ = 0;
  std::vector<Binding> binding_;  // where the next cycle's node search begins (nextStartNodeIndex)
  std::set<std::string> assigned_;
};

// The google.com/tpu a pod asks for (the sum over its containers' requests).
int tpu_request(const nlohmann::json& pod);

}  // namespace tpustack::e2e
