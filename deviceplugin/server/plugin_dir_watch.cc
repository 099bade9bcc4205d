#include "deviceplugin/server/plugin_dir_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tpustack::deviceplugin {
namespace {

namespace fs = std::filesystem;

bool exists_no_follow(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::unique_ptr<PluginDirWatch>> PluginDirWatch::open(std::string kubelet_socket, std::string our_socket) {
  const int inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  const int inotify_errno = errno;
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (inotify_fd < 0 || wake_fd < 0) {
    const int reason = inotify_fd < 0 ? inotify_errno : errno;
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    return Error{std::string("cannot watch the plugin directory: ") + std::strerror(reason)};
  }
  return std::unique_ptr<PluginDirWatch>(
      new PluginDirWatch(std::move(kubelet_socket), std::move(our_socket), inotify_fd, wake_fd));
}

PluginDirWatch::PluginDirWatch(std::string kubelet_socket, std::string our_socket, int inotify_fd, int wake_fd)
    : kubelet_socket_(std::move(kubelet_socket)),
      our_socket_(std::move(our_socket)),
      inotify_fd_(inotify_fd),
      wake_fd_(wake_fd) {
  watch_directories();
}

PluginDirWatch::~PluginDirWatch() {
  ::close(inotify_fd_);
  ::close(wake_fd_);
}

void PluginDirWatch::watch_directories() {
  for (int wd : watches_) ::inotify_rm_watch(inotify_fd_, wd);
  watches_.clear();
  constexpr std::uint32_t kMask = IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF;
  for (const auto& path : {kubelet_socket_, our_socket_}) {
    const std::string dir = fs::path(path).parent_path().string();
    const int wd = ::inotify_add_watch(inotify_fd_, dir.c_str(), kMask);
    // A directory that does not exist yet is looked at again after the next event or wait.
    if (wd >= 0) watches_.push_back(wd);
  }
}

PluginDirWatch::Event PluginDirWatch::read_events() {
  alignas(inotify_event) char buffer[4096];
  Event result = Event::kNone;
  const std::string kubelet_name = fs::path(kubelet_socket_).filename().string();
  const std::string our_name = fs::path(our_socket_).filename().string();
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      const std::string name = event->len > 0 ? event->name : "";
      if ((event->mask & (IN_CREATE | IN_MOVED_TO)) && name == kubelet_name) {
        result = Event::kKubeletSocketCreated;
      } else if ((event->mask & (IN_DELETE | IN_MOVED_FROM)) && name == our_name && result == Event::kNone) {
        result = Event::kOurSocketRemoved;
      } else if (event->mask & (IN_DELETE_SELF | IN_IGNORED)) {
        watches_.clear();
      }
    }
  }
  return result;
}

PluginDirWatch::Event PluginDirWatch::wait(std::chrono::milliseconds timeout) {
  if (watches_.size() < 2) watch_directories();
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  const int ready = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (ready > 0 && (fds[1].revents & POLLIN)) {
    std::uint64_t count;
    [[maybe_unused]] const auto ignored = ::read(wake_fd_, &count, sizeof count);
    return Event::kWoken;
  }
  const Event event = ready > 0 ? read_events() : Event::kNone;
  if (event != Event::kNone) return event;
  return exists_no_follow(our_socket_) ? Event::kNone : Event::kOurSocketRemoved;
}

void PluginDirWatch::drain() { read_events(); }

void PluginDirWatch::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto ignored = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace tpustack::deviceplugin
