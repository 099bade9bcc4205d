#pragma once

#include <chrono>

namespace tpustack::kube {

// Client-side rate limit as client-go applies it: `burst` requests at once, then `qps` per second.
// Pure: callers pass the time, so tests drive it with a fake clock.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // qps <= 0 disables the limit.
  TokenBucket(double qps, int burst, Clock::time_point now);

  // Takes one token and returns how long the caller must wait before sending (zero when a token was
  // free). Reservations queue up: the n-th caller beyond the burst waits n/qps.
  Clock::duration reserve(Clock::time_point now);

 private:
  double qps_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace tpustack::kube
