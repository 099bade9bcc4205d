#include "tests/inferd_pjrt/compile_options_reader.h"

#include <functional>

namespace tpustack::stablehlo_reference {

namespace {

std::optional<uint64_t> read_varint(std::string_view& bytes) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64 && !bytes.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes.front());
    bytes.remove_prefix(1);
    value |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;
}

// Calls `on_varint` or `on_message` for each field of a message (wire types 0 and 2), skipping fixed-width ones.
bool read_fields(std::string_view bytes, const std::function<void(uint64_t, uint64_t)>& on_varint,
                 const std::function<bool(uint64_t, std::string_view)>& on_message) {
  while (!bytes.empty()) {
    const auto tag = read_varint(bytes);
    if (!tag) return false;
    const uint64_t number = *tag >> 3;
    switch (*tag & 7) {
      case 0: {
        const auto value = read_varint(bytes);
        if (!value) return false;
        on_varint(number, *value);
        break;
      }
      case 1:
      case 5: {
        const size_t width = (*tag & 7) == 1 ? 8 : 4;
        if (bytes.size() < width) return false;
        bytes.remove_prefix(width);
        break;
      }
      case 2: {
        const auto length = read_varint(bytes);
        if (!length || *length > bytes.size()) return false;
        if (!on_message(number, bytes.substr(0, *length))) return false;
        bytes.remove_prefix(*length);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

}  // namespace

std::optional<CompileOptions> read_compile_options(std::string_view bytes) {
  CompileOptions options;
  auto on_build_option = [&options](uint64_t number, uint64_t value) {
    if (number == 1) options.device_ordinal = static_cast<int64_t>(value);
    if (number == 4) options.num_replicas = static_cast<int64_t>(value);
    if (number == 5) options.num_partitions = static_cast<int64_t>(value);
  };
  auto on_option = [&options](uint64_t number, uint64_t value) {
    if (number == 4) options.compile_portable_executable = value != 0;
  };
  auto on_message = [&on_build_option](uint64_t number, std::string_view message) {
    return number != 3 || read_fields(message, on_build_option, [](uint64_t, std::string_view) { return true; });
  };
  if (!read_fields(bytes, on_option, on_message)) return std::nullopt;
  return options;
}

}  // namespace tpustack::stablehlo_reference
