#include "inferd/decoder/step_fits.h"

#include <fmt/format.h>

namespace tpustack::inferd::decoder {

Result<void> step_fits(const generation::DecodeStep& step, const model::DecoderConfig& config,
                       generation::KvCacheShape cache) {
  const size_t block_tokens = cache.block_tokens;
  if (block_tokens == 0) return Error{"the KV cache's blocks hold no positions (block_tokens 0)"};
  for (size_t c = 0; c < step.sequences.size(); ++c) {
    const generation::SequenceChunk& chunk = step.sequences[c];
    if (chunk.tokens.empty()) return Error{fmt::format("chunk {} of the step has no tokens", c)};
    const size_t end = chunk.start + chunk.tokens.size();
    if (end > config.max_positions) {
      return Error{fmt::format("chunk {} reaches position {}, past the model's max_position_embeddings ({})", c,
                               end - 1, config.max_positions)};
    }
    if (chunk.blocks.size() * block_tokens < end) {
      return Error{fmt::format("chunk {} has {} blocks of {} positions for {} positions", c, chunk.blocks.size(),
                               block_tokens, end)};
    }
    for (size_t b = 0; b < (end + block_tokens - 1) / block_tokens; ++b) {
      if (chunk.blocks[b] >= cache.block_count) {
        return Error{
            fmt::format("chunk {} uses block {}, past the cache's {} blocks", c, chunk.blocks[b], cache.block_count)};
      }
    }
    for (int32_t token : chunk.tokens) {
      if (token < 0 || static_cast<size_t>(token) >= config.vocab_size) {
        return Error{
            fmt::format("chunk {} has token id {}, outside the vocabulary of {}", c, token, config.vocab_size)};
      }
    }
  }
  return {};
}

}  // namespace tpustack::inferd::decoder
