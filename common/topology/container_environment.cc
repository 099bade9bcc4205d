#include "common/topology/container_environment.h"

#include <algorithm>
#include <set>

#include "common/topology/host_grid.h"

namespace tpustack::topology {
namespace {

template <class T>
std::string join_commas(const T& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += ',';
    if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>) {
      out += v ? "true" : "false";
    } else {
      out += std::to_string(v);
    }
  }
  return out;
}

// libtpu reads these under a second, shorter name on slice accelerators (every generation we support is one).
void set_with_alias(std::map<std::string, std::string>& env, const std::string& name, const std::string& alias,
                    const std::string& value) {
  env[name] = value;
  env[alias] = value;
}

}  // namespace

std::string runtime_metrics_ports(Generation generation, int chips) {
  std::vector<int> ports;
  const int n = chips * info(generation).runtime_accelerators_per_chip;
  for (int i = 0; i < n; ++i) ports.push_back(kFirstRuntimeMetricsPort + i);
  return join_commas(ports);
}

Result<std::map<std::string, std::string>> container_environment(const SliceSpec& slice,
                                                                 const std::vector<AllocatedChip>& chips,
                                                                 const EnvironmentOptions& options) {
  const int per_host = slice.chips_per_host();
  const int count = static_cast<int>(chips.size());
  std::set<int> indices;
  std::set<int> numa_nodes;
  for (const auto& chip : chips) {
    if (chip.index < 0 || chip.index >= per_host) {
      return Error{"chip " + std::to_string(chip.index) + " does not exist on a " + std::to_string(per_host) +
                   "-chip host"};
    }
    if (!indices.insert(chip.index).second) {
      return Error{"chip " + std::to_string(chip.index) + " is listed twice"};
    }
    if (chip.numa_node >= 0) numa_nodes.insert(chip.numa_node);
  }
  if (count == 0) return Error{"no chips to allocate"};
  const bool whole_host = count == per_host;
  if (!whole_host && count != 1 && count != 2 && count != 4) {
    return Error{"a container gets 1, 2, 4 or all " + std::to_string(per_host) + " chips of a host, not " +
                 std::to_string(count)};
  }
  if (!is_chip_block(per_host, {indices.begin(), indices.end()})) {
    const auto shape = block_bounds(count);
    return Error{"chips " + join_commas(indices) + " are not a " + std::to_string(shape[0]) + "x" +
                 std::to_string(shape[1]) + " block of ICI neighbours on a " + std::to_string(per_host) +
                 "-chip host, the shape libtpu runs " + std::to_string(count) + " chips in"};
  }

  const Generation generation = slice.generation();
  const auto& g = slice.generation_info();
  std::map<std::string, std::string> env;
  env["TPU_SKIP_MDS_QUERY"] = "true";
  env["TPU_RUNTIME_METRICS_PORTS"] = runtime_metrics_ports(generation, count);
  set_with_alias(env, "TPU_TOPOLOGY_ALT", "ALT", "false");
  const auto block = block_bounds(count);
  set_with_alias(env, "TPU_CHIPS_PER_HOST_BOUNDS", "CHIPS_PER_HOST_BOUNDS", join_commas(block));

  bool single_process_host;
  if (whole_host) {
    env["TPU_TOPOLOGY"] = slice.topology().to_string();
    env["TPU_ACCELERATOR_TYPE"] = slice.accelerator_type();
    set_with_alias(env, "TPU_HOST_BOUNDS", "HOST_BOUNDS", join_commas(slice.host_bounds()));
    set_with_alias(env, "TPU_TOPOLOGY_WRAP", "WRAP", join_commas(slice.wrap()));
    if (slice.ici_resiliency_default()) {
      env["ENABLE_ICI_RESILIENCY"] = options.ici_resiliency_disabled ? "false" : "true";
    }
    single_process_host = !slice.multi_host();
  } else {
    Topology sub{g.topology_rank, block};
    env["TPU_TOPOLOGY"] = sub.to_string();
    env["TPU_ACCELERATOR_TYPE"] = std::string(g.runtime_name) + "-" + std::to_string(count * g.tensorcores_per_chip);
    set_with_alias(env, "TPU_HOST_BOUNDS", "HOST_BOUNDS", "1,1,1");
    set_with_alias(env, "TPU_TOPOLOGY_WRAP", "WRAP", "false,false,false");
    env["TPU_VISIBLE_CHIPS"] = join_commas(indices);
    env["TPU_CHIPS_PER_PROCESS_BOUNDS"] = join_commas(block);
    env["TPU_PROCESS_BOUNDS"] = "1,1,1";
    single_process_host = true;
  }
  // GKE leaves tpu7x worker identity to its workload controller even on one host.
  if (single_process_host && generation != Generation::kTpu7x) {
    env["TPU_WORKER_ID"] = "0";
    env["TPU_WORKER_HOSTNAMES"] = "localhost";
  }
  if (generation == Generation::kTpu7x && count > 1 && !numa_nodes.empty()) {
    env["WORKLOAD_NIC_PREFERRED_NUMA"] = join_commas(numa_nodes);
  }
  return env;
}

}  // namespace tpustack::topology
