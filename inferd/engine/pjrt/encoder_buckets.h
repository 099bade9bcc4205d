#pragma once

#include <compare>
#include <cstddef>
#include <span>
#include <vector>

namespace tpustack::inferd::engine::pjrt {

// A static shape an encoder program is compiled for: `batch` sequences of `sequence` tokens.
struct EncoderBucket {
  size_t batch = 0;
  size_t sequence = 0;
  auto operator<=>(const EncoderBucket&) const = default;
};

// The shapes compiled: batch sizes 1, 2, 4, ... up to `max_batch` and sequence lengths 16, 32, 64, ... up to
// `max_sequence` (each maximum itself the last, power of two or not). A batch is padded to the smallest bucket that
// holds it, so padding stays under half of each dimension.
class BucketSeries {
 public:
  BucketSeries(size_t max_batch, size_t max_sequence);

  const std::vector<size_t>& batches() const { return batches_; }
  const std::vector<size_t>& sequences() const { return sequences_; }
  size_t max_batch() const { return batches_.back(); }

  // The smallest bucket holding `count` sequences (at most max_batch()) of at most `longest` tokens (at most the
  // longest sequence bucket).
  EncoderBucket fit(size_t count, size_t longest) const;

 private:
  std::vector<size_t> batches_;
  std::vector<size_t> sequences_;
};

// One execution: the batch's sequences it runs (indices into the batch), the bucket they are padded to and the
// device replica that runs it.
struct BucketRun {
  size_t device = 0;
  std::vector<size_t> sequences;
  EncoderBucket bucket;
};

// Spreads a batch of sequences with these lengths over `devices` data-parallel replicas: sorted longest first and cut
// into runs of neighbours (so a run pads little), as many runs as devices when the batch has that many sequences, more
// when a run would exceed the largest bucket; run i goes to device i mod devices. Every sequence is in one run.
std::vector<BucketRun> plan_bucket_runs(std::span<const size_t> lengths, size_t devices, const BucketSeries& series);

}  // namespace tpustack::inferd::engine::pjrt
