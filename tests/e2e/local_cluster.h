#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/http_call.h"
#include "tests/e2e/node_agent.h"
#include "tests/e2e/scheduler_driver.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/child_process.h"

namespace tpustack::e2e {

// Where tpu-extender runs (POD_NAMESPACE), as the manifests deploy it: its Lease and shared reservations live there.
inline constexpr const char* kExtenderNamespace = "tpu-system";

struct ClusterOptions {
  std::string binary_dir;           // the build tree with deviceplugin/, extender/, inferd/
  std::string work_dir;             // logs, plugin directories, the kubeconfig
  std::vector<std::string> models;  // inferd --model NAME=DIR, the first one used for /embed
  std::string pool_deletion_grace = "2s";
  std::string simulated_node_delay = "1s";
  int max_pool_operations = 1;  // tpu-extender --max-pool-operations
  // The test scheduler's periodic flush of its unschedulable queue: kube-scheduler's 5 minutes by default, so
  // that a story relying on the flush instead of tpu-extender's nudges times out as it would on a cluster.
  std::chrono::nanoseconds scheduler_flush_interval = std::chrono::minutes(5);
  std::function<void(const std::string&)> narrate = [](const std::string&) {};
  // Start inferd in bound pods (the story); placement tests leave it off so that a tick is only scheduling.
  bool start_workers = true;
  // tpu-extender replicas behind one Service: the scheduler sends each request to one of them at random. With
  // more than one, the provisioner (if any) runs with leader election.
  int extender_replicas = 1;
  std::string provisioner = "simulated";  // tpu-extender --provisioner
  // A fake kubelet and the real tpu-device-plugin per Node. Off: Nodes are taken as created (allocatable
  // included), for placement tests with more nodes than processes are worth starting.
  bool node_agents = true;
  // tpu-extender's admission webhook (--webhook-listen, certificates of its own), registered with the fake API
  // server as the manifests register it: for pods in namespaces labelled tpustack.dev/inject=enabled, reached
  // through the Service tpu-system/tpu-extender-webhook. The namespace "default" is labelled.
  bool admission_webhook = false;
};

// How JobSet groups stand: placed whole, waiting with nothing bound, or split (some members bound, some not).
struct GroupTally {
  std::vector<std::string> placed, waiting, partial;
};

// A pod the cluster started: its container environment and the inferd serving in it.
struct RunningWorker {
  std::string pod;
  std::string node;
  std::map<std::string, std::string> env;
  std::unique_ptr<testing::ChildProcess> inferd;
  std::string url;  // http://127.0.0.1:PORT
  nlohmann::json info;
  int embed_dimensions = 0;
};

// One machine playing a TPU cluster with only the external systems faked: the fake API server in process,
// the real tpu-extender (placement and simulated provisioning) as a child process, per Node a fake kubelet
// and the real tpu-device-plugin, and per bound pod the real inferd with the container's environment.
// Every process it starts dies with it.
class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options);
  ~LocalCluster();

  fakes::FakeApiStore& store() { return api_.store(); }
  // Creates an object through the API server's REST API (admission included), as a controller would: the HTTP
  // status and the answer.
  HttpReply create(const std::string& collection_path, const nlohmann::json& object);
  // Every replica, each ready (its caches synced) before this returns.
  void start_extender();
  void kill_extender();
  // One replica, on the same address as before. Without `wait_ready` the scheduler may find it still listing.
  // Thread-safe against tick() (a test may kill and restart replicas from another thread).
  void start_extender(int replica, bool wait_ready);
  void kill_extender(int replica);  // SIGKILL
  bool extender_ready(int replica);
  // One round of the control loop: node agents for new Nodes (gone for deleted ones), allocatable in step with
  // the healthy chips, pods of deleted nodes replaced, a scheduling pass, and bound pods started.
  void tick();
  // Ticks until `done` holds or `timeout` passes.
  bool run_until(const std::function<bool()>& done, std::chrono::seconds timeout);

  std::map<std::string, NodeAgent*> agents();
  std::map<std::string, RunningWorker>& workers() { return workers_; }
  // Stops the group's inferd processes (SIGTERM), then marks its pods, Job and JobSet done.
  void finish_group(const std::string& ns, const std::string& name, int workers);
  // Restarts the inferd of a pod, as the kubelet restarts a container that died.
  void restart_worker(const std::string& pod);

  std::vector<nlohmann::json> nodes();
  std::vector<nlohmann::json> pods();
  // The JobSet groups of `workers` pods each, by their pods' bindings; groups in `finished` left out.
  GroupTally tally_groups(int workers, const std::set<std::string>& finished = {});
  const std::set<std::string>& pools_seen() const { return pools_seen_; }
  // Broken promises seen on any tick: a slice held by two groups, a group bound on two slices, a slice the shared
  // reservations promise to two groups or to another group than the one bound on it, a node with more chips
  // bound than it has, a group with nodes in two pools at once, a group's pool with more nodes than its slice
  // has hosts.
  const std::vector<std::string>& violations() const { return violations_; }
  // Unfinished pods whose node was deleted under them ("ns/pod on node"). Each tick does what
  // kube-controller-manager does for them (PodGC deletes the pod, its Job creates another, unbound); a test that
  // expects none says so.
  const std::vector<std::string>& orphaned_pods() const { return orphaned_; }
  const SchedulerDriver& scheduler() const { return *scheduler_; }
  std::string extender_output() const;
  // For a failed test's message: groups of `workers` pods partly bound (those in `finished` left out), the
  // violations, why pods wait, and tpu-extender's output.
  std::string diagnosis(int workers, const std::set<std::string>& finished = {});

 private:
  void register_webhook();
  void sync_nodes();
  void collect_orphans();
  void start_bound_pods();
  void start_worker(RunningWorker& worker, const nlohmann::json& pod);
  void check_promises();
  void check_pools();
  void violation(const std::string& text);

  ClusterOptions options_;
  fakes::FakeApiServer api_;
  std::string kubeconfig_;
  std::vector<std::string> extender_urls_;      // one per replica
  std::vector<std::string> webhook_addresses_;  // one per replica, with admission_webhook
  mutable std::mutex extenders_mu_;
  std::vector<std::unique_ptr<testing::ChildProcess>> extenders_;
  int extender_starts_ = 0;
  int nodes_started_ = 0;
  std::unique_ptr<SchedulerDriver> scheduler_;
  std::map<std::string, std::unique_ptr<NodeAgent>> agents_;
  std::map<std::string, RunningWorker> workers_;
  std::set<std::string> pools_seen_;
  std::vector<std::string> violations_;
  std::vector<std::string> orphaned_;
};

}  // namespace tpustack::e2e
