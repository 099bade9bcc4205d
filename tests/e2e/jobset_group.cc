#include "tests/e2e/jobset_group.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace tpustack::e2e {
namespace {

using nlohmann::json;

const fakes::GroupResource kPods{"", "pods"};
const fakes::GroupResource kJobs{"batch", "jobs"};
const fakes::GroupResource kJobSets{"jobset.x-k8s.io", "jobsets"};

std::string job_name(const std::string& jobset) { return jobset + "-workers-0"; }

json condition(const std::string& type) {
  return {{"type", type}, {"status", "True"}, {"reason", "AllJobsCompleted"}, {"message", "e2e story"}};
}

}  // namespace

std::vector<std::string> group_pod_names(const std::string& name, int workers) {
  std::vector<std::string> names;
  for (int i = 0; i < workers; ++i) names.push_back(job_name(name) + "-" + std::to_string(i) + "-e2e");
  return names;
}

void create_jobset_group(fakes::FakeApiStore& store, const std::string& ns, const std::string& name,
                         const std::string& topology, int workers, int chips, std::vector<int> order) {
  const std::string job = job_name(name);
  const std::string job_key = std::to_string(std::hash<std::string>{}(ns + "/" + job));
  const json job_labels = {{"jobset.sigs.k8s.io/jobset-name", name},
                           {"jobset.sigs.k8s.io/replicatedjob-name", "workers"},
                           {"jobset.sigs.k8s.io/job-index", "0"},
                           {"jobset.sigs.k8s.io/job-key", job_key}};
  // A later call adds more of the same group's pods (a controller creating them over time).
  if (!store.find(kJobSets, ns, name)) {
    store.create(kJobSets, ns,
                 {{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                  {"kind", "JobSet"},
                  {"metadata", {{"name", name}, {"namespace", ns}, {"uid", name + "-uid"}}},
                  {"spec", {{"replicatedJobs", json::array({{{"name", "workers"}, {"replicas", 1}}})}}}});
    store.create(kJobs, ns,
                 {{"apiVersion", "batch/v1"},
                  {"kind", "Job"},
                  {"metadata",
                   {{"name", job},
                    {"namespace", ns},
                    {"uid", job + "-uid"},
                    {"labels", job_labels},
                    {"ownerReferences", json::array({{{"apiVersion", "jobset.x-k8s.io/v1alpha2"},
                                                      {"kind", "JobSet"},
                                                      {"name", name},
                                                      {"uid", name + "-uid"},
                                                      {"controller", true}}})}}},
                  {"spec", {{"completionMode", "Indexed"}, {"completions", workers}, {"parallelism", workers}}}});
  }
  const std::vector<std::string> pods = group_pod_names(name, workers);
  if (order.empty()) {
    for (int i = 0; i < workers; ++i) order.push_back(i);
  }
  for (int i : order) {
    json labels = job_labels;
    labels["batch.kubernetes.io/job-completion-index"] = std::to_string(i);
    labels["batch.kubernetes.io/job-name"] = job;
    labels["job-name"] = job;
    const json tpu = {{"google.com/tpu", std::to_string(chips)}};
    store.create(kPods, ns,
                 {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata",
                   {{"name", pods[i]},
                    {"namespace", ns},
                    {"uid", pods[i] + "-uid"},
                    {"labels", labels},
                    {"annotations", {{"batch.kubernetes.io/job-completion-index", std::to_string(i)}}},
                    {"ownerReferences", json::array({{{"apiVersion", "batch/v1"},
                                                      {"kind", "Job"},
                                                      {"name", job},
                                                      {"uid", job + "-uid"},
                                                      {"controller", true}}})}}},
                  {"spec",
                   {{"schedulerName", "tpu-scheduler"},
                    {"hostname", job + "-" + std::to_string(i)},
                    {"subdomain", name},
                    {"restartPolicy", "Never"},
                    {"nodeSelector",
                     {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"},
                      {"cloud.google.com/gke-tpu-topology", topology}}},
                    {"tolerations",
                     json::array({{{"key", "google.com/tpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}})},
                    {"containers", json::array({{{"name", "inferd"},
                                                 {"image", "tpustack/inferd"},
                                                 {"resources", {{"requests", tpu}, {"limits", tpu}}}}})}}},
                  {"status", {{"phase", "Pending"}}}});
  }
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
