#pragma once

// A client's addressable devices with the handles PJRT calls take (internal to inferd/engine/pjrt).

#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_client.h"

struct PJRT_Api;
struct PJRT_Client;
struct PJRT_Device;

namespace tpustack::inferd::engine::pjrt {

struct AddressableDevice {
  PJRT_Device* handle = nullptr;  // lives as long as the client
  PjrtDevice device;
};

// The devices this process can run on, in the plugin's order.
Result<std::vector<AddressableDevice>> list_addressable_devices(const PJRT_Api& api, PJRT_Client* client);

// The addressable device whose id is `id`; the Error lists the ids there are.
Result<PJRT_Device*> find_addressable_device(const PJRT_Api& api, PJRT_Client* client, int id);

}  // namespace tpustack::inferd::engine::pjrt
