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
//   FAKE_PJRT_FAIL_EXECUTION=N                the N-th execution since the plugin loaded (1, 2, ...) fails likewise,
//                                             whichever device runs it: a device that fails once, mid-work
//   FAKE_PJRT_FAIL_DESERIALIZE=MESSAGE        PJRT_Executable_DeserializeAndLoad fails with MESSAGE, INTERNAL
//   FAKE_PJRT_PLATFORM_VERSION=TEXT           the platform version of the clients made from then on, as another
//                                             build of the plugin would report (default "fake 1")
// The first three are read by each GetPjrtApi call, the others by each call they affect.
//
// A serialized executable is a versioned header, the platform version that made it and the program's text, which
// loading parses again; loading refuses bytes of another format or plugin build with an error, as real plugins do.

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
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
  std::string serialized;  // what PJRT_Executable_Serialize gives for it
};

struct PJRT_Executable {
  size_t num_outputs;
  std::string serialized;
};

struct PJRT_SerializedExecutable {
  std::string bytes;
};

struct PJRT_Client {
  std::array<PJRT_Device, 2> devices{{{{0, "FakeTPU v0"}}, {{1, "FakeTPU v0"}}}};
  std::array<PJRT_Device*, 2> addressable{&devices[0], &devices[1]};
  std::string platform = "fake";
  std::string platform_version;
};

namespace {

std::atomic<int> initializations{0};
std::atomic<int> live_clients{0};
std::atomic<int> live_errors{0};
std::atomic<int> live_events{0};
std::atomic<int> live_buffers{0};
std::atomic<int> live_executables{0};  // loaded ones and the PJRT_Executable views of them
std::atomic<int> live_serialized_executables{0};
std::atomic<int64_t> live_bytes{0};
std::atomic<int> compilations{0};  // programs compiled, not loaded from serialized bytes
std::atomic<int> executions{0};

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

constexpr std::string_view kSerializedFormat = "fake-pjrt-executable 1\n";

std::string serialized_form(const std::string& platform_version, bool portable, std::string_view program) {
  return std::string(kSerializedFormat) + "platform-version " + platform_version + "\nportable " +
         (portable ? "1" : "0") + "\nprogram-bytes " + std::to_string(program.size()) + "\n" + std::string(program);
}

// The value of the line "<key> <value>\n" at the start of `rest`, which moves past it; none when it is not there.
std::optional<std::string_view> take_line(std::string_view& rest, std::string_view key) {
  const size_t end = rest.find('\n');
  if (end == std::string_view::npos || !rest.starts_with(key) || rest.size() <= key.size() || rest[key.size()] != ' ') {
    return std::nullopt;
  }
  const std::string_view value = rest.substr(key.size() + 1, end - key.size() - 1);
  rest.remove_prefix(end + 1);
  return value;
}

// A loaded executable from serialized_form's bytes, made on a client of `platform_version`.
PJRT_Error* load_serialized(std::string_view bytes, const std::string& platform_version,
                            PJRT_LoadedExecutable** loaded) {
  std::string_view rest = bytes;
  if (!rest.starts_with(kSerializedFormat)) {
    return make_error(PJRT_Error_Code_INVALID_ARGUMENT, "not a serialized executable of the fake plugin");
  }
  rest.remove_prefix(kSerializedFormat.size());
  const auto made_by = take_line(rest, "platform-version");
  const auto portable = take_line(rest, "portable");
  const auto size = take_line(rest, "program-bytes");
  if (!made_by || !portable || (*portable != "0" && *portable != "1") || !size ||
      *size != std::to_string(rest.size())) {
    return make_error(PJRT_Error_Code_DATA_LOSS, "the serialized executable is damaged");
  }
  if (*made_by != platform_version) {
    return make_error(PJRT_Error_Code_FAILED_PRECONDITION, "the executable was serialized by platform version " +
                                                               std::string(*made_by) + ", this is " + platform_version);
  }
  auto program = reference::parse_program(rest);
  if (!program) return make_error(PJRT_Error_Code_DATA_LOSS, program.error().message);
  ++live_executables;
  *loaded = new PJRT_LoadedExecutable{std::move(*program), *portable == "1", std::string(bytes)};
  return nullptr;
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
  const char* version = text_from_environment("FAKE_PJRT_PLATFORM_VERSION");
  args->client = new PJRT_Client;
  args->client->platform_version = version != nullptr ? version : "fake 1";
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

PJRT_Error* client_platform_version(PJRT_Client_PlatformVersion_Args* args) {
  if (auto* error =
          check_size(args, PJRT_Client_PlatformVersion_Args_STRUCT_SIZE, "PJRT_Client_PlatformVersion_Args")) {
    return error;
  }
  args->platform_version = args->client->platform_version.data();
  args->platform_version_size = args->client->platform_version.size();
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
  const std::string_view text(args->program->code, args->program->code_size);
  auto program = reference::parse_program(text);
  if (!program) return make_error(PJRT_Error_Code_INVALID_ARGUMENT, program.error().message);
  ++live_executables;
  ++compilations;
  const bool portable = options->compile_portable_executable;
  args->executable = new PJRT_LoadedExecutable{std::move(*program), portable,
                                               serialized_form(args->client->platform_version, portable, text)};
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
  args->executable =
      new PJRT_Executable{args->loaded_executable->program.results.size(), args->loaded_executable->serialized};
  return nullptr;
}

void serialized_executable_delete(PJRT_SerializedExecutable* serialized) {
  --live_serialized_executables;
  delete serialized;
}

PJRT_Error* executable_serialize(PJRT_Executable_Serialize_Args* args) {
  if (auto* error = check_size(args, PJRT_Executable_Serialize_Args_STRUCT_SIZE, "PJRT_Executable_Serialize_Args")) {
    return error;
  }
  ++live_serialized_executables;
  auto* serialized = new PJRT_SerializedExecutable{args->executable->serialized};
  args->serialized_executable = serialized;
  args->serialized_bytes = serialized->bytes.data();
  args->serialized_bytes_size = serialized->bytes.size();
  args->serialized_executable_deleter = serialized_executable_delete;
  return nullptr;
}

PJRT_Error* executable_deserialize_and_load(PJRT_Executable_DeserializeAndLoad_Args* args) {
  if (auto* error = check_size(args, PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE,
                               "PJRT_Executable_DeserializeAndLoad_Args")) {
    return error;
  }
  if (const char* failure = text_from_environment("FAKE_PJRT_FAIL_DESERIALIZE")) {
    return make_error(PJRT_Error_Code_INTERNAL, failure);
  }
  return load_serialized(std::string_view(args->serialized_executable, args->serialized_executable_size),
                         args->client->platform_version, &args->loaded_executable);
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

  const int execution = ++executions;  // every execution counts, whichever fault strikes it
  const bool fails = integer_from_environment("FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE", -1) == device->description.id ||
                     integer_from_environment("FAKE_PJRT_FAIL_EXECUTION", -1) == execution;
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
  api.PJRT_Client_PlatformVersion = client_platform_version;
  api.PJRT_Client_AddressableDevices = client_addressable_devices;
  api.PJRT_Client_Compile = client_compile;
  api.PJRT_Client_BufferFromHostBuffer = client_buffer_from_host_buffer;
  api.PJRT_DeviceDescription_Id = device_description_id;
  api.PJRT_DeviceDescription_Kind = device_description_kind;
  api.PJRT_Device_GetDescription = device_get_description;
  api.PJRT_Executable_Destroy = executable_destroy;
  api.PJRT_Executable_NumOutputs = executable_num_outputs;
  api.PJRT_Executable_Serialize = executable_serialize;
  api.PJRT_Executable_DeserializeAndLoad = executable_deserialize_and_load;
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
int FakePjrt_LiveSerializedExecutables() { return live_serialized_executables; }
int FakePjrt_Compilations() { return compilations; }

}  // extern "C"
