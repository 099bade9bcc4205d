#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result/result.h"
#include "inferd/engine/pjrt/pjrt_buffer.h"

struct PJRT_Api;
struct PJRT_LoadedExecutable;

namespace tpustack::inferd::engine::pjrt {

class AddressableDevices;

// A compiled program loaded on a client, owned: destroying the object unloads it. It must not outlive the
// PjrtClient it came from.
class PjrtExecutable {
 public:
  PjrtExecutable(PjrtExecutable&& other) noexcept;
  PjrtExecutable& operator=(PjrtExecutable&& other) noexcept;
  PjrtExecutable(const PjrtExecutable&) = delete;
  PjrtExecutable& operator=(const PjrtExecutable&) = delete;
  ~PjrtExecutable();

  // How many arrays one execution returns.
  size_t num_outputs() const { return num_outputs_; }

  // Runs the program on the addressable device `device_id` with `arguments`, which are on that device, in the order
  // of the program's parameters; waits until the device is done and returns the outputs, there too. A failed run
  // frees what it made.
  Result<std::vector<PjrtBuffer>> execute(const std::vector<const PjrtBuffer*>& arguments, int device_id) const;

  // The compiled program as bytes that PjrtClient::load_serialized takes back, on a client of the same plugin build
  // (in this process or another); the plugin's format, opaque to inferd.
  Result<std::string> serialize() const;

 private:
  friend class PjrtClient;

  // Owns `executable` from here on.
  PjrtExecutable(const PJRT_Api* api, std::shared_ptr<const AddressableDevices> devices,
                 PJRT_LoadedExecutable* executable)
      : api_(api), devices_(std::move(devices)), executable_(executable) {}

  // Asks the plugin how many outputs an execution returns.
  Result<void> count_outputs();

  const PJRT_Api* api_;
  std::shared_ptr<const AddressableDevices> devices_;  // the client's
  PJRT_LoadedExecutable* executable_;
  size_t num_outputs_ = 0;
};

}  // namespace tpustack::inferd::engine::pjrt
