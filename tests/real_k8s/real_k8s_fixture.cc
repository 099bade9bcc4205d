#include "tests/real_k8s/real_k8s_fixture.h"

#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/kube/resource.h"
#include "tests/support/free_port.h"
#include "tests/support/required_tool.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string tail_of_file(const std::string& file, size_t bytes = 6000) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : "..." + all.substr(all.size() - bytes);
}

json owner(const json& object) {
  return {{"apiVersion", object["apiVersion"]}, {"kind", object["kind"]}, {"name", object["metadata"]["name"]},
          {"uid", object["metadata"]["uid"]},   {"controller", true},     {"blockOwnerDeletion", true}};
}

}  // namespace

json tpu_pod(const std::string& name, const std::string& accelerator, const std::string& topology, int chips) {
  const json tpu = {{"google.com/tpu", std::to_string(chips)}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"schedulerName", "tpu-scheduler"},
            {"restartPolicy", "Never"},
            {"nodeSelector",
             {{"cloud.google.com/gke-tpu-accelerator", accelerator}, {"cloud.google.com/gke-tpu-topology", topology}}},
            {"tolerations", {{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}},
            {"containers",
             {{{"name", "main"},
               {"image", "registry.invalid/never-pulled"},
               {"resources", {{"requests", tpu}, {"limits", tpu}}}}}}}}};
}

std::string JobSetGroup::pod_name(int worker) const {
  // The Job controller adds five random characters; fixed ones keep the names predictable.
  return hostname(worker) + "-q7x2k";
}

std::string JobSetGroup::worker_hostnames() const {
  std::string names;
  for (int i = 0; i < workers; ++i) names += (i ? "," : "") + hostname(i) + "." + jobset;
  return names;
}

void RealK8sTest::SetUp() {
  if (!kubernetes_cache_ready(default_kubernetes_cache())) {
    const std::string why =
        "no Kubernetes v1.20.2 in " + default_kubernetes_cache() + " (bash scripts/build-kubernetes.sh builds it)";
    if (running_in_ci()) GTEST_FAIL() << why << " (CI=true)";
    GTEST_SKIP() << why;
  }
  work_dir_ = tpustack::testing::make_temp_dir("real-k8s");
  ControlPlaneOptions options;
  options.work_dir = work_dir_;
  control_plane_ = std::make_unique<RealControlPlane>(options);
  control_plane_->install_jobset_crd();
  extender_listen_ = "127.0.0.1:" + std::to_string(free_port());
}

void RealK8sTest::TearDown() {
  if (HasFailure() && control_plane_) std::cerr << logs() << "\n";
  kubelets_.reset();
  extender_.reset();
  control_plane_.reset();
  if (work_dir_.empty()) return;
  // Logs stay for a failure, or when TPUSTACK_KEEP_WORK_DIR is set.
  if (HasFailure() || std::getenv("TPUSTACK_KEEP_WORK_DIR") != nullptr) {
    std::cerr << "logs kept in " << work_dir_ << "\n";
  } else {
    std::filesystem::remove_all(work_dir_);
  }
}

// Test-only certificates (tests/common/data/tls): the server's names 127.0.0.1, the client is kube-scheduler's.
std::string RealK8sTest::tls_file(const std::string& name) {
  return std::string(TPUSTACK_SOURCE_DIR) + "/tests/common/data/tls/" + name;
}

void RealK8sTest::start_extender(const std::vector<std::string>& args) {
  const std::string metrics = "127.0.0.1:" + std::to_string(free_port());
  std::vector<std::string> argv = {std::string(TPUSTACK_BINARY_DIR) + "/extender/tpu-extender", "serve", "--kubeconfig",
                                   control_plane_->kubeconfig(), "--listen", extender_listen_, "--metrics-addr",
                                   metrics,
                                   // As the manifests run it: HTTPS, and only the scheduler's client certificate.
                                   "--tls-cert-file", tls_file("server.pem"), "--tls-private-key-file",
                                   tls_file("server-key.pem"), "--client-ca-file", tls_file("ca.pem")};
  argv.insert(argv.end(), args.begin(), args.end());
  extender_logs_.push_back(work_dir_ + "/tpu-extender-" + std::to_string(extender_logs_.size() + 1) + ".log");
  extender_ = std::make_unique<ChildProcess>(argv, std::vector<std::string>{}, extender_logs_.back());
  // Ready once its caches hold the Nodes and Pods and the reservations are rebuilt from the pods' annotations.
  const auto ready_by = Clock::now() + 60s;
  while (http_get_status("http://" + metrics + "/readyz/verbs") != 200) {
    ASSERT_TRUE(extender_->running()) << "tpu-extender exited:\n" << extender_->output();
    ASSERT_LT(Clock::now(), ready_by) << "tpu-extender not ready after 60 s:\n" << extender_->output();
    std::this_thread::sleep_for(100ms);
  }
}

void RealK8sTest::kill_extender() {
  extender_->signal(SIGKILL);
  ASSERT_EQ(extender_->wait(10s), 128 + SIGKILL);
  extender_.reset();
}

void RealK8sTest::start_scheduler() {
  SchedulerOptions scheduler;
  scheduler.extender_url = "https://" + extender_listen_;
  scheduler.extender_tls = {tls_file("client.pem"), tls_file("client-key.pem"), tls_file("ca.pem")};
  control_plane_->start_scheduler(scheduler);
}

void RealK8sTest::start_kubelets() { kubelets_ = std::make_unique<KubeletEmulator>(control_plane_->cluster_config()); }

std::vector<std::string> RealK8sTest::create_slice(const std::string& pool, const std::string& topology, int hosts) {
  std::vector<std::string> names;
  for (int i = 0; i < hosts; ++i) {
    TpuNodeSpec node;
    node.name = pool + "-" + std::to_string(i);
    node.topology = topology;
    node.pool = pool;
    node.tpu_taint = true;
    control_plane_->create_tpu_node(node);
    names.push_back(node.name);
  }
  return names;
}

void RealK8sTest::create_cpu_node(const std::string& name) {
  value_of(client().create(kube::resources::kNodes, "",
                           {{"apiVersion", "v1"},
                            {"kind", "Node"},
                            {"metadata",
                             {{"name", name},
                              {"labels",
                               {{"kubernetes.io/hostname", name},
                                {"kubernetes.io/os", "linux"},
                                {"kubernetes.io/arch", "amd64"},
                                {"cloud.google.com/gke-nodepool", "default-pool"}}}}}}));
  value_of(client().patch(kube::resources::kNodes, "", name, kubelet_node_status(name, 0), kube::PatchType::kMerge,
                          "status"));
}

void RealK8sTest::create_group_pods(const JobSetGroup& group, const std::vector<int>& workers) {
  const json selector_labels = {
      {"jobset.sigs.k8s.io/jobset-name", group.jobset},
      {"jobset.sigs.k8s.io/replicatedjob-name", "workers"},
      {"jobset.sigs.k8s.io/job-index", "0"},
      // JobSet writes a hash of namespace/job here; any value unique to the Job does.
      {"jobset.sigs.k8s.io/job-key", std::to_string(std::hash<std::string>{}("default/" + group.job()))}};
  json template_labels = selector_labels;
  template_labels["batch.kubernetes.io/job-name"] = group.job();
  template_labels["job-name"] = group.job();
  json pod_template = tpu_pod("", "tpu-v6e-slice", group.topology, group.chips);
  pod_template["spec"]["subdomain"] = group.jobset;

  // The JobSet and its child Job exist before their pods, as their controllers make them. Nothing runs them here
  // (there is no controller-manager); the provisioner reads the JobSet to know the group still wants its pool.
  if (std::find(jobsets_made_.begin(), jobsets_made_.end(), group.jobset) == jobsets_made_.end()) {
    const json jobset = value_of(
        client().create(kube::resources::kJobSets, "default",
                        {{"apiVersion", kube::resources::kJobSets.api_version()},
                         {"kind", "JobSet"},
                         {"metadata", {{"name", group.jobset}, {"namespace", "default"}}},
                         {"spec", {{"replicatedJobs", json::array({{{"name", "workers"}, {"replicas", 1}}})}}}}));
    json job_template = {{"metadata", {{"labels", template_labels}}}, {"spec", pod_template["spec"]}};
    value_of(client().create(
        kube::resources::kJobs, "default",
        {{"apiVersion", "batch/v1"},
         {"kind", "Job"},
         {"metadata",
          {{"name", group.job()},
           {"namespace", "default"},
           {"labels", selector_labels},
           {"ownerReferences", json::array({owner(jobset)})}}},
         {"spec", {{"completions", group.workers}, {"parallelism", group.workers}, {"template", job_template}}}}));
    jobsets_made_.push_back(group.jobset);
  }
  const json job = value_of(client().get(kube::resources::kJobs, "default", group.job()));
  for (int i : workers) {
    json pod = pod_template;
    pod["metadata"] = {{"name", group.pod_name(i)},
                       {"namespace", "default"},
                       {"labels", template_labels},
                       {"annotations", {{"batch.kubernetes.io/job-completion-index", std::to_string(i)}}},
                       {"ownerReferences", json::array({owner(job)})}};
    pod["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] = std::to_string(i);
    pod["spec"]["hostname"] = group.hostname(i);
    value_of(client().create(kube::resources::kPods, "default", pod));
  }
}

json RealK8sTest::pod(const std::string& name) {
  return value_of(client().get(kube::resources::kPods, "default", name));
}

std::vector<std::string> RealK8sTest::bound_nodes(const JobSetGroup& group) {
  kube::ListOptions options;
  options.label_selector = "jobset.sigs.k8s.io/jobset-name=" + group.jobset;
  std::vector<std::string> nodes(group.workers);
  for (const json& pod : value_of(client().list(kube::resources::kPods, "default", options)).items) {
    for (int i = 0; i < group.workers; ++i) {
      if (pod["metadata"].value("name", "") == group.pod_name(i)) nodes[i] = pod["spec"].value("nodeName", "");
    }
  }
  return nodes;
}

bool RealK8sTest::all_bound(const JobSetGroup& group) {
  const std::vector<std::string> nodes = bound_nodes(group);
  return std::none_of(nodes.begin(), nodes.end(), [](const std::string& node) { return node.empty(); });
}

bool RealK8sTest::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

void RealK8sTest::expect_group_on(const JobSetGroup& group, const std::vector<std::string>& nodes) {
  EXPECT_EQ(bound_nodes(group), nodes) << "worker i must run on host i";
  std::string slice;
  for (int i = 0; i < group.workers; ++i) {
    const json placed = pod(group.pod_name(i));
    const json annotations = placed["metadata"].value("annotations", json::object());
    EXPECT_EQ(annotations.value("tpustack.dev/worker-id", ""), std::to_string(i)) << placed.dump(2);
    EXPECT_EQ(annotations.value("tpustack.dev/worker-hostnames", ""), group.worker_hostnames()) << placed.dump(2);
    if (i == 0) slice = annotations.value("tpustack.dev/slice", "");
    EXPECT_EQ(annotations.value("tpustack.dev/slice", ""), slice) << "one slice for the whole group";
  }
  EXPECT_FALSE(slice.empty());
}

std::string RealK8sTest::logs() const {
  std::string text = "kube-scheduler:\n" + tail_of_file(work_dir_ + "/kube-scheduler.log") + "\n";
  for (const std::string& log : extender_logs_) text += log + ":\n" + tail_of_file(log) + "\n";
  return text;
}

}  // namespace tpustack::testing
