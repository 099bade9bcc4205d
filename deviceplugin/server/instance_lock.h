#pragma once

#include <functional>
#include <string>

namespace tpustack::deviceplugin {

// An exclusive flock on a file in the plugin directory, held for the life of the process, so an old
// and a new plugin pod (a DaemonSet rollout) never serve google.com/tpu at the same time. The
// kubelet's clean-up only deletes sockets, so the file survives kubelet restarts.
class InstanceLock {
 public:
  // Blocks until the lock is ours, or returns false when `stopping()` becomes true first.
  bool acquire(const std::string& path, const std::function<bool()>& stopping);
  ~InstanceLock();

 private:
  int fd_ = -1;
};

}  // namespace tpustack::deviceplugin
