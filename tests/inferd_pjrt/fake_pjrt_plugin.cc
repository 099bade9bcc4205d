// A PJRT plugin that stands in for libtpu.so in tests: a shared library exporting GetPjrtApi, with a client of two
// fake TPU devices whose memory is host memory. It compiles StableHLO text with the reference parser and runs it
// with the reference interpreter (stablehlo_text.h, stablehlo_interpreter.h), synchronously: every event it returns
// is already ready. It checks what a real plugin checks (initialisation first, argument structs no smaller than it
// knows, compile options, arguments on the device that runs) and counts what the tests must see released. Faults
// come from the environment:
//   FAKE_PJRT_API_MAJOR, FAKE_PJRT_API_MINOR  the version GetPjrtApi reports (default: inferd's declarations')
//   FAKE_PJRT_API_STRUCT_SIZE                 the function table's struct_size, to report a short table
//   FAKE_PJRT_FAIL_CLIENT_CREATE=MESSAGE      PJRT_Client_Create fails with MESSAGE, RESOURCE_EXHAUSTED
//   FAKE_PJRT_FAIL_COMPILE=MESSAGE            PJRT_Client_Compile fails with MESSAGE, INTERNAL
//   FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES=N     PJRT_Client_BufferFromHostBuffer fails RESOURCE_EXHAUSTED when the
//                                             live buffers would hold more than N bytes
//   FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE=ID       an execution on device ID fails INTERNAL "device error", reported
//                                             through its completion event, after its outputs were made
// The first three are read by each GetPjrtApi call, the others by each call they affect.

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "tests/inferd_pjrt/bfloat16.h"
#include "tests/inferd_pjrt/compile_options_reader.h"
#include "tests/inferd_pjrt/stablehlo_interpreter.h"
#include "tests/inferd_pjrt/stablehlo_text.h"

namespace reference = tpustack::stablehlo_reference;

struct PJRT_Error {
  std::string message;
  PJRT_Error_Code code;
};

struct PJRT_DeviceDescription {
  int id;
  std::string kind;
};

struct PJRT_Device {
  PJRT_DeviceDescription description;
};

struct PJRT_Event {
  PJRT_Error_Code code = PJRT_Error_Code_OK;  // how the work it stands for ended
  std::string message;
};

struct PJRT_Buffer {
  PJRT_Device* device;
  PJRT_Buffer_Type type;
  std::vector<int64_t> dims;
  std::vector<char> bytes;  // row-major
};

struct PJRT_LoadedExecutable {
  reference::Program program;
  bool portable;
};

struct PJRT_Executable {
  size_t num_outputs;
};

struct PJRT_Client {
  std::array<PJRT_Device, 2> devices{{{{0, "FakeTPU v0"}}, {{1, "FakeTPU v0"}}}};
  std::array<PJRT_Device*, 2> addressable{&devices[0], &devices[1]};
  std::string platform = "fake";
};

namespace {

std::atomic<int> initializations{0};
std::atomic<int> live_clients{0};
std::atomic<int> live_errors{0};
std::atomic<int> live_events{0};
std::atomic<int> live_buffers{0};
std::atomic<int> live_executables{0};  // loaded ones and the PJRT_Executable views of them
std::atomic<int64_t> live_bytes{0};

PJRT_Error* make_error(PJRT_Error_Code code, std::string message) {
  ++live_errors;
  return new PJRT_Error{std::move(message), code};
}

// What real plugins do with an argument struct from an older caller: refuse it.
template <typename Args>
PJRT_Error* check_size(const Args* args, size_t expected, const char* name) {
  if (args->struct_size >= expected) return nullptr;
  return make_error(PJRT_Error_Code_INVALID_ARGUMENT, std::string("Unexpected ") + name + " size: expected " +
                                                          std::to_string(expected) + ", got " +
                                                          std::to_string(args->struct_size));
}

int64_t integer_from_environment(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoll(value) : fallback;
}

const char* text_from_environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

PJRT_Event* make_event(PJRT_Error_Code code = PJRT_Error_Code_OK, std::string message = "") {
  ++live_events;
  return new PJRT_Event{code, std::move(message)};
}

size_t element_size(PJRT_Buffer_Type type) { return type == PJRT_Buffer_Type_BF16 ? 2 : 4; }

int64_t element_count(const std::vector<int64_t>& dims) {
  int64_t count = 1;
  for (int64_t dimension : dims) count *= dimension;
  return count;
}

PJRT_Buffer* make_buffer(PJRT_Device* device, PJRT_Buffer_Type type, std::vector<int64_t> dims) {
  const size_t bytes = static_cast<size_t>(element_count(dims)) * element_size(type);
  ++live_buffers;
  live_bytes += static_cast<int64_t>(bytes);
  return new PJRT_Buffer{device, type, std::move(dims), std::vector<char>(bytes)};
}

reference::ElementType element_of(PJRT_Buffer_Type type) {
  return type == PJRT_Buffer_Type_BF16  ? reference::ElementType::kBF16
         : type == PJRT_Buffer_Type_S32 ? reference::ElementType::kI32
                                        : reference::ElementType::kF32;
}

PJRT_Buffer_Type buffer_type_of(reference::ElementType element) {
  return element == reference::ElementType::kBF16  ? PJRT_Buffer_Type_BF16
         : element == reference::ElementType::kI32 ? PJRT_Buffer_Type_S32
                                                   : PJRT_Buffer_Type_F32;
}

// The interpreter holds every element as a float: bf16 widened, int32 converted (exact below 2^24, ample for ids).
reference::Tensor tensor_of(const PJRT_Buffer& buffer) {
  reference::Tensor tensor;
  tensor.type.element = element_of(buffer.type);
  tensor.type.dims = buffer.dims;
  tensor.values.resize(element_count(buffer.dims));
  for (size_t i = 0; i < tensor.values.size(); ++i) {
    if (buffer.type == PJRT_Buffer_Type_BF16) {
      uint16_t bits;
      std::memcpy(&bits, buffer.bytes.data() + 2 * i, sizeof(bits));
      tensor.values[i] = reference::bf16_to_float(bits);
    } else if (buffer.type == PJRT_Buffer_Type_S32) {
      int32_t value;
      std::memcpy(&value, buffer.bytes.data() + 4 * i, sizeof(value));
      tensor.values[i] = static_cast<float>(value);
    } else {
      std::memcpy(&tensor.values[i], buffer.bytes.data() + 4 * i, sizeof(float));
    }
  }
  return tensor;
}

PJRT_Buffer* buffer_of(PJRT_Device* device, const reference::Tensor& tensor) {
  PJRT_Buffer* buffer = make_buffer(device, buffer_type_of(tensor.type.element), tensor.type.dims);
  for (size_t i = 0; i < tensor.values.size(); ++i) {
    if (buffer->type == PJRT_Buffer_Type_BF16) {
      const uint16_t bits = reference::float_to_bf16(tensor.values[i]);
      std::memcpy(buffer->bytes.data() + 2 * i, &bits, sizeof(bits));
    } else if (buffer->type == PJRT_Buffer_Type_S32) {
      const auto value = static_cast<int32_t>(tensor.values[i]);
      std::memcpy(buffer->bytes.data() + 4 * i, &value, sizeof(value));
    } else {
      std::memcpy(buffer->bytes.data() + 4 * i, &tensor.values[i], sizeof(float));
    }
  }
  return buffer;
}

void error_destroy(PJRT_Error_Destroy_Args* args) {
  if (args->error == nullptr) return;
  --live_errors;
  delete args->error;
}

void error_message(PJRT_Error_Message_Args* args) {
  args->message = args->error->message.data();
  args->message_size = args->error->message.size();
}

PJRT_Error* error_get_code(PJRT_Error_GetCode_Args* args) {
  args->code = args->error->code;
  return nullptr;
}

PJRT_Error* event_destroy(PJRT_Event_Destroy_Args* args) {
  if (auto* error = check_size(args, PJRT_Event_Destroy_Args_STRUCT_SIZE, "PJRT_Event_Destroy_Args")) return error;
  if (args->event == nullptr) return nullptr;
  --live_events;
  delete args->event;
  return nullptr;
}

PJRT_Error* event_await(PJRT_Event_Await_Args* args) {
  if (auto* error = check_size(args, PJRT_Event_Await_Args_STRUCT_SIZE, "PJRT_Event_Await_Args")) return error;
  if (args->event->code == PJRT_Error_Code_OK) return nullptr;
  return make_error(args->event->code, args->event->message);
}

PJRT_Error* plugin_initialize(PJRT_Plugin_Initialize_Args* args) {
  if (auto* error = check_size(args, PJRT_Plugin_Initialize_Args_STRUCT_SIZE, "PJRT_Plugin_Initialize_Args")) {
    return error;
  }
  ++initializations;
  return nullptr;
}

PJRT_Error* client_create(PJRT_Client_Create_Args* args) {
  if (auto* error = check_size(args, PJRT_Client_Create_Args_STRUCT_SIZE, "PJRT_Client_Create_Args")) return error;
  if (initializations == 0) {
    return make_error(PJRT_Error_Code_FAILED_PRECONDITION, "PJRT_Plugin_Initialize was not called");
  }
  if (const char* failure = text_from_environment("FAKE_PJRT_FAIL_CLIENT_CREATE")) {
    return make_error(PJRT_Error_Code_RESOURCE_EXHAUSTED, failure);
  }
  args->client = new PJRT_Client;
  ++live_clients;
  return nullptr;
}

PJRT_Error* client_destroy(PJRT_Client_Destroy_Args* args) {
  if (auto* error = check_size(args, PJRT_Client_Destroy_Args_STRUCT_SIZE, "PJRT_Client_Destroy_Args")) return error;
  if (args->client == nullptr) return nullptr;
  --live_clients;
  delete args->client;
  return nullptr;
}

PJRT_Error* client_platform_name(PJRT_Client_PlatformName_Args* args) {
  if (auto* error = check_size(args, PJRT_Client_PlatformName_Args_STRUCT_SIZE, "PJRT_Client_PlatformName_Args")) {
    return error;
  }
  args->platform_name = args->client->platform.data();
  args->platform_name_size = args->client->platform.size();
  return nullptr;
}

PJRT_Error* client_addressable_devices(PJRT_Client_AddressableDevices_Args* args) {
  if (auto* error =
          check_size(args, PJRT_Client_AddressableDevices_Args_STRUCT_SIZE, "PJRT_Client_AddressableDevices_Args")) {
    return error;
  }
  args->addressable_devices = args->client->addressable.data();
  args->num_addressable_devices = args->client->addressable.size();
  return nullptr;
}

PJRT_Error* client_compile(PJRT_Client_Compile_Args* args) {
  if (auto* error = check_size(args, PJRT_Client_Compile_Args_STRUCT_SIZE, "PJRT_Client_Compile_Args")) return error;
  if (auto* error = check_size(args->program, PJRT_Program_STRUCT_SIZE, "PJRT_Program")) return error;
  if (std::string_view(args->program->format, args->program->format_size) != "mlir") {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "the fake compiles programs of format mlir only");
  }
  const auto options =
      reference::read_compile_options(std::string_view(args->compile_options, args->compile_options_size));
  if (!options) {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "compile_options is not a serialized CompileOptionsProto");
  }
  if (options->num_replicas != 1 || options->num_partitions != 1) {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "the fake compiles for 1 replica and 1 partition, not " +
                                                            std::to_string(options->num_replicas) + " and " +
                                                            std::to_string(options->num_partitions));
  }
  if (const char* failure = text_from_environment("FAKE_PJRT_FAIL_COMPILE")) {
    return make_error(PJRT_Error_Code_INTERNAL, failure);
  }
  auto program = reference::parse_program(std::string_view(args->program->code, args->program->code_size));
  if (!program) return make_error(PJRT_Error_Code_INVALID_ARGUMENT, program.error().message);
  ++live_executables;
  args->executable = new PJRT_LoadedExecutable{std::move(*program), options->compile_portable_executable};
  return nullptr;
}

PJRT_Error* client_buffer_from_host_buffer(PJRT_Client_BufferFromHostBuffer_Args* args) {
  if (auto* error = check_size(args, PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE,
                               "PJRT_Client_BufferFromHostBuffer_Args")) {
    return error;
  }
  if (args->type != PJRT_Buffer_Type_F32 && args->type != PJRT_Buffer_Type_BF16 && args->type != PJRT_Buffer_Type_S32) {
    return make_error(PJRT_Error_Code_UNIMPLEMENTED, "the fake holds F32, BF16 and S32 buffers only");
  }
  if (args->num_byte_strides != 0 || args->device_layout != nullptr || args->memory != nullptr ||
      args->device == nullptr) {
    return make_error(PJRT_Error_Code_UNIMPLEMENTED, "the fake copies dense arrays to a device's default memory only");
  }
  std::vector<int64_t> dims(args->dims, args->dims + args->num_dims);
  const auto bytes = static_cast<int64_t>(element_count(dims) * element_size(args->type));
  const int64_t limit = integer_from_environment("FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES", -1);
  if (limit >= 0 && live_bytes + bytes > limit) {
    return make_error(PJRT_Error_Code_RESOURCE_EXHAUSTED,
                      "Error allocating device buffer: attempting to allocate " + std::to_string(bytes) +
                          " bytes on device " + std::to_string(args->device->description.id) + ", where " +
                          std::to_string(limit - live_bytes) + " of " + std::to_string(limit) + " bytes are free");
  }
  args->buffer = make_buffer(args->device, args->type, std::move(dims));
  std::memcpy(args->buffer->bytes.data(), args->data, args->buffer->bytes.size());
  args->done_with_host_buffer = make_event();
  return nullptr;
}

PJRT_Error* device_description_id(PJRT_DeviceDescription_Id_Args* args) {
  if (auto* error = check_size(args, PJRT_DeviceDescription_Id_Args_STRUCT_SIZE, "PJRT_DeviceDescription_Id_Args")) {
    return error;
  }
  args->id = args->device_description->id;
  return nullptr;
}

PJRT_Error* device_description_kind(PJRT_DeviceDescription_Kind_Args* args) {
  if (auto* error =
          check_size(args, PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE, "PJRT_DeviceDescription_Kind_Args")) {
    return error;
  }
  args->device_kind = args->device_description->kind.data();
  args->device_kind_size = args->device_description->kind.size();
  return nullptr;
}

PJRT_Error* device_get_description(PJRT_Device_GetDescription_Args* args) {
  if (auto* error = check_size(args, PJRT_Device_GetDescription_Args_STRUCT_SIZE, "PJRT_Device_GetDescription_Args")) {
    return error;
  }
  args->device_description = &args->device->description;
  return nullptr;
}

PJRT_Error* executable_destroy(PJRT_Executable_Destroy_Args* args) {
  if (auto* error = check_size(args, PJRT_Executable_Destroy_Args_STRUCT_SIZE, "PJRT_Executable_Destroy_Args")) {
    return error;
  }
  if (args->executable == nullptr) return nullptr;
  --live_executables;
  delete args->executable;
  return nullptr;
}

PJRT_Error* executable_num_outputs(PJRT_Executable_NumOutputs_Args* args) {
  if (auto* error = check_size(args, PJRT_Executable_NumOutputs_Args_STRUCT_SIZE, "PJRT_Executable_NumOutputs_Args")) {
    return error;
  }
  args->num_outputs = args->executable->num_outputs;
  return nullptr;
}

PJRT_Error* loaded_executable_destroy(PJRT_LoadedExecutable_Destroy_Args* args) {
  if (auto* error =
          check_size(args, PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE, "PJRT_LoadedExecutable_Destroy_Args")) {
    return error;
  }
  if (args->executable == nullptr) return nullptr;
  --live_executables;
  delete args->executable;
  return nullptr;
}

PJRT_Error* loaded_executable_get_executable(PJRT_LoadedExecutable_GetExecutable_Args* args) {
  if (auto* error = check_size(args, PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE,
                               "PJRT_LoadedExecutable_GetExecutable_Args")) {
    return error;
  }
  ++live_executables;
  args->executable = new PJRT_Executable{args->loaded_executable->program.results.size()};
  return nullptr;
}

PJRT_Error* loaded_executable_execute(PJRT_LoadedExecutable_Execute_Args* args) {
  if (auto* error =
          check_size(args, PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE, "PJRT_LoadedExecutable_Execute_Args")) {
    return error;
  }
  if (auto* error = check_size(args->options, PJRT_ExecuteOptions_STRUCT_SIZE, "PJRT_ExecuteOptions")) return error;
  PJRT_Device* device = args->execute_device;
  if (device == nullptr || args->num_devices != 1) {
    return make_error(PJRT_Error_Code_UNIMPLEMENTED, "the fake executes on one device named by execute_device");
  }
  // What XLA's clients answer when an executable compiled for a device assignment is run on a device of choice.
  if (!args->executable->portable) {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "ExecutePortable gets a non-portable executable");
  }
  std::vector<reference::Tensor> arguments;
  for (size_t i = 0; i < args->num_args; ++i) {
    const PJRT_Buffer& argument = *args->argument_lists[0][i];
    if (argument.device != device) {
      return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "argument " + std::to_string(i) + " is on device " +
                                                              std::to_string(argument.device->description.id) +
                                                              ", the execution on device " +
                                                              std::to_string(device->description.id));
    }
    arguments.push_back(tensor_of(argument));
  }
  const reference::Program& program = args->executable->program;
  auto results = reference::run_program(program, std::move(arguments));
  if (!results) return make_error(PJRT_Error_Code_INVALID_ARGUMENT, results.error().message);

  const bool fails = integer_from_environment("FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE", -1) == device->description.id;
  if (fails && args->device_complete_events == nullptr) return make_error(PJRT_Error_Code_INTERNAL, "device error");
  for (size_t i = 0; i < results->size(); ++i) args->output_lists[0][i] = buffer_of(device, (*results)[i]);
  if (args->device_complete_events != nullptr) {
    args->device_complete_events[0] = fails ? make_event(PJRT_Error_Code_INTERNAL, "device error") : make_event();
  }
  return nullptr;
}

PJRT_Error* buffer_destroy(PJRT_Buffer_Destroy_Args* args) {
  if (auto* error = check_size(args, PJRT_Buffer_Destroy_Args_STRUCT_SIZE, "PJRT_Buffer_Destroy_Args")) return error;
  if (args->buffer == nullptr) return nullptr;
  --live_buffers;
  live_bytes -= static_cast<int64_t>(args->buffer->bytes.size());
  delete args->buffer;
  return nullptr;
}

PJRT_Error* buffer_element_type(PJRT_Buffer_ElementType_Args* args) {
  if (auto* error = check_size(args, PJRT_Buffer_ElementType_Args_STRUCT_SIZE, "PJRT_Buffer_ElementType_Args")) {
    return error;
  }
  args->type = args->buffer->type;
  return nullptr;
}

PJRT_Error* buffer_dimensions(PJRT_Buffer_Dimensions_Args* args) {
  if (auto* error = check_size(args, PJRT_Buffer_Dimensions_Args_STRUCT_SIZE, "PJRT_Buffer_Dimensions_Args")) {
    return error;
  }
  args->dims = args->buffer->dims.data();
  args->num_dims = args->buffer->dims.size();
  return nullptr;
}

// Whether `layout` is none or the dense row-major one, the only host layout the fake copies to.
bool row_major(const PJRT_Buffer_MemoryLayout* layout, size_t rank) {
  if (layout == nullptr) return true;
  if (layout->type != PJRT_Buffer_MemoryLayout_Type_Tiled || layout->tiled.num_tiles != 0 ||
      layout->tiled.minor_to_major_size != rank) {
    return false;
  }
  for (size_t i = 0; i < rank; ++i) {
    if (layout->tiled.minor_to_major[i] != static_cast<int64_t>(rank - 1 - i)) return false;
  }
  return true;
}

PJRT_Error* buffer_to_host_buffer(PJRT_Buffer_ToHostBuffer_Args* args) {
  if (auto* error = check_size(args, PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE, "PJRT_Buffer_ToHostBuffer_Args")) {
    return error;
  }
  const std::vector<char>& bytes = args->src->bytes;
  if (!row_major(args->host_layout, args->src->dims.size())) {
    return make_error(PJRT_Error_Code_UNIMPLEMENTED, "the fake copies to row-major host layouts only");
  }
  if (args->dst == nullptr) {
    args->dst_size = bytes.size();
    return nullptr;
  }
  if (args->dst_size < bytes.size()) {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "`dst_size` must be >= " + std::to_string(bytes.size()) +
                                                            ", got " + std::to_string(args->dst_size) + ".");
  }
  std::memcpy(args->dst, bytes.data(), bytes.size());
  args->event = make_event();
  return nullptr;
}

PJRT_Error* buffer_ready_event(PJRT_Buffer_ReadyEvent_Args* args) {
  if (auto* error = check_size(args, PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE, "PJRT_Buffer_ReadyEvent_Args")) {
    return error;
  }
  args->event = make_event();
  return nullptr;
}

PJRT_Api make_api() {
  PJRT_Api api{};
  api.PJRT_Error_Destroy = error_destroy;
  api.PJRT_Error_Message = error_message;
  api.PJRT_Error_GetCode = error_get_code;
  api.PJRT_Plugin_Initialize = plugin_initialize;
  api.PJRT_Event_Destroy = event_destroy;
  api.PJRT_Event_Await = event_await;
  api.PJRT_Client_Create = client_create;
  api.PJRT_Client_Destroy = client_destroy;
  api.PJRT_Client_PlatformName = client_platform_name;
  api.PJRT_Client_AddressableDevices = client_addressable_devices;
  api.PJRT_Client_Compile = client_compile;
  api.PJRT_Client_BufferFromHostBuffer = client_buffer_from_host_buffer;
  api.PJRT_DeviceDescription_Id = device_description_id;
  api.PJRT_DeviceDescription_Kind = device_description_kind;
  api.PJRT_Device_GetDescription = device_get_description;
  api.PJRT_Executable_Destroy = executable_destroy;
  api.PJRT_Executable_NumOutputs = executable_num_outputs;
  api.PJRT_LoadedExecutable_Destroy = loaded_executable_destroy;
  api.PJRT_LoadedExecutable_GetExecutable = loaded_executable_get_executable;
  api.PJRT_LoadedExecutable_Execute = loaded_executable_execute;
  api.PJRT_Buffer_Destroy = buffer_destroy;
  api.PJRT_Buffer_ElementType = buffer_element_type;
  api.PJRT_Buffer_Dimensions = buffer_dimensions;
  api.PJRT_Buffer_ToHostBuffer = buffer_to_host_buffer;
  api.PJRT_Buffer_ReadyEvent = buffer_ready_event;
  return api;
}

}  // namespace

extern "C" {

const PJRT_Api* GetPjrtApi() {
  static PJRT_Api api = make_api();
  api.struct_size = integer_from_environment("FAKE_PJRT_API_STRUCT_SIZE", sizeof(PJRT_Api));
  api.pjrt_api_version.struct_size = PJRT_Api_Version_STRUCT_SIZE;
  api.pjrt_api_version.major_version =
      static_cast<int>(integer_from_environment("FAKE_PJRT_API_MAJOR", PJRT_API_MAJOR));
  api.pjrt_api_version.minor_version =
      static_cast<int>(integer_from_environment("FAKE_PJRT_API_MINOR", PJRT_API_MINOR));
  return &api;
}

// What the tests read back, looked up with dlsym.
int FakePjrt_Initializations() { return initializations; }
int FakePjrt_LiveClients() { return live_clients; }
int FakePjrt_LiveErrors() { return live_errors; }
int FakePjrt_LiveEvents() { return live_events; }
int FakePjrt_LiveBuffers() { return live_buffers; }
int FakePjrt_LiveExecutables() { return live_executables; }

}  // extern "C"
