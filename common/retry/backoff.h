#pragma once

#include <chrono>
#include <random>

namespace tpustack::retry {

// The one retry policy of every tpustack program (watches, kubelet registration, pool operations, model pulls):
// exponential backoff with jitter, initial, initial*factor, ... capped at `max`, each delay stretched by a random
// fraction in [0, jitter) so that many clients do not retry in lockstep after their peer restarts.
class Backoff {
 public:
  struct Policy {
    std::chrono::milliseconds initial{200};
    std::chrono::milliseconds max{30000};
    double factor = 2.0;
    double jitter = 0.5;
  };

  explicit Backoff(Policy policy, std::uint64_t seed = std::random_device{}());

  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  Policy policy_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace tpustack::retry
