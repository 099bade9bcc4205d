#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "deviceplugin/allocator/host_inventory.h"

namespace tpustack::deviceplugin {

// The live inventory shared by the health monitor (writer) and the gRPC handlers (readers). Readers
// take an immutable snapshot, so Allocate never waits on a health check.
class DeviceState {
 public:
  explicit DeviceState(HostInventory initial);

  std::shared_ptr<const HostInventory> snapshot() const;
  std::uint64_t version() const;

  // Returns true when the chip's health changed (and wakes every ListAndWatch stream).
  bool set_healthy(int index, bool healthy);

  // Waits until the version differs from `seen`, `abandon` is set (see wake_waiters) or `deadline`
  // passes; returns the current version.
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::steady_clock::time_point deadline,
                                const std::atomic<bool>& abandon) const;
  // Makes every wait_for_change look at its `abandon` flag now.
  void wake_waiters() const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::shared_ptr<const HostInventory> inventory_;
  std::uint64_t version_ = 1;
};

}  // namespace tpustack::deviceplugin
