#pragma once

#include <stdexcept>

namespace tpustack::topology {

// Raised for anything a user wrote that does not describe real TPU hardware: an unknown generation,
// a topology that generation does not offer, a machine type that cannot host the slice. The message
// says what was wrong and what would be accepted.
class TopologyError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace tpustack::topology
