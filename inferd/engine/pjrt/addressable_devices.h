#pragma once

// A client's addressable devices with the handles PJRT calls take (internal to inferd/engine/pjrt).

#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_client.h"

struct PJRT_Api;
struct PJRT_Client;
struct PJRT_Device;

namespace tpustack::inferd::engine::pjrt {

// Listed once when the client is made (a client's devices do not change), then shared by the client and the
// executables it makes, which look devices up by id on every call.
class AddressableDevices {
 public:
  // The devices this process can run on, in the plugin's order.
  static Result<AddressableDevices> list(const PJRT_Api& api, PJRT_Client* client);

  const std::vector<PjrtDevice>& devices() const { return devices_; }
  // The handle of the device whose id is `id`, which lives as long as the client; the Error lists the ids there are.
  Result<PJRT_Device*> find(int id) const;

 private:
  AddressableDevices() = default;

  std::vector<PjrtDevice> devices_;
  std::vector<PJRT_Device*> handles_;  // devices_[i]'s is handles_[i]
};

}  // namespace tpustack::inferd::engine::pjrt
