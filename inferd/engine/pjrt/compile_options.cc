#include "inferd/engine/pjrt/compile_options.h"

#include <cstdint>

namespace tpustack::inferd::engine::pjrt {

namespace {

// Protocol-buffer wire format, only as much as the options below need: varint fields (wire type 0) and embedded
// messages (wire type 2). Written by hand so that inferd does not link protobuf and XLA's .proto files for three
// numbers.
class ProtoWriter {
 public:
  // An int64 or bool field; negative values take ten bytes, as protobuf writes them.
  void varint_field(uint32_t number, int64_t value) {
    varint(uint64_t{number} << 3);
    varint(static_cast<uint64_t>(value));
  }

  void message_field(uint32_t number, const std::string& message) {
    varint((uint64_t{number} << 3) | 2);
    varint(message.size());
    bytes_ += message;
  }

  const std::string& bytes() const { return bytes_; }

 private:
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_ += static_cast<char>((value & 0x7f) | 0x80);
      value >>= 7;
    }
    bytes_ += static_cast<char>(value);
  }

  std::string bytes_;
};

}  // namespace

std::string single_device_compile_options() {
  // Field numbers from openxla/xla, xla/pjrt/proto/compile_options.proto (earlier xla/pjrt/compile_options.proto):
  //   message ExecutableBuildOptionsProto { int64 device_ordinal = 1; int64 num_replicas = 4; int64 num_partitions = 5;
  //   } message CompileOptionsProto { ExecutableBuildOptionsProto executable_build_options = 3;
  //                                 bool compile_portable_executable = 4; }
  // device_ordinal -1 is "unset" (ExecutableBuildOptionsFromProto); proto3's default 0 would pin device 0. Execution
  // on a device named at run time (PJRT_LoadedExecutable_Execute's execute_device) needs a portable executable.
  ProtoWriter build;
  build.varint_field(1, -1);
  build.varint_field(4, 1);
  build.varint_field(5, 1);

  ProtoWriter options;
  options.message_field(3, build.bytes());
  options.varint_field(4, 1);
  return options.bytes();
}

}  // namespace tpustack::inferd::engine::pjrt
