#include "inferd/batching/batch_policy.h"

#include <algorithm>
#include <numeric>

namespace tpustack::inferd::batching {

namespace {

size_t distance(size_t a, size_t b) { return a > b ? a - b : b - a; }

bool exceeds(size_t value, size_t bound) { return bound != 0 && value > bound; }

}  // namespace

Admission admit(const QueueLoad& queued, const QueueLoad& request, const QueueLimits& limits) {
  if (exceeds(request.sequences, limits.sequences) || exceeds(request.tokens, limits.tokens)) {
    return Admission::too_large;
  }
  if (exceeds(queued.sequences + request.sequences, limits.sequences) ||
      exceeds(queued.tokens + request.tokens, limits.tokens)) {
    return Admission::queue_full;
  }
  return Admission::accepted;
}

BatchChoice choose_batch(std::span<const Waiting> queue, const BatchLimits& limits, Clock::time_point now) {
  BatchChoice choice;
  if (queue.empty()) {
    choice.wake_at = Clock::time_point::max();
    return choice;
  }
  const size_t anchor = queue.front().tokens;
  std::vector<size_t> order(queue.size() - 1);
  std::iota(order.begin(), order.end(), size_t{1});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return distance(queue[a].tokens, anchor) < distance(queue[b].tokens, anchor);
  });

  std::vector<size_t> members{0};
  size_t tokens = anchor;
  bool left_out = false;
  for (size_t i : order) {
    if (members.size() >= std::max<size_t>(limits.max_batch_requests, 1)) {
      left_out = true;
      break;
    }
    if (tokens + queue[i].tokens > limits.max_batch_tokens) {
      left_out = true;
      continue;
    }
    members.push_back(i);
    tokens += queue[i].tokens;
  }
  const bool full = left_out || members.size() >= limits.max_batch_requests || tokens >= limits.max_batch_tokens;
  const Clock::time_point deadline = queue.front().enqueued + limits.max_wait;
  if (!full && now < deadline) {
    choice.wake_at = deadline;
    return choice;
  }
  std::sort(members.begin(), members.end());
  choice.ready = true;
  choice.members = std::move(members);
  return choice;
}

}  // namespace tpustack::inferd::batching
