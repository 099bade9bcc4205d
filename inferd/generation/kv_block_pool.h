#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "inferd/generation/decode_step.h"

namespace tpustack::inferd::generation {

using SequenceId = uint64_t;

// The KV cache's blocks, handed to sequences as their positions grow: a sequence's block table gains a block when
// its positions spill over the last one, never ahead for a length it may not reach.
class KvBlockPool {
 public:
  // shape.block_tokens at least 1 and shape.block_count below 2^32 (std::invalid_argument otherwise).
  explicit KvBlockPool(KvCacheShape shape);

  // Whether `seq` (known or not) could hold `extra_positions` more positions than it does.
  bool can_grow(SequenceId seq, size_t extra_positions) const;
  // Positions `seq` could still add: the free slots of its last block and those of every free block.
  size_t growable_positions(SequenceId seq) const;
  // Adds blocks to the table of `seq` (a new table for an unknown one) for `extra_positions` more positions;
  // false, and nothing changed, when too few blocks are free.
  bool grow(SequenceId seq, size_t extra_positions);
  // Takes back every block of `seq`; nothing for an unknown one.
  void free(SequenceId seq);

  std::span<const uint32_t> blocks(SequenceId seq) const;  // empty for an unknown sequence
  size_t positions(SequenceId seq) const;
  size_t blocks_for(size_t positions) const;  // how many blocks hold that many positions

  const KvCacheShape& shape() const { return shape_; }
  size_t free_blocks() const { return free_.size(); }
  size_t used_blocks() const { return shape_.block_count - free_.size(); }

 private:
  struct Table {
    std::vector<uint32_t> blocks;
    size_t positions = 0;
  };

  KvCacheShape shape_;
  std::vector<uint32_t> free_;  // a stack; block 0 on top at first
  std::unordered_map<SequenceId, Table> tables_;
};

}  // namespace tpustack::inferd::generation
