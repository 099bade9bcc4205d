#include "inferd/server/directory_events.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tpustack::inferd::server {

namespace {

// What a new, replaced or removed entry looks like: created or deleted, renamed in or out (renameat2's exchange is
// both), a file closed after writing.
constexpr uint32_t kEntryChanges =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

Result<std::unique_ptr<DirectoryEvents>> DirectoryEvents::open() {
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return Error{std::string("cannot follow the models directory: eventfd: ") + std::strerror(errno)};
  return std::unique_ptr<DirectoryEvents>(new DirectoryEvents(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC), wake_fd));
}

DirectoryEvents::~DirectoryEvents() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  ::close(wake_fd_);
}

Result<void> DirectoryEvents::watch(const std::filesystem::path& directory) {
  if (inotify_fd_ < 0) return Error{"inotify is not available (fs.inotify.max_user_instances)"};
  if (::inotify_add_watch(inotify_fd_, directory.c_str(), kEntryChanges) < 0) {
    return Error{"cannot watch " + directory.string() + ": " + std::strerror(errno)};
  }
  return {};
}

DirectoryEvents::Outcome DirectoryEvents::wait(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
  const int ready = ::poll(fds, inotify_fd_ >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (fds[0].revents & POLLIN) return Outcome::stopped;
  if (ready <= 0 || !(fds[1].revents & POLLIN)) return Outcome::timed_out;
  Outcome outcome = Outcome::changed;
  alignas(inotify_event) char buffer[64 * 1024];
  for (;;) {
    const ssize_t got = ::read(inotify_fd_, buffer, sizeof(buffer));
    if (got <= 0) break;  // EAGAIN: every event is taken
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      if (event->mask & IN_Q_OVERFLOW) outcome = Outcome::overflowed;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  return outcome;
}

void DirectoryEvents::stop() {
  const uint64_t one = 1;
  // Only a full counter fails, and a full counter wakes the waiter as well.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof(one));
}

}  // namespace tpustack::inferd::server
