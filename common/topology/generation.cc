#include "common/topology/generation.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <stdexcept>

namespace tpustack::topology {
namespace {

constexpr std::array<int, 1> kFourChips{4};
constexpr std::array<int, 3> kOneFourEight{1, 4, 8};

constexpr std::array<GenerationInfo, 5> kGenerations{{
    {Generation::kV4, "v4", "v4", "tpu-v4-podslice", "ct4p-hightpu-", kFourChips, 4, 2, 3, 0x005e, 1,
     DeviceNodeStyle::kAccel, 64, false, 1},
    {Generation::kV5e, "v5e", "v5litepod", "tpu-v5-lite-podslice", "ct5lp-hightpu-", kOneFourEight, 4, 1, 2, 0x0063, 1,
     DeviceNodeStyle::kVfio, 0, false, 1},
    {Generation::kV5p, "v5p", "v5p", "tpu-v5p-slice", "ct5p-hightpu-", kFourChips, 4, 2, 3, 0x0062, 1,
     DeviceNodeStyle::kVfio, 140, true, 1},
    {Generation::kV6e, "v6e", "v6e", "tpu-v6e-slice", "ct6e-standard-", kOneFourEight, 4, 1, 2, 0x006f, 1,
     DeviceNodeStyle::kVfio, 0, false, 1},
    {Generation::kTpu7x, "tpu7x", "tpu7x", "tpu7x", "tpu7x-standard-", kFourChips, 4, 2, 3, 0x0076, 2,
     DeviceNodeStyle::kVfio, 144, true, 2},
}};

std::string accepted_names() {
  std::string out;
  for (const auto& g : kGenerations) {
    if (!out.empty()) out += ", ";
    out += std::string(g.name) + " (" + std::string(g.accelerator_label) + ")";
  }
  return out;
}

}  // namespace

std::span<const GenerationInfo> all_generations() { return kGenerations; }

const GenerationInfo& info(Generation generation) {
  for (const auto& g : kGenerations) {
    if (g.generation == generation) return g;
  }
  throw std::logic_error("Generation " + std::to_string(static_cast<int>(generation)) + " has no GenerationInfo");
}

Result<Generation> parse_generation(std::string_view text) {
  for (const auto& g : kGenerations) {
    if (text == g.name || text == g.runtime_name || text == g.accelerator_label) return g.generation;
  }
  return Error{"unknown TPU generation '" + std::string(text) + "'; expected one of " + accepted_names()};
}

bool generation_for_pci_device(std::uint16_t device_id, Generation& out) {
  for (const auto& g : kGenerations) {
    if (g.pci_device_id == device_id) {
      out = g.generation;
      return true;
    }
  }
  return false;
}

Result<std::string> machine_type(Generation generation, int chips_per_vm) {
  const auto& g = info(generation);
  if (std::find(g.chips_per_vm.begin(), g.chips_per_vm.end(), chips_per_vm) == g.chips_per_vm.end()) {
    std::string sizes;
    for (int n : g.chips_per_vm) sizes += (sizes.empty() ? "" : ", ") + std::to_string(n);
    return Error{std::string(g.name) + " has no VM with " + std::to_string(chips_per_vm) + " chips; its VMs have " +
                 sizes + " chips"};
  }
  return std::string(g.machine_type_prefix) + std::to_string(chips_per_vm) + "t";
}

Result<MachineType> parse_machine_type(std::string_view text) {
  for (const auto& g : kGenerations) {
    if (!text.starts_with(g.machine_type_prefix) || !text.ends_with("t")) continue;
    const std::string_view digits =
        text.substr(g.machine_type_prefix.size(), text.size() - g.machine_type_prefix.size() - 1);
    int chips = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), chips);
    if (ec != std::errc() || ptr != digits.data() + digits.size()) break;
    if (auto name = machine_type(g.generation, chips); name && *name == text) return MachineType{g.generation, chips};
  }
  std::string known;
  for (const auto& g : kGenerations) {
    for (int n : g.chips_per_vm) known += (known.empty() ? "" : ", ") + *machine_type(g.generation, n);
  }
  return Error{"unknown TPU machine type '" + std::string(text) + "'; expected one of " + known};
}

}  // namespace tpustack::topology
