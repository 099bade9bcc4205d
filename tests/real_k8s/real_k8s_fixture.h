#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/real_k8s/kubelet_emulator.h"
#include "tests/real_k8s/real_control_plane.h"
#include "tests/support/child_process.h"

namespace tpustack::testing {

// A pod as a user writes one for TPUs: `schedulerName: tpu-scheduler`, `chips` google.com/tpu as request and
// limit, the accelerator and topology node selectors, and the toleration of GKE's google.com/tpu taint.
nlohmann::json tpu_pod(const std::string& name, const std::string& accelerator, const std::string& topology, int chips);

// A JobSet with one replicated job of `workers` pods, each on one host of a v6e slice of `topology`, named and
// labelled as the JobSet and Job controllers make them: child Job <jobset>-workers-0, pod i with hostname
// <job>-i in the JobSet's subdomain.
struct JobSetGroup {
  std::string jobset;
  std::string topology = "4x4";
  int workers = 4;
  int chips = 4;  // per pod: a whole 4-chip host

  std::string job() const { return jobset + "-workers-0"; }
  std::string pod_name(int worker) const;  // <job>-<i>-<suffix>, as the Job controller names them
  std::string hostname(int worker) const { return job() + "-" + std::to_string(worker); }
  // TPU_WORKER_HOSTNAMES as libtpu needs it: every worker's stable DNS name, worker 0 first.
  std::string worker_hostnames() const;
};

// A real control plane per test (kube-scheduler v1.20.2 with tpu-extender as its extender), with the pieces the
// scenarios combine: TPU slices, JobSet groups, tpu-extender runs (and kills), and kubelets for new nodes.
// Skips (fails under CI=true) when scripts/build-kubernetes.sh has not built Kubernetes. On a failure the
// scheduler's and every tpu-extender's log tail is printed and the work directory kept.
class RealK8sTest : public ::testing::Test {
 protected:
  using Clock = std::chrono::steady_clock;

  void SetUp() override;
  void TearDown() override;

  RealControlPlane& cluster() { return *control_plane_; }
  kube::KubeClient& client() { return control_plane_->client(); }

  // Starts `tpu-extender serve` with `args` after the kubeconfig and addresses, and waits until it is ready.
  // Every run listens on the same verbs address, so kube-scheduler's configuration stays right across a restart.
  void start_extender(const std::vector<std::string>& args = {"--provisioner", "none"});
  static std::string tls_file(const std::string& name);
  // SIGKILL: no chance to write anything down, as when its node dies.
  void kill_extender();
  // kube-scheduler with tpu-extender as its extender; its queue's timings are v1.20's defaults.
  void start_scheduler();
  // From now on new TPU nodes become Ready with their chips allocatable, as their kubelets would make them.
  void start_kubelets();
  KubeletEmulator& kubelets() { return *kubelets_; }

  // A node pool of `hosts` Ready v6e hosts of 4 chips, one slice of `topology`, tainted as GKE taints TPU nodes.
  // Returns the node names, host 0 first (their sorted order).
  std::vector<std::string> create_slice(const std::string& pool, const std::string& topology, int hosts);
  // A node of the cluster's default pool: no TPU, no taint. Real clusters have one, so kube-scheduler's own filters
  // run (and reject it) instead of finding no node at all.
  void create_cpu_node(const std::string& name);
  // Creates the JobSet and its Job on first use, then the pods of the workers named, in that order.
  void create_group_pods(const JobSetGroup& group, const std::vector<int>& workers);

  nlohmann::json pod(const std::string& name);
  // The node each worker is bound to, worker 0 first; "" for a worker not bound (or not created) yet.
  std::vector<std::string> bound_nodes(const JobSetGroup& group);
  bool all_bound(const JobSetGroup& group);
  // Polls `done` until it holds or `timeout` passes; false on timeout.
  bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Worker i on nodes[i], each pod told its worker id and every worker's hostname (the environment libtpu gets).
  void expect_group_on(const JobSetGroup& group, const std::vector<std::string>& nodes);

  std::string logs() const;  // the tails of kube-scheduler's and tpu-extender's logs, for assertion messages

 private:
  std::string work_dir_;
  std::string extender_listen_;
  std::unique_ptr<RealControlPlane> control_plane_;
  std::unique_ptr<KubeletEmulator> kubelets_;
  std::unique_ptr<ChildProcess> extender_;
  std::vector<std::string> extender_logs_;  // one per run, the current one last
  std::vector<std::string> jobsets_made_;
};

}  // namespace tpustack::testing
