#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/cluster_config.h"
#include "common/kube/kube_client.h"
#include "tests/support/child_process.h"

namespace tpustack::testing {

// $TPUSTACK_K8S_CACHE, or /var/cache/tpustack/kubernetes-1.20.2: where scripts/build-kubernetes.sh puts
// bin/{etcd,kube-apiserver,kube-scheduler,kubectl}.
std::string default_kubernetes_cache();
// The status of a GET of `url`, 0 when nothing answered. HTTPS trusts only `ca_pem`; a non-empty `token` goes
// as a bearer token.
int http_get_status(const std::string& url, const std::string& ca_pem = "", const std::string& token = "");

// Whether `cache_dir` holds a complete build (the stamp the script writes after every binary).
bool kubernetes_cache_ready(const std::string& cache_dir);

struct ControlPlaneOptions {
  std::string cache_dir = default_kubernetes_cache();
  std::string work_dir;  // certificates, etcd's data, logs, kubeconfig, scheduler config
  std::chrono::seconds start_timeout{120};
};

// The scheduler's extender entry, as manifests/extender/scheduler.yaml has it (without preempt; HTTPS with a
// client certificate when the URL is https).
struct SchedulerOptions {
  std::string scheduler_name = "tpu-scheduler";
  std::string extender_url;  // http(s)://127.0.0.1:PORT of tpu-extender's verbs; empty: no extender
  // With an https URL: the client certificate and key kube-scheduler presents, and the CA it checks the
  // extender's certificate with (KubeSchedulerConfiguration extenders[].tlsConfig).
  struct Tls {
    std::string cert_file;
    std::string key_file;
    std::string ca_file;
  } extender_tls;
  bool ignored_by_scheduler = true;
};

// What a kubelet running the device plugin reports for its node: Ready, and `chips` google.com/tpu (none for 0;
// plus cpu, memory, pods) as capacity and allocatable. A merge patch of the Node's status subresource.
nlohmann::json kubelet_node_status(const std::string& node_name, int chips);

// A Node as the simulated provider writes it, with no kubelet behind it: TPU labels, google.com/tpu (plus
// cpu, memory, pods) as capacity and allocatable, and a Ready condition, so that kube-scheduler considers it.
struct TpuNodeSpec {
  std::string name;
  std::string accelerator = "tpu-v6e-slice";  // cloud.google.com/gke-tpu-accelerator
  std::string topology = "2x2";               // cloud.google.com/gke-tpu-topology: the whole slice
  int chips = 4;                              // google.com/tpu of this host
  std::string pool;                           // cloud.google.com/gke-nodepool; empty: the node's name
  bool tpu_taint = false;                     // google.com/tpu=present:NoSchedule, as GKE sets it
  std::map<std::string, std::string> labels;  // more labels
};

// A real Kubernetes v1.20.2 control plane on 127.0.0.1: etcd, kube-apiserver (TLS with a CA made here, an
// admin bearer token in system:masters, RBAC) and, once start_scheduler() is called, kube-scheduler with a
// KubeSchedulerConfiguration whose profile calls the extender. No controller-manager and no kubelets: pods are
// only scheduled and bound. Every process dies with this object; ports are free ones picked at start.
class RealControlPlane {
 public:
  // Starts etcd and kube-apiserver and waits for /readyz; throws std::runtime_error with the logs' tails.
  explicit RealControlPlane(ControlPlaneOptions options);
  ~RealControlPlane();
  RealControlPlane(const RealControlPlane&) = delete;
  RealControlPlane& operator=(const RealControlPlane&) = delete;

  // Starts kube-scheduler and waits for its /healthz. The extender need not be up yet.
  void start_scheduler(const SchedulerOptions& options);

  const std::string& server() const { return server_; }          // https://127.0.0.1:PORT
  const std::string& kubeconfig() const { return kubeconfig_; }  // admin token, CA by file path
  kube::ClusterConfig cluster_config() const;
  kube::KubeClient& client() { return *client_; }

  // Creates the Node, then sets its status through the status subresource; returns the Node.
  nlohmann::json create_tpu_node(const TpuNodeSpec& spec);
  // Registers the JobSet CRD (jobset.x-k8s.io/v1alpha2 jobsets, any content) and waits until it is served, so
  // JobSets can be created as the JobSet controller's users do and the provisioner finds the owners of groups.
  void install_jobset_crd();

  std::string etcd_output() const;
  std::string apiserver_output() const;
  std::string scheduler_output() const;

 private:
  void make_certificates();
  void start_etcd();
  void start_apiserver();
  std::string path(const std::string& name) const { return options_.work_dir + "/" + name; }

  ControlPlaneOptions options_;
  std::string token_;
  std::string etcd_url_;
  std::string server_;
  std::string kubeconfig_;
  std::unique_ptr<ChildProcess> etcd_;
  std::unique_ptr<ChildProcess> apiserver_;
  std::unique_ptr<ChildProcess> scheduler_;
  std::unique_ptr<kube::KubeClient> client_;
};

}  // namespace tpustack::testing
