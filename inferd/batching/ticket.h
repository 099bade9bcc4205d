#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "inferd/batching/batch_policy.h"

namespace tpustack::inferd::batching {

// `width` floats per sequence: an embedding, or one rerank score.
struct Rows {
  size_t width = 0;
  std::vector<float> values;

  size_t size() const { return width ? values.size() / width : 0; }
  std::span<const float> row(size_t i) const { return {values.data() + i * width, width}; }
};

enum class Failure { none, engine, deadline, shutting_down };

struct Completion {
  Failure failure = Failure::none;
  std::string message;               // for engine failures: what the engine said
  Rows rows;                         // one row per input, in request order
  Clock::duration queue_time{};      // longest wait of any input before its batch ran
  Clock::duration inference_time{};  // longest batch that carried one of its inputs
};

// One request's sequences on their way through a model's queue, possibly split across batches. Shared by the thread
// that waits for the answer and the scheduler that fills it in.
class Ticket {
 public:
  Ticket(size_t inputs, Clock::time_point deadline) : remaining_(inputs), deadline_(deadline) {}

  Clock::time_point deadline() const { return deadline_; }

  // The client is gone or gave up: its sequences that have not run yet are dropped instead of computed.
  void abandon() { abandoned_.store(true, std::memory_order_relaxed); }
  bool abandoned() const { return abandoned_.load(std::memory_order_relaxed); }

  // The answer once every input has a row or one failed; nullopt when `until` came first.
  std::optional<Completion> wait_until(Clock::time_point until);

  // Called by the scheduler.
  void deliver(size_t index, std::span<const float> row, Clock::duration queued, Clock::duration inference);
  void fail(Failure failure, const std::string& message);

 private:
  std::mutex mu_;
  std::condition_variable done_cv_;
  Completion completion_;
  size_t remaining_;
  bool done_ = false;
  Clock::time_point deadline_;
  std::atomic<bool> abandoned_{false};
};

}  // namespace tpustack::inferd::batching
