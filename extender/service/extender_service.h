#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics/metrics_registry.h"
#include "extender/model/cluster_state.h"
#include "extender/service/pod_binder.h"

namespace tpustack::extender {

// The extender's verbs over one ClusterState, fed by informers. Request bodies in, response bodies
// out, so it is tested without sockets; HTTP is a thin shell around it. Thread-safe.
class ExtenderService {
 public:
  ExtenderService(PodBinder& binder, metrics::MetricsRegistry& registry);

  // Informer events (Node and Pod objects as the API server sends them). Objects that cannot be read
  // are logged and skipped.
  void apply_node(const nlohmann::json& node);
  void delete_node(const nlohmann::json& node);
  void apply_pod(const nlohmann::json& pod);
  void delete_pod(const nlohmann::json& pod);

  // Until set, every verb answers an Error: placing pods before reservations are rebuilt from the
  // cluster could double-book a slice. Every pending TPU pod counts as waiting then: kube-scheduler may
  // have parked it while the extender was away.
  void set_synced();
  bool synced() const { return synced_; }

  struct Reply {
    int status = 200;
    std::string body;
  };
  Reply filter(std::string_view body);
  Reply prioritize(std::string_view body);
  Reply bind(std::string_view body);
  Reply preempt(std::string_view body);
  // The model as JSON: slices, their hosts' free chips and holders, and the groups.
  std::string debug_slices();
  // Groups placed/waiting and slices free/reserved, for /metrics.
  void refresh_gauges();

  // What the extender must tell the cluster after its state changed (ReservationUpkeep acts on it):
  // pods to update so that kube-scheduler retries them now, and Events on a group's pods.
  struct PodRef {
    std::string ns;
    std::string name;
    std::string uid;
  };
  struct GroupNotice {
    std::string group;  // for people
    std::string reason;
    std::string message;
    bool warning = false;
    std::vector<PodRef> pods;
  };
  struct Upkeep {
    std::vector<PodRef> nudge;         // waiting pods the extender would now accept somewhere
    std::vector<GroupNotice> nudged;   // the same, one line per group, for the log
    std::vector<GroupNotice> notices;  // Events to record
  };
  // Releases reservations that no longer hold (another pod took the slice's chips) or whose group has not
  // fully arrived within `group_timeout` (zero: never), and finds waiting pods whose answer changed. A pod
  // is nudged at most once per `nudge_interval`.
  Upkeep upkeep(std::chrono::steady_clock::time_point now, std::chrono::nanoseconds group_timeout,
                std::chrono::nanoseconds nudge_interval = std::chrono::seconds(1));

 private:
  std::string bind_pod(std::string_view body);
  void observe(const char* verb, const char* outcome, double seconds);

  // A TPU pod the last filter found no node for: kube-scheduler has parked it and will not ask again
  // on its own until an event it knows of, or its periodic flush (5 minutes since 1.22).
  struct WaitingPod {
    std::chrono::steady_clock::time_point last_nudge{};
  };
  void note_filter_answer(const std::string& pod_key, bool waiting);

  PodBinder& binder_;
  std::mutex mu_;
  ClusterState state_;
  std::map<std::string, WaitingPod> waiting_;
  // Bumped on every change that may change an answer; upkeep re-judges waiting pods only after one.
  std::uint64_t generation_ = 0;
  std::uint64_t judged_generation_ = 0;
  std::atomic<bool> synced_{false};
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& latency_;
  metrics::Family<metrics::Gauge>& groups_;
  metrics::Family<metrics::Gauge>& slices_;
};

}  // namespace tpustack::extender
