#include "inferd/engine/pjrt/decoder_buckets.h"

#include <algorithm>
#include <numeric>

#include "inferd/engine/pjrt/bucket_sizes.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

// 1, then 16, 32, ... up to `max_tokens`.
std::vector<size_t> token_sizes(size_t max_tokens) {
  if (max_tokens <= 1) return {1};
  std::vector<size_t> sizes{1};
  for (size_t size : doubling_sizes(16, max_tokens)) {
    if (size > 1) sizes.push_back(size);
  }
  return sizes;
}

}  // namespace

DecoderBucketSeries::DecoderBucketSeries(size_t max_batch, size_t max_tokens, size_t max_context)
    : batches_(doubling_sizes(1, std::max<size_t>(max_batch, 1))),
      tokens_(token_sizes(max_tokens)),
      contexts_(doubling_sizes(64, std::max<size_t>(max_context, 1))) {}

DecoderBucket DecoderBucketSeries::fit(size_t count, size_t tokens, size_t context) const {
  return {smallest_at_least(batches_, count), smallest_at_least(tokens_, tokens),
          smallest_at_least(contexts_, context)};
}

std::vector<DecoderBucket> DecoderBucketSeries::warm_buckets() const {
  std::vector<DecoderBucket> buckets;
  for (size_t batch : batches_) {
    for (size_t context : contexts_) buckets.push_back({batch, 1, context});
  }
  // A chunk in token bucket T has more tokens than the bucket below T, and its context holds them all.
  for (size_t i = 1; i < tokens_.size(); ++i) {
    for (size_t context : contexts_) {
      if (context > tokens_[i - 1]) buckets.push_back({1, tokens_[i], context});
    }
  }
  return buckets;
}

std::vector<DecoderRun> plan_decoder_runs(std::span<const ChunkExtent> chunks, const DecoderBucketSeries& series) {
  std::vector<size_t> bucket_of(chunks.size());
  for (size_t c = 0; c < chunks.size(); ++c) bucket_of[c] = smallest_at_least(series.tokens(), chunks[c].tokens);
  std::vector<size_t> order(chunks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bucket_of[a] != bucket_of[b] ? bucket_of[a] < bucket_of[b] : chunks[a].end < chunks[b].end;
  });
  const size_t max_batch = series.batches().back();
  std::vector<DecoderRun> plan;
  for (size_t chunk : order) {
    if (plan.empty() || plan.back().chunks.size() == max_batch ||
        bucket_of[plan.back().chunks.front()] != bucket_of[chunk]) {
      plan.emplace_back();
    }
    plan.back().chunks.push_back(chunk);
  }
  for (DecoderRun& run : plan) {
    size_t tokens = 0, context = 0;
    for (size_t chunk : run.chunks) {
      tokens = std::max(tokens, chunks[chunk].tokens);
      context = std::max(context, chunks[chunk].end);
    }
    run.bucket = series.fit(run.chunks.size(), tokens, context);
  }
  return plan;
}

}  // namespace tpustack::inferd::engine::pjrt
