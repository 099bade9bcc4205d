#include "deviceplugin/server/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

namespace tpustack::deviceplugin {

Result<bool> InstanceLock::acquire(const std::string& path, const std::function<bool()>& stopping) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return Error{"cannot open lock file " + path + ": " + std::strerror(errno)};
  bool told = false;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Error{"cannot lock " + path + ": " + std::strerror(errno)};
    if (!told) {
      spdlog::warn("another tpu-device-plugin holds {}; waiting for it to exit", path);
      told = true;
    }
    if (stopping()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (told) spdlog::info("took over {}", path);
  return true;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace tpustack::deviceplugin
