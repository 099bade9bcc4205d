#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics/metrics_registry.h"
#include "extender/model/cluster_state.h"
#include "extender/model/reservation_ledger.h"
#include "extender/placement/bind_admission.h"
#include "extender/placement/bind_decision.h"
#include "extender/placement/slice_reservation.h"
#include "extender/service/pod_binder.h"
#include "extender/service/shared_reservations.h"

namespace tpustack::extender {

// The extender's verbs over one ClusterState, fed by informers. Request bodies in, response bodies
// out, so it is tested without sockets; HTTP is a thin shell around it. Thread-safe.
class ExtenderService {
 public:
  // `scheduler_names`: the kube-scheduler profiles whose pods the extender binds and preempts for
  // (placement/bind_admission.h).
  ExtenderService(PodBinder& binder, metrics::MetricsRegistry& registry,
                  SchedulerNames scheduler_names = {"tpu-scheduler"});

  // Informer events (Node and Pod objects as the API server sends them). Objects that cannot be read
  // are logged and skipped.
  void apply_node(const nlohmann::json& node);
  void delete_node(const nlohmann::json& node);
  void apply_pod(const nlohmann::json& pod);
  void delete_pod(const nlohmann::json& pod);

  // Until set, every verb answers an Error: placing pods before reservations are rebuilt from the
  // cluster could double-book a slice. Every pending TPU pod of our schedulers counts as waiting then:
  // kube-scheduler may have parked it while the extender was away.
  void set_synced();
  bool synced() const { return synced_; }

  // Reservations live in `ledger`, shared with the other replicas, instead of this process's memory (call before
  // the first request): filter answers that a slice is a group's only once the ledger has it (an Error when the
  // API cannot be reached), bind confirms it there first, and upkeep's releases are made there.
  void share_reservations(SharedReservations& ledger);
  // The ledger's ConfigMap as its informer delivers it.
  void apply_reservations(const nlohmann::json& config_map);

  // Every body is the verb's JSON type; a request the verb cannot answer gets it with Error set. filter and
  // bind answer 200 even then (kube-scheduler reads their Error); prioritize and preempt, whose types
  // kube-scheduler reads no Error from, answer 400 (bad body, a pod that is not ours), 503 (not synced) or
  // 500.
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
  // is nudged at most once per `nudge_interval`. A pod nudged or accepted that is still not bound a while
  // later (5 s, doubling up to 5 minutes) is nudged again although nothing changed: its retry was lost (a
  // bind that failed on a replica being killed), and kube-scheduler would leave it parked for 5 minutes.
  Upkeep upkeep(std::chrono::steady_clock::time_point now, std::chrono::nanoseconds group_timeout,
                std::chrono::nanoseconds nudge_interval = std::chrono::seconds(1));

 private:
  Result<void> bind_pod(std::string_view body);
  // The ExtenderFilterResult to answer, or the Error for its Error field.
  Result<std::string> filter_answer(std::string_view body);
  // prioritize's and preempt's shell: 503 until synced, `decide`'s answer or its Error as 400/409, 500 for an
  // exception (a fault of ours), each observed in the metrics.
  Reply answer_verb(const char* verb, const std::function<Result<std::string>()>& decide);
  // The shared ledger's part of each verb (share_reservations); the lock is not held while they call the API.
  Result<ReservingFilter> reserve_shared(std::unique_lock<std::mutex>& lock, const TpuPod& pod,
                                         const std::vector<std::string>& nodes, ReservingFilter filtered);
  Result<void> confirm_shared(const std::string& pod_key, const Placement& placement);
  std::vector<GroupNotice> release_shared(std::chrono::steady_clock::time_point now,
                                          std::chrono::nanoseconds group_timeout);
  // Reservations to release now (lost slices, incomplete groups), with their Events. Needs mu_.
  std::vector<std::pair<std::string, GroupNotice>> releases_due(std::chrono::steady_clock::time_point now,
                                                                std::chrono::nanoseconds group_timeout);
  // Takes a copy of the ledger newer than the one mirrored into state_. Needs mu_.
  void mirror(const ReservationLedger& ledger);
  void observe(const char* verb, const char* outcome, double seconds);
  Reply verb_error(const char* verb, int status, std::string_view message, double seconds);

  // A TPU pod the last filter found no node for: kube-scheduler has parked it and will not ask again
  // on its own until an event it knows of, or its periodic flush (5 minutes since 1.22).
  struct WaitingPod {
    std::chrono::steady_clock::time_point last_nudge{};
    // Nudged or accepted: judged again at this time even without a change, unless bound by then.
    std::optional<std::chrono::steady_clock::time_point> retry_at;
    int nudges = 0;
    bool accepted = false;     // the last filter passed it: judged only when its retry is due
    bool after_error = false;  // parked after an error (PodScheduled reason SchedulerError): nudged without a fit
    // A refused bind names a pod the informer may not have delivered yet; one that never comes (a made-up
    // name) is forgotten a minute later, so refused binds cannot grow this list.
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  };
  // Adds `request`'s pod (a member of a multislice unit that cannot be made whole) to its unit's Event.
  void note_unit_waiting(const PodRequest& request, std::map<std::string, GroupNotice>& unit_waits);
  void note_filter_answer(const std::string& pod_key, bool waiting, std::chrono::steady_clock::time_point now);

  PodBinder& binder_;
  const SchedulerNames scheduler_names_;
  std::mutex mu_;
  ClusterState state_;
  std::map<std::string, WaitingPod> waiting_;
  SharedReservations* shared_ = nullptr;  // null: reservations in memory only (tests, one process)
  ReservationLedger ledger_;              // the newest copy of the shared ledger seen
  std::set<std::string> groups_left_;     // ledger groups this replica saw a pod of go away
  // Multislice units told to wait (MultisliceWaiting Events): unit key → the reason told, so each is told once.
  std::map<std::string, std::string> unit_waits_told_;
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
