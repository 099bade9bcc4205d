#include "inferd/batching/ticket.h"

#include <algorithm>

namespace tpustack::inferd::batching {

std::optional<Completion> Ticket::wait_until(Clock::time_point until) {
  std::unique_lock lock(mu_);
  if (!done_cv_.wait_until(lock, until, [&] { return done_; })) return std::nullopt;
  return std::move(completion_);
}

void Ticket::deliver(size_t index, std::span<const float> row, Clock::duration queued, Clock::duration inference) {
  std::lock_guard lock(mu_);
  if (done_) return;
  Rows& rows = completion_.rows;
  if (rows.width == 0) {
    rows.width = row.size();
    rows.values.resize(rows.width * remaining_);
  }
  std::copy(row.begin(), row.end(), rows.values.begin() + static_cast<std::ptrdiff_t>(index * rows.width));
  completion_.queue_time = std::max(completion_.queue_time, queued);
  completion_.inference_time = std::max(completion_.inference_time, inference);
  if (--remaining_ == 0) {
    done_ = true;
    done_cv_.notify_all();
  }
}

void Ticket::fail(Failure failure, const std::string& message) {
  std::lock_guard lock(mu_);
  if (done_) return;
  completion_.failure = failure;
  completion_.message = message;
  completion_.rows = {};
  done_ = true;
  done_cv_.notify_all();
}

}  // namespace tpustack::inferd::batching
