#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "common/result/result.h"

namespace tpustack::inferd::server {

// Changes to the entries of a few directories, from inotify: a model directory created, renamed into place or away,
// or removed, and a file (models.json) written. Not recursive: a file written inside a model directory is no event
// of its parent.
class DirectoryEvents {
 public:
  enum class Outcome { changed, overflowed, timed_out, stopped };

  // Without inotify (its instance limit reached) every watch fails and wait only times out or stops; an Error only
  // when the process cannot have the eventfd that stops a wait (out of file descriptors).
  static Result<std::unique_ptr<DirectoryEvents>> open();
  ~DirectoryEvents();
  DirectoryEvents(const DirectoryEvents&) = delete;
  DirectoryEvents& operator=(const DirectoryEvents&) = delete;

  // Adds `directory` to the watched ones (again is harmless); one that is deleted leaves them by itself.
  Result<void> watch(const std::filesystem::path& directory);
  // Waits up to `timeout` for events, and takes every event there is: changed, or overflowed when the kernel dropped
  // some (rescan everything).
  Outcome wait(std::chrono::milliseconds timeout);
  // From another thread: the wait in progress and every later one return stopped.
  void stop();

 private:
  DirectoryEvents(int inotify_fd, int wake_fd) : inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}

  int inotify_fd_;
  int wake_fd_;
};

}  // namespace tpustack::inferd::server
