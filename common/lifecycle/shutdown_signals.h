#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace tpustack::lifecycle {

// The one way every tpustack program learns it must stop: SIGTERM (the kubelet, after the preStop hook) or
// SIGINT (a terminal), taken synchronously with sigtimedwait, outside any signal handler. SIGHUP is taken too and
// only logged: a closed terminal or a reload habit must not kill a server without its drain.
//
// Construct it first thing in main, before any thread starts: it blocks the three signals in the calling thread,
// and threads inherit the mask, so no other thread is interrupted by them. Child processes get the signals
// unblocked again (see check_command.cc), as the mask survives exec.
class ShutdownSignals {
 public:
  ShutdownSignals();
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Waits up to `timeout` for SIGTERM or SIGINT: its name ("SIGTERM", "SIGINT"), or nullopt when none came.
  std::optional<std::string> wait_for(std::chrono::milliseconds timeout) const;

  // Waits for SIGTERM or SIGINT and returns its name.
  std::string wait() const;

  // The signals this class takes, for a child process that must get them back.
  static sigset_t handled();

 private:
  sigset_t previous_mask_;
};

// For programs whose main thread has other work: calls `on_stop` once, on a thread of its own, when SIGTERM or
// SIGINT arrives. Destroying it stops the watching thread.
class ShutdownWatch {
 public:
  ShutdownWatch(const ShutdownSignals& signals, std::function<void(const std::string& signal)> on_stop);

 private:
  std::jthread thread_;
};

}  // namespace tpustack::lifecycle
