#include "inferd/engine/pjrt/pjrt_plugin.h"

#include <dlfcn.h>

#include <array>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>

#include "inferd/engine/pjrt/addressable_devices.h"
#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

// A dlopen handle closed unless released: a library that fails a check is unloaded again.
class LibraryHandle {
 public:
  explicit LibraryHandle(void* handle) : handle_(handle) {}
  LibraryHandle(const LibraryHandle&) = delete;
  LibraryHandle& operator=(const LibraryHandle&) = delete;
  ~LibraryHandle() {
    if (handle_ != nullptr) dlclose(handle_);
  }
  void* get() const { return handle_; }
  void release() { handle_ = nullptr; }

 private:
  void* handle_;
};

std::string version_text(int major, int minor) { return std::to_string(major) + "." + std::to_string(minor); }

// The calls inferd makes, each of which the plugin must fill in.
Result<void> check_entries(const PJRT_Api& api, const std::string& library) {
  const std::array<std::pair<bool, std::string_view>, 24> entries = {{
      {api.PJRT_Error_Destroy != nullptr, "PJRT_Error_Destroy"},
      {api.PJRT_Error_Message != nullptr, "PJRT_Error_Message"},
      {api.PJRT_Error_GetCode != nullptr, "PJRT_Error_GetCode"},
      {api.PJRT_Event_Destroy != nullptr, "PJRT_Event_Destroy"},
      {api.PJRT_Event_Await != nullptr, "PJRT_Event_Await"},
      {api.PJRT_Client_Create != nullptr, "PJRT_Client_Create"},
      {api.PJRT_Client_Destroy != nullptr, "PJRT_Client_Destroy"},
      {api.PJRT_Client_PlatformName != nullptr, "PJRT_Client_PlatformName"},
      {api.PJRT_Client_AddressableDevices != nullptr, "PJRT_Client_AddressableDevices"},
      {api.PJRT_Client_Compile != nullptr, "PJRT_Client_Compile"},
      {api.PJRT_Client_BufferFromHostBuffer != nullptr, "PJRT_Client_BufferFromHostBuffer"},
      {api.PJRT_DeviceDescription_Id != nullptr, "PJRT_DeviceDescription_Id"},
      {api.PJRT_DeviceDescription_Kind != nullptr, "PJRT_DeviceDescription_Kind"},
      {api.PJRT_Device_GetDescription != nullptr, "PJRT_Device_GetDescription"},
      {api.PJRT_Executable_Destroy != nullptr, "PJRT_Executable_Destroy"},
      {api.PJRT_Executable_NumOutputs != nullptr, "PJRT_Executable_NumOutputs"},
      {api.PJRT_LoadedExecutable_Destroy != nullptr, "PJRT_LoadedExecutable_Destroy"},
      {api.PJRT_LoadedExecutable_GetExecutable != nullptr, "PJRT_LoadedExecutable_GetExecutable"},
      {api.PJRT_LoadedExecutable_Execute != nullptr, "PJRT_LoadedExecutable_Execute"},
      {api.PJRT_Buffer_Destroy != nullptr, "PJRT_Buffer_Destroy"},
      {api.PJRT_Buffer_ElementType != nullptr, "PJRT_Buffer_ElementType"},
      {api.PJRT_Buffer_Dimensions != nullptr, "PJRT_Buffer_Dimensions"},
      {api.PJRT_Buffer_ToHostBuffer != nullptr, "PJRT_Buffer_ToHostBuffer"},
      {api.PJRT_Buffer_ReadyEvent != nullptr, "PJRT_Buffer_ReadyEvent"},
  }};
  for (const auto& [present, name] : entries) {
    if (!present) return Error{"PJRT plugin " + library + " does not implement " + std::string(name)};
  }
  return {};
}

// PJRT_Plugin_Initialize must run once per process before any other call; loading the same library again finds the
// same table, which is then not initialised a second time.
Result<void> initialize_once(const PJRT_Api& api) {
  static std::mutex mutex;
  static std::set<const PJRT_Api*> initialized;
  std::lock_guard lock(mutex);
  if (initialized.contains(&api)) return {};
  if (api.PJRT_Plugin_Initialize != nullptr) {
    PJRT_Plugin_Initialize_Args args{};
    args.struct_size = PJRT_Plugin_Initialize_Args_STRUCT_SIZE;
    if (PJRT_Error* error = api.PJRT_Plugin_Initialize(&args)) return take_error(api, error, "PJRT_Plugin_Initialize");
  }
  initialized.insert(&api);
  return {};
}

}  // namespace

Result<PjrtPlugin> PjrtPlugin::load(const std::filesystem::path& library) {
  const std::string name = library.string();
  LibraryHandle handle(dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) return Error{"PJRT plugin " + name + " does not load: " + dlerror()};

  dlerror();
  auto* get_api = reinterpret_cast<PJRT_GetPjrtApi*>(dlsym(handle.get(), "GetPjrtApi"));
  if (get_api == nullptr) return Error{name + " is not a PJRT plugin: it exports no GetPjrtApi"};
  const PJRT_Api* api = get_api();
  if (api == nullptr) return Error{"PJRT plugin " + name + ": GetPjrtApi returned no API"};

  const PJRT_Api_Version& version = api->pjrt_api_version;
  const std::string ours = version_text(PJRT_API_MAJOR, PJRT_API_MINOR);
  if (version.major_version != PJRT_API_MAJOR) {
    return Error{"PJRT plugin " + name + " speaks PJRT API " +
                 version_text(version.major_version, version.minor_version) + ", inferd speaks " + ours +
                 ": another major version is another ABI; use a plugin built for PJRT API " +
                 std::to_string(PJRT_API_MAJOR) + ".x"};
  }
  if (version.minor_version < PJRT_API_MINOR_REQUIRED) {
    return Error{"PJRT plugin " + name + " speaks PJRT API " +
                 version_text(version.major_version, version.minor_version) + ", older than the " +
                 version_text(PJRT_API_MAJOR, PJRT_API_MINOR_REQUIRED) + " inferd needs; use a newer plugin"};
  }
  constexpr size_t needed = PJRT_STRUCT_SIZE(PJRT_Api, PJRT_Buffer_ReadyEvent);
  if (api->struct_size < needed) {
    return Error{"PJRT plugin " + name + "'s function table is " + std::to_string(api->struct_size) +
                 " bytes, too short for the calls inferd makes (" + std::to_string(needed) +
                 " bytes, up to PJRT_Buffer_ReadyEvent)"};
  }
  if (auto entries = check_entries(*api, name); !entries) return entries.error();
  if (auto initialized = initialize_once(*api); !initialized) return initialized.error();

  handle.release();
  return PjrtPlugin(library, api);
}

PjrtApiVersion PjrtPlugin::api_version() const {
  return {api_->pjrt_api_version.major_version, api_->pjrt_api_version.minor_version};
}

Result<PjrtClient> PjrtPlugin::create_client() const {
  PJRT_Client_Create_Args create{};
  create.struct_size = PJRT_Client_Create_Args_STRUCT_SIZE;
  if (PJRT_Error* error = api_->PJRT_Client_Create(&create)) return take_error(*api_, error, "PJRT_Client_Create");
  PjrtClient client(api_, create.client);
  client.plugin_library_ = library_;
  client.api_version_ = api_version();

  PJRT_Client_PlatformName_Args platform{};
  platform.struct_size = PJRT_Client_PlatformName_Args_STRUCT_SIZE;
  platform.client = create.client;
  if (PJRT_Error* error = api_->PJRT_Client_PlatformName(&platform)) {
    return take_error(*api_, error, "PJRT_Client_PlatformName");
  }
  client.platform_name_.assign(platform.platform_name, platform.platform_name_size);

  // Optional in the table; it tells plugin builds apart where the library path does not.
  if (api_->PJRT_Client_PlatformVersion != nullptr) {
    PJRT_Client_PlatformVersion_Args version{};
    version.struct_size = PJRT_Client_PlatformVersion_Args_STRUCT_SIZE;
    version.client = create.client;
    if (PJRT_Error* error = api_->PJRT_Client_PlatformVersion(&version)) {
      return take_error(*api_, error, "PJRT_Client_PlatformVersion");
    }
    client.platform_version_.assign(version.platform_version, version.platform_version_size);
  }

  auto devices = AddressableDevices::list(*api_, create.client);
  if (!devices) return devices.error();
  client.devices_ = std::make_shared<const AddressableDevices>(std::move(*devices));
  return client;
}

}  // namespace tpustack::inferd::engine::pjrt
