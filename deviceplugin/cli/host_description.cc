#include "deviceplugin/cli/host_description.h"

#include <sstream>

#include "common/topology/chip_search.h"
#include "common/topology/container_environment.h"
#include "common/topology/host_grid.h"

namespace tpustack::deviceplugin {
namespace {

std::string bounds_text(const std::array<int, 3>& b) {
  return std::to_string(b[0]) + "x" + std::to_string(b[1]) + "x" + std::to_string(b[2]);
}

void print_environment(std::ostringstream& out, const topology::SliceSpec& slice, const std::vector<Chip>& chips,
                       const std::vector<int>& indices) {
  std::vector<topology::AllocatedChip> allocated;
  std::string ids;
  for (int i : indices) {
    allocated.push_back({chips[i].index, chips[i].numa_node});
    ids += (ids.empty() ? "" : ", ") + chips[i].id;
  }
  out << "\nA container given " << indices.size() << (indices.size() == 1 ? " chip" : " chips") << " (" << ids
      << ") gets:\n";
  const auto env = topology::container_environment(slice, allocated);
  if (!env) {
    out << "  nothing: " << env.error().message << "\n";
    return;
  }
  for (const auto& [name, value] : *env) out << "  " << name << "=" << value << "\n";
}

}  // namespace

std::string describe_host(const topology::SliceSpec& slice, const std::vector<Chip>& chips) {
  std::ostringstream out;
  const auto& g = slice.generation_info();
  out << "TPU " << g.name << " slice " << slice.topology().to_string() << ": " << slice.chips() << " chips on "
      << slice.hosts() << (slice.hosts() == 1 ? " host" : " hosts") << " of " << slice.machine_type() << "\n"
      << "  node labels: cloud.google.com/gke-tpu-accelerator=" << g.accelerator_label
      << ", cloud.google.com/gke-tpu-topology=" << slice.topology().to_string()
      << ", cloud.google.com/gke-accelerator-count=" << slice.chips_per_host() << "\n"
      << "  hosts along x,y,z: " << bounds_text(slice.host_bounds())
      << "; chips per host: " << bounds_text(slice.chips_per_host_bounds()) << "\n"
      << "\nThis host's chips (advertised as google.com/tpu):\n";
  for (const auto& chip : chips) {
    const auto c = topology::chip_coordinates(slice.chips_per_host(), chip.index);
    out << "  " << chip.id << "  pci " << chip.pci_address << "  numa " << chip.numa_node << "  grid (" << c.x << ","
        << c.y << "," << c.z << ")  devices";
    for (const auto& path : chip.device_paths) out << " " << path;
    out << "\n";
  }
  std::vector<int> numa;
  std::vector<int> all;
  for (const auto& chip : chips) {
    numa.push_back(chip.numa_node);
    all.push_back(chip.index);
  }
  print_environment(out, slice, chips, all);
  for (int count : {1, 2, 4}) {
    if (count >= slice.chips_per_host()) break;
    const auto chosen = topology::preferred_chips({slice.chips_per_host(), count, all, {}, numa});
    if (chosen) {
      print_environment(out, slice, chips, *chosen);
    } else {
      out << "\nNo container can be given " << count << " chips: " << chosen.error().message << "\n";
    }
  }
  if (slice.multi_host()) {
    out << "\nThis slice spans " << slice.hosts()
        << " hosts: each worker pod also gets TPU_WORKER_ID and TPU_WORKER_HOSTNAMES from tpu-extender.\n";
  }
  return out.str();
}

}  // namespace tpustack::deviceplugin
