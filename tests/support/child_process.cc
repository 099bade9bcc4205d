#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tpustack::testing {
namespace {

using namespace std::chrono_literals;

// The test's environment with `overrides` (NAME=value) replacing or adding entries.
std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> by_name;
  auto add = [&](const std::string& entry) { by_name[entry.substr(0, entry.find('='))] = entry; };
  for (char** e = environ; *e; ++e) add(*e);
  for (const std::string& entry : overrides) add(entry);
  std::vector<std::string> merged;
  for (auto& [name, entry] : by_name) merged.push_back(entry);
  return merged;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                           std::string log_path)
    : log_path_(std::move(log_path)) {
  if (argv.empty()) throw std::invalid_argument("ChildProcess needs a program");
  int log_fd = -1;
  if (log_path_.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string name = std::string(tmp && *tmp ? tmp : "/tmp") + "/tpustack-child-XXXXXX";
    log_fd = mkstemp(name.data());
    log_path_ = name;
    remove_log_ = true;
  } else {
    log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_ + ": " + std::strerror(errno));
  // Everything the child needs is built before fork: only async-signal-safe calls may follow it.
  std::vector<std::string> args = argv;
  std::vector<std::string> environment = merged_environment(env);
  std::vector<char*> arg_pointers = pointers(args);
  std::vector<char*> env_pointers = pointers(environment);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execvpe(arg_pointers[0], arg_pointers.data(), env_pointers.data());
    _exit(127);
  }
  setpgid(pid_, pid_);  // also here, so that a signal sent right after the constructor reaches the group
  close(log_fd);
}

ChildProcess::~ChildProcess() {
  if (!exit_status_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (remove_log_) unlink(log_path_.c_str());
}

std::string ChildProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<std::string> ChildProcess::wait_for_line(const std::string& text, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::string all = output();
    size_t newline;
    while ((newline = all.find('\n', lines_read_to_)) != std::string::npos) {
      std::string line = all.substr(lines_read_to_, newline - lines_read_to_);
      lines_read_to_ = newline + 1;
      if (line.find(text) != std::string::npos) return line;
    }
    if (std::chrono::steady_clock::now() >= until || !running()) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

bool ChildProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (output().find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

void ChildProcess::signal(int signal_number) {
  if (!exit_status_) kill(-pid_, signal_number);
}

bool ChildProcess::running() {
  if (exit_status_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  kill(-pid_, SIGKILL);  // whatever it started goes with it
  return false;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  return exit_status_;
}

std::optional<int> ChildProcess::terminate(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  return wait(timeout);
}

}  // namespace tpustack::testing
