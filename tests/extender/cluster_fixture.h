#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "extender/model/cluster_state.h"
#include "tests/support/free_port.h"

namespace tpustack::extender::testing {

// A request or response body a real kube-scheduler v1.20.2 sent or accepted, captured on loopback
// (tests/extender/data/kube-scheduler-v1.20.2/README.md). Throws when the file is missing, so a test
// never passes on an empty body.
std::string captured_scheduler_body(const std::string& name);

// Node and Pod objects shaped as the API server returns them, with only the fields that matter.
nlohmann::json node_json(const std::string& name, const std::string& accelerator, const std::string& topology,
                         const std::string& pool, int chips);

struct PodFields {
  std::string name;
  std::string accelerator;
  std::string topology;
  int chips = 0;
  std::string node;  // bound when set
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  std::string phase = "Pending";
  std::string hostname;
  std::string subdomain;
  std::string ns = "default";
  std::string scheduler_name = "tpu-scheduler";  // as a user writes a TPU pod (manifests/extender/examples)
};
nlohmann::json pod_json(const PodFields& fields);

// A pod outside any group; bound to `node` when it is set.
PodFields single_pod(const std::string& name, const std::string& accelerator, const std::string& topology, int chips,
                     const std::string& node);

// A worker of a JobSet-style Indexed Job "<job>" of `hosts` pods: hostname "<job>-<index>".
PodFields job_worker(const std::string& job, int index, const std::string& accelerator, const std::string& topology,
                     int chips);

// Worker `index` of slice `slice` of a multislice JobSet "<jobset>" (replicated job "slice", `slices` child Jobs
// "<jobset>-slice-<slice>"), labelled as the JobSet controller labels it.
PodFields multislice_worker(const std::string& jobset, int slices, int slice, int index, const std::string& accelerator,
                            const std::string& topology, int chips);

// Adds a slice "<pool>" of `hosts` nodes "<pool>-0".."<pool>-(hosts-1)".
void add_slice(ClusterState& state, const std::string& pool, const std::string& accelerator,
               const std::string& topology, int hosts, int chips_per_host);

std::vector<std::string> node_names(const ClusterState& state);

using tpustack::testing::free_port;

}  // namespace tpustack::extender::testing
