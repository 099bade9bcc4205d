#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::topology {

enum class Generation { kV4, kV5e, kV5p, kV6e, kTpu7x };

// How a chip appears under /dev.
enum class DeviceNodeStyle {
  kAccel,  // /dev/accelN (v4)
  kVfio,   // /dev/vfio/<iommu group> plus /dev/vfio/vfio
};

// Facts about one TPU generation, from Cloud TPU docs, GKE's device plugin and tpu-info
// (shared/reference/tpu-on-kubernetes.md §C.1-§C.4).
struct GenerationInfo {
  Generation generation;
  std::string_view name;                 // what users write: "v5e"
  std::string_view runtime_name;         // libtpu's name in TPU_ACCELERATOR_TYPE: "v5litepod"
  std::string_view accelerator_label;    // cloud.google.com/gke-tpu-accelerator: "tpu-v5-lite-podslice"
  std::string_view machine_type_prefix;  // "ct5lp-hightpu-" + chips + "t"
  std::span<const int> chips_per_vm;     // machine sizes GKE offers, ascending
  int multi_host_chips_per_vm;           // the VM size every multi-host slice is built from
  int tensorcores_per_chip;
  int topology_rank;            // 2 for AxB, 3 for AxBxC
  std::uint16_t pci_device_id;  // vendor 0x1ae0
  int pci_functions_per_chip;
  DeviceNodeStyle device_nodes;
  int max_cubes;                      // largest 3D slice in 4x4x4 cubes (0 for 2D generations)
  bool ordered_dims;                  // 3D topologies must be written in non-decreasing order
  int runtime_accelerators_per_chip;  // libtpu runtime metrics ports per chip (tpu7x: 2)
};

inline constexpr std::uint16_t kGooglePciVendor = 0x1ae0;
inline constexpr int kFirstRuntimeMetricsPort = 8431;

std::span<const GenerationInfo> all_generations();
const GenerationInfo& info(Generation generation);

// Accepts the short name ("v6e"), libtpu's name ("v5litepod") and the node label value
// ("tpu-v6e-slice"). An Error lists the accepted names.
Result<Generation> parse_generation(std::string_view text);

// PCI device ID (vendor 0x1ae0) to generation; false when the ID is not a TPU we support.
bool generation_for_pci_device(std::uint16_t device_id, Generation& out);

// "ct6e-standard-4t" for (v6e, 4), or an Error when the generation has no such VM.
Result<std::string> machine_type(Generation generation, int chips_per_vm);

struct MachineType {
  Generation generation;
  int chips_per_vm;
};
// Inverse of machine_type(): "ct5lp-hightpu-8t" → {v5e, 8}; an Error lists the machine types there are.
Result<MachineType> parse_machine_type(std::string_view text);

}  // namespace tpustack::topology
