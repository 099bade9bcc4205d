#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tpustack::testing {

// A program a test runs as a real process, in a process group of its own so that it and anything it starts
// are killed together. Its stdout and stderr go to a file, never a pipe, so a process the test does not read
// can never block on a full pipe.
class ChildProcess {
 public:
  // argv[0] is a path or a name on PATH; `env` entries (NAME=value) are added to the test's own environment
  // and override it; the output goes to `log_path`, or to a temporary file when it is empty.
  explicit ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                        std::string log_path = {});
  ~ChildProcess();  // kills the process group if the process still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The first line after the last one this returned that contains `text`, waiting at most `timeout`.
  std::optional<std::string> wait_for_line(const std::string& text, std::chrono::milliseconds timeout);
  // Whether the output so far contains `text`, waiting at most `timeout`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;
  void signal(int signal_number);  // to the whole process group
  // The exit status (128 + signal when killed), or nullopt when it did not exit within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::optional<int> terminate(std::chrono::milliseconds timeout);  // SIGTERM, then wait
  bool running();
  std::string output() const;  // everything it wrote so far

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool remove_log_ = false;
  size_t lines_read_to_ = 0;  // wait_for_line's place in the output
  std::optional<int> exit_status_;
};

}  // namespace tpustack::testing
