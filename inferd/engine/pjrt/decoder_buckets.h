#pragma once

#include <compare>
#include <cstddef>
#include <span>
#include <vector>

namespace tpustack::inferd::engine::pjrt {

// A static shape a decoder step is compiled for: `batch` sequences of `tokens` new tokens each (a prompt chunk, or 1
// when decoding), each attending to `context` positions.
struct DecoderBucket {
  size_t batch = 0;
  size_t tokens = 0;
  size_t context = 0;
  auto operator<=>(const DecoderBucket&) const = default;
};

// The shapes compiled: batches 1, 2, 4, ... up to `max_batch` (vLLM's max_num_seqs); tokens 1 (decoding) and 16,
// 32, ... up to `max_tokens` (prompt chunks; max_num_batched_tokens); contexts 64, 128, ... up to `max_context`
// (each maximum itself the last, power of two or not).
class DecoderBucketSeries {
 public:
  DecoderBucketSeries(size_t max_batch, size_t max_tokens, size_t max_context);

  const std::vector<size_t>& batches() const { return batches_; }
  const std::vector<size_t>& tokens() const { return tokens_; }
  const std::vector<size_t>& contexts() const { return contexts_; }

  // The smallest bucket of at least `count` sequences (at most the largest batch) of `tokens` each, attending to
  // `context` positions.
  DecoderBucket fit(size_t count, size_t tokens, size_t context) const;

  // What --warmup compiles, the buckets every server meets: decoding at each batch and context, and one prompt chunk
  // alone at each length and each context a chunk of that length can reach. (Several prompt chunks at once compile
  // at first use.)
  std::vector<DecoderBucket> warm_buckets() const;

 private:
  std::vector<size_t> batches_;
  std::vector<size_t> tokens_;
  std::vector<size_t> contexts_;
};

// A chunk of a step as the planner sees it: its new tokens and the positions it attends to (start + tokens).
struct ChunkExtent {
  size_t tokens = 0;
  size_t end = 0;
};

// One execution: the step's chunks it runs (indices into the step) and the bucket they are padded to.
struct DecoderRun {
  std::vector<size_t> chunks;
  DecoderBucket bucket;
};

// Cuts a step into runs: chunks of one token bucket run together (the decoding sequences in one run, prompt chunks
// of like lengths in another), ordered by context within it, at most the largest batch each. Every chunk is in one
// run; runs come in increasing token bucket.
std::vector<DecoderRun> plan_decoder_runs(std::span<const ChunkExtent> chunks, const DecoderBucketSeries& series);

}  // namespace tpustack::inferd::engine::pjrt
