#include "inferd/generation/kv_block_pool.h"

#include <limits>
#include <stdexcept>

namespace tpustack::inferd::generation {

KvBlockPool::KvBlockPool(KvCacheShape shape) : shape_(shape) {
  if (shape.block_tokens == 0) throw std::invalid_argument("KvBlockPool: block_tokens must be at least 1");
  if (shape.block_count > std::numeric_limits<uint32_t>::max()) {
    throw std::invalid_argument("KvBlockPool: block_count must fit 32-bit block ids");
  }
  free_.reserve(shape.block_count);
  for (size_t block = shape.block_count; block > 0; --block) free_.push_back(static_cast<uint32_t>(block - 1));
}

size_t KvBlockPool::blocks_for(size_t positions) const {
  return (positions + shape_.block_tokens - 1) / shape_.block_tokens;
}

size_t KvBlockPool::positions(SequenceId seq) const {
  const auto found = tables_.find(seq);
  return found == tables_.end() ? 0 : found->second.positions;
}

std::span<const uint32_t> KvBlockPool::blocks(SequenceId seq) const {
  const auto found = tables_.find(seq);
  if (found == tables_.end()) return {};
  return found->second.blocks;
}

size_t KvBlockPool::growable_positions(SequenceId seq) const {
  const auto found = tables_.find(seq);
  const size_t slack =
      found == tables_.end() ? 0 : found->second.blocks.size() * shape_.block_tokens - found->second.positions;
  return slack + free_.size() * shape_.block_tokens;
}

bool KvBlockPool::can_grow(SequenceId seq, size_t extra_positions) const {
  return extra_positions <= growable_positions(seq);
}

bool KvBlockPool::grow(SequenceId seq, size_t extra_positions) {
  if (!can_grow(seq, extra_positions)) return false;
  Table& table = tables_[seq];
  table.positions += extra_positions;
  while (table.blocks.size() < blocks_for(table.positions)) {
    table.blocks.push_back(free_.back());
    free_.pop_back();
  }
  return true;
}

void KvBlockPool::free(SequenceId seq) {
  const auto found = tables_.find(seq);
  if (found == tables_.end()) return;
  // Back in reverse, so that the sequence's first block is the next handed out.
  for (auto block = found->second.blocks.rbegin(); block != found->second.blocks.rend(); ++block) {
    free_.push_back(*block);
  }
  tables_.erase(found);
}

}  // namespace tpustack::inferd::generation
