#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tpustack::deviceplugin {

// Calls `tick` now and then every `interval` on its own thread until destroyed. Ticks are on a fixed
// schedule, so a slow tick does not push the next one back by its own duration.
class Ticker {
 public:
  Ticker(std::chrono::nanoseconds interval, std::function<void()> tick);
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable_any wake_;
  std::jthread thread_;
};

}  // namespace tpustack::deviceplugin
