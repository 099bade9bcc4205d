#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tpustack::inferd::engine {

// Sequences of different lengths stored back to back with no padding; sequence i spans
// [offsets[i], offsets[i + 1]) of ids and type_ids.
struct TokenBatch {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<size_t> offsets{0};

  void add(std::span<const int32_t> sequence_ids, std::span<const int32_t> sequence_type_ids) {
    ids.insert(ids.end(), sequence_ids.begin(), sequence_ids.end());
    type_ids.insert(type_ids.end(), sequence_type_ids.begin(), sequence_type_ids.end());
    offsets.push_back(ids.size());
  }
  size_t size() const { return offsets.size() - 1; }
  size_t tokens() const { return ids.size(); }
  size_t length(size_t sequence) const { return offsets[sequence + 1] - offsets[sequence]; }
};

}  // namespace tpustack::inferd::engine
