#include "deviceplugin/discovery/simulated_host.h"

#include <charconv>
#include <cstdio>

namespace tpustack::deviceplugin {

using topology::DeviceNodeStyle;
using topology::SliceSpec;

Result<SliceSpec> parse_simulate_spec(std::string_view text) {
  const size_t first = text.find(':');
  if (first == std::string_view::npos) {
    return Error{"--simulate '" + std::string(text) +
                 "' must be GEN:TOPOLOGY[:CHIPS_PER_HOST], e.g. v6e:4x4:4 or v5e:2x4:8"};
  }
  const std::string_view generation_text = text.substr(0, first);
  std::string_view rest = text.substr(first + 1);
  const size_t second = rest.find(':');
  const std::string_view topology_text = rest.substr(0, second);
  const auto generation = topology::parse_generation(generation_text);
  if (!generation) return generation.error();
  const auto shape = topology::parse_topology(*generation, topology_text);
  if (!shape) return shape.error();
  if (second == std::string_view::npos) return SliceSpec::with_default_host(*generation, *shape);
  const std::string_view chips_text = rest.substr(second + 1);
  int chips = 0;
  const auto [ptr, ec] = std::from_chars(chips_text.data(), chips_text.data() + chips_text.size(), chips);
  if (ec != std::errc() || ptr != chips_text.data() + chips_text.size()) {
    return Error{"--simulate '" + std::string(text) + "': CHIPS_PER_HOST must be a number, got '" +
                 std::string(chips_text) + "'"};
  }
  return SliceSpec::make(*generation, *shape, chips);
}

std::vector<Chip> simulated_chips(const SliceSpec& slice) {
  const auto& g = slice.generation_info();
  const int per_host = slice.chips_per_host();
  std::vector<Chip> chips;
  for (int i = 0; i < per_host; ++i) {
    Chip chip;
    chip.index = i;
    chip.numa_node = per_host == 8 ? i / 4 : 0;
    char pci[32];
    // TPU VMs place the chips on consecutive slots of bus 0 starting at slot 4.
    std::snprintf(pci, sizeof pci, "0000:00:%02x", 4 + i);
    chip.pci_address = pci;
    for (int f = 0; f < g.pci_functions_per_chip; ++f)
      chip.pci_functions.push_back(chip.pci_address + "." + std::to_string(f));
    if (g.device_nodes == DeviceNodeStyle::kAccel) {
      chip.id = "accel" + std::to_string(i);
      chip.device_paths = {"/dev/accel" + std::to_string(i)};
    } else {
      chip.id = "vfio" + std::to_string(i);
      chip.device_paths = {"/dev/vfio/" + std::to_string(i), "/dev/vfio/vfio"};
    }
    chips.push_back(std::move(chip));
  }
  return chips;
}

}  // namespace tpustack::deviceplugin
