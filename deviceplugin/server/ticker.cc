#include "deviceplugin/server/ticker.h"

namespace tpustack::deviceplugin {

Ticker::Ticker(std::chrono::nanoseconds interval, std::function<void()> tick)
    : thread_([this, interval, tick = std::move(tick)](std::stop_token stop) {
        auto next = std::chrono::steady_clock::now();
        while (!stop.stop_requested()) {
          tick();
          next += interval;
          const auto now = std::chrono::steady_clock::now();
          if (next < now) next = now;
          std::unique_lock lock(mu_);
          wake_.wait_until(lock, stop, next, [] { return false; });
        }
      }) {}

Ticker::~Ticker() {
  thread_.request_stop();
  thread_.join();
}

}  // namespace tpustack::deviceplugin
