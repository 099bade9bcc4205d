#include "common/lifecycle/shutdown_signals.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

#include <spdlog/spdlog.h>

namespace tpustack::lifecycle {

sigset_t ShutdownSignals::handled() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

ShutdownSignals::ShutdownSignals() {
  const sigset_t set = handled();
  pthread_sigmask(SIG_BLOCK, &set, &previous_mask_);
}

ShutdownSignals::~ShutdownSignals() { pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr); }

std::optional<std::string> ShutdownSignals::wait_for(std::chrono::milliseconds timeout) const {
  const sigset_t set = handled();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::max(std::chrono::nanoseconds::zero(), deadline - std::chrono::steady_clock::now());
    const timespec wait{static_cast<time_t>(left.count() / 1'000'000'000),
                        static_cast<long>(left.count() % 1'000'000'000)};
    const int signal = ::sigtimedwait(&set, nullptr, &wait);
    if (signal == SIGTERM) return "SIGTERM";
    if (signal == SIGINT) return "SIGINT";
    if (signal == SIGHUP) {
      spdlog::info("SIGHUP ignored: settings are read at start; restart to change them");
    } else if (errno == EAGAIN) {
      return std::nullopt;
    }  // EINTR: a signal outside the set (SIGCHLD, a debugger); wait out the rest
  }
}

std::string ShutdownSignals::wait() const {
  while (true) {
    if (auto signal = wait_for(std::chrono::hours(1))) return *signal;
  }
}

ShutdownWatch::ShutdownWatch(const ShutdownSignals& signals, std::function<void(const std::string& signal)> on_stop)
    : thread_([&signals, on_stop = std::move(on_stop)](std::stop_token stop) {
        while (!stop.stop_requested()) {
          // A short wait, so that destroying the watch never waits long for its thread.
          if (auto signal = signals.wait_for(std::chrono::milliseconds(100))) {
            spdlog::info("received {}; shutting down", *signal);
            on_stop(*signal);
            return;
          }
        }
      }) {}

}  // namespace tpustack::lifecycle
