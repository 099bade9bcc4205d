#include "inferd/engine/pjrt/pjrt_client.h"

#include <functional>
#include <numeric>

#include "inferd/engine/pjrt/addressable_devices.h"
#include "inferd/engine/pjrt/compile_options.h"
#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i) text += (i == 0 ? "" : ", ") + std::to_string(dims[i]);
  return text + "]";
}

}  // namespace

void PjrtClient::ClientDestroyer::operator()(PJRT_Client* client) const {
  PJRT_Client_Destroy_Args args{};
  args.struct_size = PJRT_Client_Destroy_Args_STRUCT_SIZE;
  args.client = client;
  log_error(*api, api->PJRT_Client_Destroy(&args), "PJRT_Client_Destroy");
}

const std::vector<PjrtDevice>& PjrtClient::addressable_devices() const { return devices_->devices(); }

Result<PjrtBuffer> PjrtClient::buffer_from_host(std::span<const float> values, const std::vector<int64_t>& dims,
                                                int device_id) const {
  return buffer_from_host(PjrtElementType::kF32, values.data(), values.size(), dims, device_id);
}

Result<PjrtBuffer> PjrtClient::buffer_from_host_bf16(std::span<const uint16_t> values, const std::vector<int64_t>& dims,
                                                     int device_id) const {
  return buffer_from_host(PjrtElementType::kBF16, values.data(), values.size(), dims, device_id);
}

Result<PjrtBuffer> PjrtClient::buffer_from_host_i32(std::span<const int32_t> values, const std::vector<int64_t>& dims,
                                                    int device_id) const {
  return buffer_from_host(PjrtElementType::kS32, values.data(), values.size(), dims, device_id);
}

Result<PjrtBuffer> PjrtClient::buffer_from_host(PjrtElementType type, const void* data, size_t count,
                                                const std::vector<int64_t>& dims, int device_id) const {
  const int64_t elements = std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
  if (elements < 0 || static_cast<size_t>(elements) != count) {
    return Error{std::to_string(count) + " values for an array of shape " + dims_text(dims) + " (" +
                 std::to_string(elements) + " elements)"};
  }
  auto device = devices_->find(device_id);
  if (!device) return device.error();

  // The plugin may read `data` until done_with_host_buffer is ready; waiting for it here lets the caller free it.
  PJRT_Client_BufferFromHostBuffer_Args args{};
  args.struct_size = PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE;
  args.client = client_.get();
  args.data = data;
  args.type = static_cast<PJRT_Buffer_Type>(type);
  args.dims = dims.data();
  args.num_dims = dims.size();
  args.host_buffer_semantics = PJRT_HostBufferSemantics_kImmutableUntilTransferCompletes;
  args.device = *device;
  if (PJRT_Error* error = api_->PJRT_Client_BufferFromHostBuffer(&args)) {
    return take_error(*api_, error, "PJRT_Client_BufferFromHostBuffer");
  }
  PjrtBuffer buffer(api_, args.buffer);
  if (auto released = await_event(*api_, args.done_with_host_buffer, "PJRT_Client_BufferFromHostBuffer"); !released) {
    return released.error();
  }
  // A transfer that fails shows here rather than in whichever execution first reads the buffer.
  if (auto ready = buffer.await_ready("PJRT_Client_BufferFromHostBuffer"); !ready) return ready.error();
  buffer.element_type_ = type;
  buffer.dims_ = dims;
  return buffer;
}

Result<PjrtExecutable> PjrtClient::compile(std::string_view stablehlo_mlir) const {
  std::string code(stablehlo_mlir);  // PJRT_Program's code is not const
  static constexpr std::string_view format = "mlir";
  PJRT_Program program{};
  program.struct_size = PJRT_Program_STRUCT_SIZE;
  program.code = code.data();
  program.code_size = code.size();
  program.format = format.data();
  program.format_size = format.size();

  const std::string options = single_device_compile_options();
  PJRT_Client_Compile_Args args{};
  args.struct_size = PJRT_Client_Compile_Args_STRUCT_SIZE;
  args.client = client_.get();
  args.program = &program;
  args.compile_options = options.data();
  args.compile_options_size = options.size();
  if (PJRT_Error* error = api_->PJRT_Client_Compile(&args)) return take_error(*api_, error, "PJRT_Client_Compile");
  return own_executable(args.executable);
}

Result<PjrtExecutable> PjrtClient::load_serialized(std::string_view bytes) const {
  // Optional in the table; a plugin without it makes every start compile.
  if (api_->PJRT_Executable_DeserializeAndLoad == nullptr) {
    return Error{"the PJRT plugin does not implement PJRT_Executable_DeserializeAndLoad",
                 ErrorKind::kFailedPrecondition};
  }
  PJRT_Executable_DeserializeAndLoad_Args args{};
  args.struct_size = PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE;
  args.client = client_.get();
  args.serialized_executable = bytes.data();
  args.serialized_executable_size = bytes.size();
  if (PJRT_Error* error = api_->PJRT_Executable_DeserializeAndLoad(&args)) {
    return take_error(*api_, error, "PJRT_Executable_DeserializeAndLoad");
  }
  return own_executable(args.loaded_executable);
}

Result<PjrtExecutable> PjrtClient::own_executable(PJRT_LoadedExecutable* executable) const {
  PjrtExecutable owned(api_, devices_, executable);
  if (auto counted = owned.count_outputs(); !counted) return counted.error();
  return owned;
}

}  // namespace tpustack::inferd::engine::pjrt
