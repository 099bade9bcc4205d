#pragma once

// The fake PJRT plugin's reading of a serialized xla.CompileOptionsProto (openxla/xla,
// xla/pjrt/proto/compile_options.proto): the fields a single-device compile depends on, every other field skipped.

#include <cstdint>
#include <optional>
#include <string_view>

namespace tpustack::stablehlo_reference {

struct CompileOptions {
  // executable_build_options (3): device_ordinal (1), num_replicas (4), num_partitions (5); proto3 defaults are 0.
  int64_t device_ordinal = 0;
  int64_t num_replicas = 0;
  int64_t num_partitions = 0;
  bool compile_portable_executable = false;  // (4)
};

// nullopt when `bytes` is not protocol-buffer wire format.
std::optional<CompileOptions> read_compile_options(std::string_view bytes);

}  // namespace tpustack::stablehlo_reference
