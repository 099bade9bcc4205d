#include "common/kube/rotating_token.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace tpustack::kube {

RotatingToken::RotatingToken(std::string path, Clock::duration max_age) : path_(std::move(path)), max_age_(max_age) {}

Result<std::string> RotatingToken::get(Clock::time_point now) {
  std::lock_guard lock(mu_);
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(path_, ec);
  if (token_.empty() || (!ec && mtime != mtime_) || now - read_at_ >= max_age_) reload(now, mtime);
  if (token_.empty()) return Error{"cannot read a bearer token from " + path_};
  return token_;
}

void RotatingToken::reload(Clock::time_point now, std::filesystem::file_time_type mtime) {
  std::ifstream in(path_);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token = text.str();
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!token.empty() && is_space(token.back())) token.pop_back();
  while (!token.empty() && is_space(token.front())) token.erase(0, 1);
  if (token.empty()) {
    if (token_.empty()) return;  // never had one: get() says so
    spdlog::warn("kube token file {} is unreadable or empty; keeping the previous token", path_);
  } else {
    token_ = std::move(token);
  }
  mtime_ = mtime;
  read_at_ = now;
}

}  // namespace tpustack::kube
