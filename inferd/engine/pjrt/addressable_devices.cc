#include "inferd/engine/pjrt/addressable_devices.h"

#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

Result<AddressableDevices> AddressableDevices::list(const PJRT_Api& api, PJRT_Client* client) {
  PJRT_Client_AddressableDevices_Args list{};
  list.struct_size = PJRT_Client_AddressableDevices_Args_STRUCT_SIZE;
  list.client = client;
  if (PJRT_Error* error = api.PJRT_Client_AddressableDevices(&list)) {
    return take_error(api, error, "PJRT_Client_AddressableDevices");
  }

  AddressableDevices listed;
  listed.devices_.reserve(list.num_addressable_devices);
  listed.handles_.reserve(list.num_addressable_devices);
  for (size_t i = 0; i < list.num_addressable_devices; ++i) {
    PJRT_Device_GetDescription_Args description{};
    description.struct_size = PJRT_Device_GetDescription_Args_STRUCT_SIZE;
    description.device = list.addressable_devices[i];
    if (PJRT_Error* error = api.PJRT_Device_GetDescription(&description)) {
      return take_error(api, error, "PJRT_Device_GetDescription");
    }

    PJRT_DeviceDescription_Id_Args id{};
    id.struct_size = PJRT_DeviceDescription_Id_Args_STRUCT_SIZE;
    id.device_description = description.device_description;
    if (PJRT_Error* error = api.PJRT_DeviceDescription_Id(&id)) {
      return take_error(api, error, "PJRT_DeviceDescription_Id");
    }

    PJRT_DeviceDescription_Kind_Args kind{};
    kind.struct_size = PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE;
    kind.device_description = description.device_description;
    if (PJRT_Error* error = api.PJRT_DeviceDescription_Kind(&kind)) {
      return take_error(api, error, "PJRT_DeviceDescription_Kind");
    }
    listed.devices_.push_back({id.id, std::string(kind.device_kind, kind.device_kind_size)});
    listed.handles_.push_back(list.addressable_devices[i]);
  }
  return listed;
}

Result<PJRT_Device*> AddressableDevices::find(int id) const {
  std::string ids;
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (devices_[i].id == id) return handles_[i];
    ids += (ids.empty() ? "" : ", ") + std::to_string(devices_[i].id);
  }
  return Error{"no addressable PJRT device has id " + std::to_string(id) +
               " (the ids are: " + (ids.empty() ? "none" : ids) + ")"};
}

}  // namespace tpustack::inferd::engine::pjrt
