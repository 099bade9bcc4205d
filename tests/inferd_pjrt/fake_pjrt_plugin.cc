// A PJRT plugin that stands in for libtpu.so in tests: a shared library exporting GetPjrtApi, with a client of two
// fake TPU devices. It checks what a real plugin checks (initialisation first, argument structs no smaller than it
// knows) and counts what the tests must see released. Faults come from the environment:
//   FAKE_PJRT_API_MAJOR, FAKE_PJRT_API_MINOR  the version GetPjrtApi reports (default: inferd's declarations')
//   FAKE_PJRT_API_STRUCT_SIZE                 the function table's struct_size, to report a short table
//   FAKE_PJRT_FAIL_CLIENT_CREATE=MESSAGE      PJRT_Client_Create fails with MESSAGE, RESOURCE_EXHAUSTED
// The first three are read by each GetPjrtApi call, the last by each PJRT_Client_Create.

#include <array>
#include <atomic>
#include <cstdlib>
#include <string>

#include "inferd/engine/pjrt/pjrt_c_api.h"

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

struct PJRT_Client {
  std::array<PJRT_Device, 2> devices{{{{0, "FakeTPU v0"}}, {{1, "FakeTPU v0"}}}};
  std::array<PJRT_Device*, 2> addressable{&devices[0], &devices[1]};
  std::string platform = "fake";
};

namespace {

std::atomic<int> initializations{0};
std::atomic<int> live_clients{0};
std::atomic<int> live_errors{0};

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

int integer_from_environment(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
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
  if (const char* failure = std::getenv("FAKE_PJRT_FAIL_CLIENT_CREATE"); failure != nullptr && *failure != '\0') {
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

PJRT_Api make_api() {
  PJRT_Api api{};
  api.PJRT_Error_Destroy = error_destroy;
  api.PJRT_Error_Message = error_message;
  api.PJRT_Error_GetCode = error_get_code;
  api.PJRT_Plugin_Initialize = plugin_initialize;
  api.PJRT_Client_Create = client_create;
  api.PJRT_Client_Destroy = client_destroy;
  api.PJRT_Client_PlatformName = client_platform_name;
  api.PJRT_Client_AddressableDevices = client_addressable_devices;
  api.PJRT_DeviceDescription_Id = device_description_id;
  api.PJRT_DeviceDescription_Kind = device_description_kind;
  api.PJRT_Device_GetDescription = device_get_description;
  return api;
}

}  // namespace

extern "C" {

const PJRT_Api* GetPjrtApi() {
  static PJRT_Api api = make_api();
  api.struct_size = integer_from_environment("FAKE_PJRT_API_STRUCT_SIZE", static_cast<int>(sizeof(PJRT_Api)));
  api.pjrt_api_version.struct_size = PJRT_Api_Version_STRUCT_SIZE;
  api.pjrt_api_version.major_version = integer_from_environment("FAKE_PJRT_API_MAJOR", PJRT_API_MAJOR);
  api.pjrt_api_version.minor_version = integer_from_environment("FAKE_PJRT_API_MINOR", PJRT_API_MINOR);
  return &api;
}

// What the tests read back, looked up with dlsym.
int FakePjrt_Initializations() { return initializations; }
int FakePjrt_LiveClients() { return live_clients; }
int FakePjrt_LiveErrors() { return live_errors; }

}  // extern "C"
