#include "inferd/engine/pjrt/pjrt_client.h"

#include <functional>
#include <numeric>
#include <utility>

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

PjrtClient::PjrtClient(PjrtClient&& other) noexcept
    : api_(other.api_),
      client_(std::exchange(other.client_, nullptr)),
      platform_name_(std::move(other.platform_name_)) {}

PjrtClient& PjrtClient::operator=(PjrtClient&& other) noexcept {
  if (this != &other) {
    PjrtClient gone(std::move(*this));
    api_ = other.api_;
    client_ = std::exchange(other.client_, nullptr);
    platform_name_ = std::move(other.platform_name_);
  }
  return *this;
}

PjrtClient::~PjrtClient() {
  if (client_ == nullptr) return;
  PJRT_Client_Destroy_Args args{};
  args.struct_size = PJRT_Client_Destroy_Args_STRUCT_SIZE;
  args.client = client_;
  log_error(*api_, api_->PJRT_Client_Destroy(&args), "PJRT_Client_Destroy");
}

Result<std::vector<PjrtDevice>> PjrtClient::addressable_devices() const {
  auto listed = list_addressable_devices(*api_, client_);
  if (!listed) return listed.error();
  std::vector<PjrtDevice> devices;
  devices.reserve(listed->size());
  for (AddressableDevice& device : *listed) devices.push_back(std::move(device.device));
  return devices;
}

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
  auto device = find_addressable_device(*api_, client_, device_id);
  if (!device) return device.error();

  // The plugin may read `data` until done_with_host_buffer is ready; waiting for it here lets the caller free it.
  PJRT_Client_BufferFromHostBuffer_Args args{};
  args.struct_size = PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE;
  args.client = client_;
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
  args.client = client_;
  args.program = &program;
  args.compile_options = options.data();
  args.compile_options_size = options.size();
  if (PJRT_Error* error = api_->PJRT_Client_Compile(&args)) return take_error(*api_, error, "PJRT_Client_Compile");

  PjrtExecutable executable(api_, client_, args.executable);
  if (auto counted = executable.count_outputs(); !counted) return counted.error();
  return executable;
}

}  // namespace tpustack::inferd::engine::pjrt
