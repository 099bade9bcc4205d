#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

// What one forward pass of a decoder computes, as the continuous-batching scheduler hands it to a backend: the
// scheduler decides which sequences run and where their keys and values live; the backend only computes.
namespace tpustack::inferd::generation {

// The KV cache is cut into blocks of a fixed number of positions (paged: a sequence holds only the blocks its
// positions fill, never a reservation for its maximum length). Position p of a sequence lives in slot
// p % block_tokens of block blocks[p / block_tokens].
struct KvCacheShape {
  size_t block_tokens = 16;
  size_t block_count = 0;
};

// One sequence's share of a step: its tokens at positions start .. start + tokens.size() - 1. A whole prompt, a
// chunk of a long one (chunked prefill), or the one token being decoded.
struct SequenceChunk {
  std::span<const int32_t> tokens;
  size_t start = 0;                  // positions already in the cache, attended to but not recomputed
  std::span<const uint32_t> blocks;  // enough blocks for start + tokens.size() positions
  bool wants_logits = true;          // the last token's logits; false for a prompt chunk that is not the last
};

struct DecodeStep {
  std::vector<SequenceChunk> sequences;

  size_t logits_rows() const {
    size_t rows = 0;
    for (const auto& sequence : sequences) rows += sequence.wants_logits ? 1 : 0;
    return rows;
  }
};

}  // namespace tpustack::inferd::generation
