#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace inferd::testing {

// A program the test runs as a real process: its stdout and stderr come back through one pipe, line by line.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();  // kills the process if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The first line of output that contains `text`, waiting at most `timeout`; every line read is kept in output().
  std::optional<std::string> wait_for_line(const std::string& text, std::chrono::milliseconds timeout);
  void signal(int signal_number);
  // The exit status, or nullopt when it did not exit within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string pending_;
  std::string output_;
  bool exited_ = false;
};

}  // namespace inferd::testing
