#include "deviceplugin/server/device_state.h"

namespace tpustack::deviceplugin {

DeviceState::DeviceState(HostInventory initial)
    : inventory_(std::make_shared<const HostInventory>(std::move(initial))) {}

std::shared_ptr<const HostInventory> DeviceState::snapshot() const {
  std::lock_guard lock(mu_);
  return inventory_;
}

std::uint64_t DeviceState::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

bool DeviceState::set_healthy(int index, bool healthy) {
  {
    std::lock_guard lock(mu_);
    if (inventory_->healthy.at(index) == healthy) return false;
    auto next = std::make_shared<HostInventory>(*inventory_);
    next->healthy[index] = healthy;
    inventory_ = std::move(next);
    ++version_;
  }
  changed_.notify_all();
  return true;
}

std::uint64_t DeviceState::wait_for_change(std::uint64_t seen, std::chrono::steady_clock::time_point deadline,
                                           const std::atomic<bool>& abandon) const {
  std::unique_lock lock(mu_);
  changed_.wait_until(lock, deadline, [&] { return version_ != seen || abandon; });
  return version_;
}

void DeviceState::wake_waiters() const {
  // Taking the lock orders the caller's flag store before any waiter's predicate check.
  { std::lock_guard lock(mu_); }
  changed_.notify_all();
}

}  // namespace tpustack::deviceplugin
