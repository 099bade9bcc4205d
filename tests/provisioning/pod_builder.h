#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tpustack::provisioning::testing {

// Pod objects as the API server returns them, for tests: a JobSet worker by default; with jobset and
// job empty, a pod of `owner_kind` (a StatefulSet's, a ReplicaSet's, or a bare pod when empty).
struct PodBuilder {
  std::string ns = "default";
  std::string name = "train-workers-0-0";
  std::string jobset = "train";
  std::string job = "train-workers-0";
  std::string group_label;  // tpustack.dev/group instead of JobSet labels when set
  std::string owner_kind;   // the controller when jobset and job are empty
  std::string owner_name;
  int index = 0;
  int replicas = 1;   // child Jobs of the replicated job: > 1 makes a multislice unit
  int job_index = 0;  // this pod's child Job, 0..replicas-1
  int chips = 4;
  std::string accelerator = "tpu-v6e-slice";
  std::string topology = "4x4";
  bool unschedulable = true;
  std::string phase = "Pending";
  std::string node_name;
  nlohmann::json extra_selector = nlohmann::json::object();

  static nlohmann::json owner(const std::string& api_version, const std::string& kind, const std::string& name) {
    return {{"apiVersion", api_version}, {"kind", kind}, {"name", name}, {"uid", "uid-" + name}, {"controller", true}};
  }

  nlohmann::json build() const {
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json annotations = {{"batch.kubernetes.io/job-completion-index", std::to_string(index)}};
    nlohmann::json owners = nlohmann::json::array();
    if (!group_label.empty()) {
      labels["tpustack.dev/group"] = group_label;
    } else if (!jobset.empty()) {
      labels["jobset.sigs.k8s.io/jobset-name"] = jobset;
      labels["batch.kubernetes.io/job-name"] = job;
      labels["jobset.sigs.k8s.io/replicatedjob-name"] = "workers";
      labels["jobset.sigs.k8s.io/replicatedjob-replicas"] = std::to_string(replicas);
      labels["jobset.sigs.k8s.io/job-index"] = std::to_string(job_index);
      labels["jobset.sigs.k8s.io/job-key"] = "key-" + job;
      owners.push_back(owner("batch/v1", "Job", job));
    } else if (!job.empty()) {
      labels["batch.kubernetes.io/job-name"] = job;
      owners.push_back(owner("batch/v1", "Job", job));
    } else {
      annotations = nlohmann::json::object();
      if (owner_kind == "StatefulSet") labels["apps.kubernetes.io/pod-index"] = std::to_string(index);
      if (!owner_kind.empty()) owners.push_back(owner("apps/v1", owner_kind, owner_name));
    }
    nlohmann::json selector = extra_selector;
    if (!accelerator.empty()) selector["cloud.google.com/gke-tpu-accelerator"] = accelerator;
    if (!topology.empty()) selector["cloud.google.com/gke-tpu-topology"] = topology;
    nlohmann::json status = {{"phase", phase}};
    if (unschedulable) {
      status["conditions"] = {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
    }
    nlohmann::json spec = {{"nodeSelector", selector},
                           {"containers",
                            {{{"name", "main"},
                              {"image", "jax"},
                              {"resources",
                               {{"requests", {{"google.com/tpu", std::to_string(chips)}}},
                                {"limits", {{"google.com/tpu", std::to_string(chips)}}}}}}}}};
    if (!node_name.empty()) spec["nodeName"] = node_name;
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"namespace", ns},
              {"name", name},
              {"uid", "uid-" + name},
              {"labels", labels},
              {"annotations", annotations},
              {"ownerReferences", owners}}},
            {"spec", spec},
            {"status", status}};
  }
};

}  // namespace tpustack::provisioning::testing
