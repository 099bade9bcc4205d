#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

namespace tpustack::inferd::batching {

using Clock = std::chrono::steady_clock;

struct BatchLimits {
  // Σ tokens of the sequences in one batch (the engine runs variable-length batches without padding work).
  size_t max_batch_tokens = 16384;
  size_t max_batch_requests = 64;  // sequences per batch
  // How long the oldest waiting sequence may wait for company before a part-filled batch goes.
  Clock::duration max_wait = std::chrono::milliseconds(2);
};

// One sequence waiting in a model's queue, oldest first.
struct Waiting {
  size_t tokens = 0;
  Clock::time_point enqueued;
};

struct BatchChoice {
  bool ready = false;
  std::vector<size_t> members;  // indices into the queue, in queue order; empty unless ready
  Clock::time_point wake_at;    // when not ready: when to decide again if nothing else arrives
};

// What a model's queue holds, or may hold: sequences and their tokens.
struct QueueLoad {
  size_t sequences = 0;
  size_t tokens = 0;
};

// The queue's bounds; a bound of 0 is no bound. Converts from a sequence count, the older form of the limit.
struct QueueLimits {
  QueueLimits(size_t sequences = 1024, size_t tokens = 0) : sequences(sequences), tokens(tokens) {}
  size_t sequences;
  size_t tokens;
};

enum class Admission { accepted, queue_full, too_large, stopped };

// Whether a request's sequences may join the queue: never when they alone exceed a bound (retrying cannot help:
// too_large), later when the queue is too full for them now (queue_full).
Admission admit(const QueueLoad& queued, const QueueLoad& request, const QueueLimits& limits);

// Decides the next batch from the waiting sequences. The oldest always goes first, so nothing starves and a sequence
// longer than the whole token budget still runs alone; the rest are the sequences nearest to it in length (fewer wasted
// cycles on attention and better cache use), oldest first among equals, while the budget and the cap allow. A batch is
// ready once nothing more fits or the oldest has waited max_wait.
BatchChoice choose_batch(std::span<const Waiting> queue, const BatchLimits& limits, Clock::time_point now);

}  // namespace tpustack::inferd::batching
