#include "common/http/stream_channel.h"

#include <utility>

namespace tpustack::http::detail {

StreamChannel::StreamChannel(std::string head, std::size_t limit, std::function<void()> wake)
    : limit_(limit), wake_(std::move(wake)), queued_(std::move(head)), unsent_(queued_.size()) {}

bool StreamChannel::put(std::string bytes) {
  std::unique_lock lock(mu_);
  room_.wait(lock, [&] { return failed_ || unsent_ == 0 || unsent_ + bytes.size() <= limit_; });
  if (failed_) return false;
  unsent_ += bytes.size();
  queued_ += bytes;
  wake_if_idle(lock);
  return true;
}

void StreamChannel::finish(std::string last, bool keep_alive) {
  std::unique_lock lock(mu_);
  unsent_ += last.size();
  queued_ += last;
  finished_ = true;
  keep_alive_ = keep_alive;
  wake_if_idle(lock);
}

StreamChannel::Taken StreamChannel::take() {
  std::lock_guard lock(mu_);
  Taken taken{std::exchange(queued_, {}), finished_, keep_alive_};
  writer_idle_ = taken.bytes.empty() && !finished_;
  return taken;
}

void StreamChannel::sent(std::size_t count) {
  {
    std::lock_guard lock(mu_);
    unsent_ -= count;
  }
  room_.notify_all();
}

void StreamChannel::fail() {
  std::unique_lock lock(mu_);
  failed_ = true;
  room_.notify_all();
  wake_if_idle(lock);
}

bool StreamChannel::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void StreamChannel::wake_if_idle(std::unique_lock<std::mutex>& lock) {
  const bool idle = std::exchange(writer_idle_, false);
  lock.unlock();
  if (idle) wake_();
}

}  // namespace tpustack::http::detail
