#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace tpustack::lifecycle {

// Sleeps for `delay` or until `stop` is requested; false when it was stopped.
inline bool sleep_unless_stopped(std::stop_token stop, std::chrono::nanoseconds delay) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, stop, delay, [] { return false; }) && !stop.stop_requested();
}

}  // namespace tpustack::lifecycle
