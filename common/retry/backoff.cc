#include "common/retry/backoff.h"

#include <algorithm>
#include <cmath>

namespace tpustack::retry {

Backoff::Backoff(Policy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

std::chrono::milliseconds Backoff::next() {
  double base = static_cast<double>(policy_.initial.count()) * std::pow(policy_.factor, attempt_);
  base = std::min(base, static_cast<double>(policy_.max.count()));
  ++attempt_;
  std::uniform_real_distribution<double> stretch(0.0, policy_.jitter);
  double delay = std::min(base * (1.0 + stretch(rng_)), static_cast<double>(policy_.max.count()));
  return std::chrono::milliseconds(static_cast<long long>(delay));
}

}  // namespace tpustack::retry
