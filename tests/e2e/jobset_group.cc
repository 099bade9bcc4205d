#include "tests/e2e/jobset_group.h"

#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

namespace tpustack::e2e {
namespace {

using nlohmann::json;

const fakes::GroupResource kPods{"", "pods"};
const fakes::GroupResource kJobs{"batch", "jobs"};
const fakes::GroupResource kJobSets{"jobset.x-k8s.io", "jobsets"};

std::string job_name(const std::string& jobset, int job_index = 0) {
  return jobset + "-workers-" + std::to_string(job_index);
}

json condition(const std::string& type) {
  return {{"type", type}, {"status", "True"}, {"reason", "AllJobsCompleted"}, {"message", "e2e story"}};
}

json job_labels(const std::string& ns, const std::string& jobset, int job_index, int slices) {
  const std::string job = job_name(jobset, job_index);
  return {{"jobset.sigs.k8s.io/jobset-name", jobset},
          {"jobset.sigs.k8s.io/replicatedjob-name", "workers"},
          {"jobset.sigs.k8s.io/replicatedjob-replicas", std::to_string(slices)},
          {"jobset.sigs.k8s.io/job-index", std::to_string(job_index)},
          {"jobset.sigs.k8s.io/job-key", std::to_string(std::hash<std::string>{}(ns + "/" + job))}};
}

// The JobSet and its `slices` child Jobs (one replicated job "workers"), once.
void write_jobset(fakes::FakeApiStore& store, const std::string& ns, const std::string& name, int workers, int slices) {
  if (store.find(kJobSets, ns, name)) return;  // a later call adds more of the same group's pods
  store.create(kJobSets, ns,
               {{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                {"kind", "JobSet"},
                {"metadata", {{"name", name}, {"namespace", ns}, {"uid", name + "-uid"}}},
                {"spec", {{"replicatedJobs", json::array({{{"name", "workers"}, {"replicas", slices}}})}}}});
  for (int j = 0; j < slices; ++j) {
    const std::string job = job_name(name, j);
    store.create(kJobs, ns,
                 {{"apiVersion", "batch/v1"},
                  {"kind", "Job"},
                  {"metadata",
                   {{"name", job},
                    {"namespace", ns},
                    {"uid", job + "-uid"},
                    {"labels", job_labels(ns, name, j, slices)},
                    {"ownerReferences", json::array({{{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                                                      {"kind", "JobSet"},
                                                      {"name", name},
                                                      {"uid", name + "-uid"},
                                                      {"controller", true}}})}}},
                  {"spec", {{"completionMode", "Indexed"}, {"completions", workers}, {"parallelism", workers}}}});
  }
}

// Worker `worker` of child Job `job_index` as the Job controller creates it from a stock JobSet template: the
// JobSet and Indexed Job labels, hostname and subdomain, the TPU selectors and request, nothing else.
json stock_pod(const std::string& ns, const std::string& jobset, int job_index, int slices, int worker,
               const std::string& topology, int chips) {
  const std::string job = job_name(jobset, job_index);
  const std::string name = job + "-" + std::to_string(worker) + "-e2e";
  json labels = job_labels(ns, jobset, job_index, slices);
  labels["batch.kubernetes.io/job-completion-index"] = std::to_string(worker);
  labels["batch.kubernetes.io/job-name"] = job;
  labels["job-name"] = job;
  const json tpu = {{"google.com/tpu", std::to_string(chips)}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", ns},
        {"uid", name + "-uid"},
        {"labels", labels},
        {"annotations", {{"batch.kubernetes.io/job-completion-index", std::to_string(worker)}}},
        {"ownerReferences", json::array({{{"apiVersion", "batch/v1"},
                                          {"kind", "Job"},
                                          {"name", job},
                                          {"uid", job + "-uid"},
                                          {"controller", true}}})}}},
      {"spec",
       {{"hostname", job + "-" + std::to_string(worker)},
        {"subdomain", jobset},
        {"restartPolicy", "Never"},
        {"nodeSelector",
         {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"}, {"cloud.google.com/gke-tpu-topology", topology}}},
        {"containers", json::array({{{"name", "inferd"},
                                     {"image", "tpustack/inferd"},
                                     {"resources", {{"requests", tpu}, {"limits", tpu}}}}})}}},
      {"status", {{"phase", "Pending"}}}};
}

}  // namespace

std::string numbered_group(int group) {
  char name[16];
  std::snprintf(name, sizeof name, "g%03d", group);
  return name;
}

std::vector<std::string> group_pod_names(const std::string& name, int workers, int job_index) {
  std::vector<std::string> names;
  for (int i = 0; i < workers; ++i) names.push_back(job_name(name, job_index) + "-" + std::to_string(i) + "-e2e");
  return names;
}

void create_jobset_group(fakes::FakeApiStore& store, const std::string& ns, const std::string& name,
                         const std::string& topology, int workers, int chips, std::vector<int> order) {
  write_jobset(store, ns, name, workers, 1);
  if (order.empty()) {
    for (int i = 0; i < workers; ++i) order.push_back(i);
  }
  for (int i : order) {
    json pod = stock_pod(ns, name, 0, 1, i, topology, chips);
    pod["spec"]["schedulerName"] = "tpu-scheduler";
    pod["spec"]["tolerations"] =
        json::array({{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}});
    store.create(kPods, ns, pod);
  }
}

std::vector<json> stock_jobset(fakes::FakeApiStore& store, const std::string& ns, const std::string& name,
                               const std::string& topology, int workers, int chips, int slices) {
  write_jobset(store, ns, name, workers, slices);
  std::vector<json> pods;
  for (int j = 0; j < slices; ++j) {
    for (int i = 0; i < workers; ++i) pods.push_back(stock_pod(ns, name, j, slices, i, topology, chips));
  }
  return pods;
}

json v6e_4x4_node(const std::string& pool, int host, int chips) {
  json node = {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", pool + "-" + std::to_string(host)},
        {"labels",
         {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"},
          {"cloud.google.com/gke-tpu-topology", "4x4"},
          {"cloud.google.com/gke-nodepool", pool}}}}},
      {"spec",
       {{"taints", json::array({{{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}}})}}},
      {"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  if (chips > 0) node["status"]["allocatable"] = {{"google.com/tpu", std::to_string(chips)}};
  return node;
}

void complete_jobset_group(fakes::FakeApiStore& store, const std::string& ns, const std::string& name, int workers) {
  for (const std::string& pod : group_pod_names(name, workers)) {
    store.patch(kPods, ns, pod, {{"status", {{"phase", "Succeeded"}}}}, fakes::PatchKind::kMerge, true);
  }
  store.patch(kJobs, ns, job_name(name), {{"status", {{"conditions", json::array({condition("Complete")})}}}},
              fakes::PatchKind::kMerge, true);
  store.patch(kJobSets, ns, name, {{"status", {{"conditions", json::array({condition("Completed")})}}}},
              fakes::PatchKind::kMerge, true);
}

}  // namespace tpustack::e2e
