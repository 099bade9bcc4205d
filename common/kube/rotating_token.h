#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "common/result/result.h"

namespace tpustack::kube {

// A bearer token file that the kubelet rewrites as the projected service account token rotates
// (about hourly). The file is re-read when its modification time changes or `max_age` has passed,
// whichever comes first, so a rotation is picked up without re-reading on every request.
class RotatingToken {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RotatingToken(std::string path, Clock::duration max_age = std::chrono::minutes(1));

  // The current token, without surrounding whitespace. Thread-safe. An Error when the file cannot be read and no
  // token was read before; afterwards the last good token is kept.
  Result<std::string> get(Clock::time_point now = Clock::now());

  const std::string& path() const { return path_; }

 private:
  void reload(Clock::time_point now, std::filesystem::file_time_type mtime);

  std::string path_;
  Clock::duration max_age_;
  std::mutex mu_;
  std::string token_;
  std::filesystem::file_time_type mtime_{};
  Clock::time_point read_at_{};
};

}  // namespace tpustack::kube
