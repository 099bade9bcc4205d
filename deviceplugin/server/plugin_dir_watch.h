#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result/result.h"

namespace tpustack::deviceplugin {

// Tells the registration loop that the kubelet restarted. A new kubelet deletes every socket in the
// plugin directory and creates kubelet.sock; we watch for both with inotify, and also lstat our own
// socket on every wait in case the directory was replaced under the watch.
class PluginDirWatch {
 public:
  enum class Event { kNone, kKubeletSocketCreated, kOurSocketRemoved, kWoken };

  // An Error when the process cannot have an inotify instance (out of file descriptors or watches).
  static Result<std::unique_ptr<PluginDirWatch>> open(std::string kubelet_socket, std::string our_socket);
  ~PluginDirWatch();
  PluginDirWatch(const PluginDirWatch&) = delete;
  PluginDirWatch& operator=(const PluginDirWatch&) = delete;

  // Waits up to `timeout` for an event; kNone when nothing happened.
  Event wait(std::chrono::milliseconds timeout);
  // Forgets events that happened so far (they predate a registration about to be made).
  void drain();
  // Makes the current or next wait() return kWoken; safe from any thread or a signal handler.
  void wake();

 private:
  PluginDirWatch(std::string kubelet_socket, std::string our_socket, int inotify_fd, int wake_fd);
  void watch_directories();
  Event read_events();

  std::string kubelet_socket_;
  std::string our_socket_;
  int inotify_fd_;
  int wake_fd_;
  std::vector<int> watches_;
};

}  // namespace tpustack::deviceplugin
