#pragma once

#include <functional>
#include <string>

#include "common/result/result.h"

namespace tpustack::deviceplugin {

// An exclusive flock on a file, held for the life of the process, so an old and a new plugin pod (a
// DaemonSet rollout, a pod deleted with --force) never serve google.com/tpu at the same time. The
// file lives outside the plugin directory (PluginSettings::lock_file): the kubelet deletes every file
// there when it starts (CleanupPluginDirectory), and the directory may be deleted and made anew; a
// lock there would let a new instance lock a fresh file while the old one still serves.
class InstanceLock {
 public:
  // Blocks until the lock is ours (true), or false when `stopping()` becomes true first; an Error when the file
  // cannot be opened or locked at all.
  Result<bool> acquire(const std::string& path, const std::function<bool()>& stopping);
  ~InstanceLock();

 private:
  int fd_ = -1;
};

}  // namespace tpustack::deviceplugin
