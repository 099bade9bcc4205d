#include "inferd/engine/pjrt/encoder_buckets.h"

#include <algorithm>
#include <numeric>

#include "inferd/engine/pjrt/bucket_sizes.h"

namespace tpustack::inferd::engine::pjrt {

BucketSeries::BucketSeries(size_t max_batch, size_t max_sequence)
    : batches_(doubling_sizes(1, std::max<size_t>(max_batch, 1))),
      sequences_(doubling_sizes(16, std::max<size_t>(max_sequence, 1))) {}

EncoderBucket BucketSeries::fit(size_t count, size_t longest) const {
  return {smallest_at_least(batches_, count), smallest_at_least(sequences_, longest)};
}

std::vector<BucketRun> plan_bucket_runs(std::span<const size_t> lengths, size_t devices, const BucketSeries& series) {
  const size_t count = lengths.size();
  if (count == 0) return {};
  devices = std::max<size_t>(devices, 1);
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  const size_t by_bucket = (count + series.max_batch() - 1) / series.max_batch();
  const size_t runs = std::min(count, std::max(devices, by_bucket));
  std::vector<BucketRun> plan;
  plan.reserve(runs);
  for (size_t run = 0, begin = 0; run < runs; ++run) {
    // Sizes differ by at most one, the larger first.
    const size_t size = count / runs + (run < count % runs ? 1 : 0);
    BucketRun planned{run % devices, {order.begin() + begin, order.begin() + begin + size}, {}};
    planned.bucket = series.fit(size, lengths[planned.sequences.front()]);
    plan.push_back(std::move(planned));
    begin += size;
  }
  return plan;
}

}  // namespace tpustack::inferd::engine::pjrt
