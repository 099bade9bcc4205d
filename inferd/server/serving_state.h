#pragma once

#include <atomic>
#include <cstddef>

namespace tpustack::inferd::server {

// Lifecycle flags the HTTP and gRPC fronts share.
struct ServingState {
  std::atomic<bool> ready{false};     // the preloaded models are loaded
  std::atomic<bool> draining{false};  // SIGTERM: new inference is refused while in-flight work finishes
  std::atomic<size_t> in_flight{0};   // inference requests being answered
};

// Counts one inference request in flight for as long as it lives.
class InFlight {
 public:
  explicit InFlight(ServingState& state) : state_(state) { ++state_.in_flight; }
  ~InFlight() { --state_.in_flight; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  ServingState& state_;
};

}  // namespace tpustack::inferd::server
