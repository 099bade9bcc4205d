#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "extender/model/pod_group.h"
#include "extender/model/tpu_node.h"

namespace tpustack::extender {

// Where the extender put a pod, as recorded in its tpustack.dev/* annotations.
struct Placement {
  std::string slice;
  int worker_id = -1;
  std::vector<std::string> worker_hostnames;  // ordered by worker id
};

// What the extender needs of a core/v1 Pod.
struct TpuPod {
  std::string ns;
  std::string name;
  std::string uid;
  std::string node_name;       // empty until bound
  bool terminated = false;     // Succeeded or Failed: its chips are free again
  bool deleting = false;       // metadata.deletionTimestamp is set: it holds its chips until it is gone
  std::string scheduler_name;  // spec.schedulerName (the API server sets default-scheduler when absent)
  // kube-scheduler found no node for it (PodScheduled=False, reason Unschedulable): parked in its queue.
  bool unschedulable = false;
  // kube-scheduler's last attempt failed on an error (PodScheduled=False, reason SchedulerError): an extender
  // away or answering Error, a bind refused. Before 1.28 it parks such a pod like an unschedulable one.
  bool scheduling_error = false;
  int chips = 0;            // google.com/tpu requested by the pod (containers summed, init containers max)
  std::string accelerator;  // nodeSelector cloud.google.com/gke-tpu-accelerator
  std::string topology;     // nodeSelector cloud.google.com/gke-tpu-topology
  std::vector<Toleration> tolerations;
  std::string hostname;  // spec.hostname, set by Jobs and JobSets for DNS
  std::string subdomain;
  bool host_network = false;
  std::optional<GroupMember> group;
  std::optional<Placement> placement;

  std::string key() const { return ns + "/" + name; }
  bool bound() const { return !node_name.empty(); }
  // Holds chips (or will, once bound): not finished.
  bool active() const { return !terminated; }
};

// The pod, or an Error when the object has no metadata.name or a bad google.com/tpu quantity.
Result<TpuPod> parse_pod(const nlohmann::json& pod);

// The annotations recording `placement` (tpustack.dev/slice, worker-id, worker-hostnames).
StringMap placement_annotations(const Placement& placement);

}  // namespace tpustack::extender
