#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/kube/informer.h"
#include "common/kube/kube_client.h"
#include "common/metrics/metrics_registry.h"
#include "common/retry/backoff.h"
#include "extender/provisioner/lease_elector.h"
#include "extender/provisioner/node_pool_provider.h"
#include "extender/provisioning/provider_error.h"
#include "extender/provisioning/provisioning_plan.h"

namespace tpustack::provisioning {

struct ControllerSettings {
  PlanSettings plan;
  int max_operations = 1;  // pool operations in flight at once (GKE allows 5 per cluster, and they conflict)
  std::chrono::milliseconds resync{1000};  // a round at least this often, so a new leader waits < 2 s
  // Retry delays per failure kind (exponential with jitter).
  retry::Backoff::Policy transient_retry{std::chrono::seconds(2), std::chrono::seconds(120), 2.0, 0.5};
  retry::Backoff::Policy capacity_retry{std::chrono::seconds(60), std::chrono::seconds(900), 2.0, 0.5};
  retry::Backoff::Policy permanent_retry{std::chrono::seconds(300), std::chrono::seconds(1800), 2.0, 0.5};
  std::optional<LeaseSettings> lease;  // nullopt: no election, this replica always provisions
};

// The provisioning loop inside `tpu-extender serve`: each round reads pods and nodes (from informer
// caches once started, else by listing), pools and owners,
// asks plan_provisioning() what to do, and runs the pool operations on worker threads, at most
// max_operations at once. Failures back off per pool; Events go to the waiting pod (creation) or the
// pool's owner, the group's or the workload's (resize, deletion).
class ProvisioningController {
 public:
  ProvisioningController(kube::KubeClient& client, NodePoolProvider& provider, ControllerSettings settings,
                         metrics::MetricsRegistry& registry);
  ~ProvisioningController();
  ProvisioningController(const ProvisioningController&) = delete;
  ProvisioningController& operator=(const ProvisioningController&) = delete;

  // Starts Pod and Node informers (a round runs as soon as a leader turns Unschedulable), the Lease
  // and the loop.
  void start();
  // Cancels operations in flight (GKE's go on server-side; the pools are found again on restart).
  void stop();
  // Runs a round now instead of at the next resync.
  void notify();
  // One round: what the loop runs; tests call it directly.
  void reconcile_once();

  bool leading() const { return leading_.load(); }
  int operations_in_flight() const;
  // Why this replica is not ready: the Lease could not be taken (the API refused or did not answer)
  // for longer than one lease period, so nothing is provisioned. nullopt when ready, including while
  // another live replica leads.
  std::optional<std::string> unready_reason() const;

 private:
  struct Operation {
    std::jthread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  struct Failure {
    FailureKind kind;
    retry::Backoff backoff;
    Clock::time_point not_before;
  };
  struct AwaitingReady {
    Clock::time_point triggered;
    int nodes = 0;
  };
  // One pool operation as logs, Events and metrics tell it.
  struct PoolOperation {
    std::string pool;
    std::string kind;          // "create", "resize", "delete": the failure metric's label
    std::string event_prefix;  // "NodePoolCreation": + Started, Succeeded, Failed
    nlohmann::json involved;   // the object the Events are about
    std::string what_for;      // for the logs when `started` does not say: "pod default/p"
    std::string started;       // "creating node pool P (...) via gke"
    std::string succeeded;     // "node pool P (...) created"
    metrics::Counter* succeeded_total;
    std::function<Result<void>(std::stop_token)> work;
    std::function<void()> on_success;  // bookkeeping, with mu_ held
  };

  void run(std::stop_token stop);
  // Renews the Lease on its own thread, so a long round never lets it lapse.
  void keep_lease(std::stop_token stop);
  void note_lease(const LeaseAttempt& attempt);
  Result<ClusterSnapshot> read_cluster();
  std::map<std::string, OwnerState> read_owners(const std::vector<PoolState>& pools, const std::vector<PodFacts>& pods);
  void report_blocked(const std::vector<Blocked>& blocked);
  void observe_ready(const std::vector<NodeFacts>& nodes);
  void launch(PoolOperation operation);
  PoolOperation create_operation(const CreateAction& action, Clock::time_point triggered);
  PoolOperation resize_operation(const ResizeAction& action, const PoolState& pool);
  PoolOperation delete_operation(const DeleteAction& action, const PoolState& pool);
  void execute(const PoolOperation& operation, std::stop_token stop);
  // Returns the retry delay chosen for the pool.
  std::chrono::milliseconds record_failure(const std::string& pool, FailureKind kind);
  void event(const nlohmann::json& involved, kube::EventType type, const std::string& reason,
             const std::string& message);
  void reap_finished();

  kube::KubeClient& client_;
  NodePoolProvider& provider_;
  ControllerSettings settings_;
  std::optional<LeaseElector> elector_;
  std::atomic<bool> leading_{false};

  metrics::Counter& created_;
  metrics::Counter& resized_;
  metrics::Counter& deleted_;
  metrics::Family<metrics::Counter>& failed_;
  metrics::Gauge& in_flight_gauge_;
  metrics::Gauge& leader_gauge_;
  metrics::Histogram& trigger_to_ready_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  bool notified_ = false;
  std::map<std::string, Operation> operations_;  // by pool name
  std::map<std::string, Failure> failures_;      // by pool name
  std::map<std::string, Clock::time_point> surplus_since_;
  std::map<std::string, int> asked_nodes_;                    // see ClusterSnapshot::asked_nodes
  std::map<std::string, Clock::time_point> first_triggered_;  // by leader pod uid
  std::map<std::string, std::string> last_blocked_reason_;    // by leader pod uid, to send each Event once
  std::map<std::string, AwaitingReady> awaiting_ready_;       // created pools, by name
  std::optional<Clock::time_point> lease_failing_since_;
  std::string lease_failure_;
  std::optional<Clock::time_point> lease_warned_at_;
  std::unique_ptr<kube::Informer> pods_;
  std::unique_ptr<kube::Informer> nodes_;
  std::jthread lease_loop_;
  std::jthread loop_;
};

}  // namespace tpustack::provisioning
