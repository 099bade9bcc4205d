#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/result/result.h"
#include "inferd/batching/batch_policy.h"
#include "inferd/batching/ticket.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd::batching {

// What the engine does with one batch: one row per sequence, in batch order. Called on the scheduler's run thread only,
// so the model behind it needs no locking.
using BatchRunner = std::function<Result<Rows>(const std::vector<tokenizer::Encoding>&)>;

// What happened, for metrics; called on the scheduler's threads.
struct SchedulerEvents {
  std::function<void(size_t queued)> queue_size;
  std::function<void(size_t sequences, size_t tokens, Clock::duration inference)> batch_ran;
  std::function<void(size_t sequences)> dropped;  // abandoned or past their deadline before running
};

// Interactive work is a client waiting; background work (batch jobs) runs only in the capacity interactive work leaves.
enum class Priority { interactive, background };

// One model's queue: a thread forms the next batch (choose_batch) while another runs the current one. Background
// sequences wait in a queue of their own, formed into a batch only while the model is idle and no interactive sequence
// waits, so an interactive request waits for at most one background batch.
class BatchScheduler {
 public:
  BatchScheduler(BatchLimits limits, QueueLimits max_queue, BatchRunner runner, SchedulerEvents events = {});
  ~BatchScheduler();
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Queues every input of one request, or none of them when they would take its priority's queue past the limits
  // (admit).
  Admission submit(const std::shared_ptr<Ticket>& ticket, std::vector<tokenizer::Encoding> inputs,
                   Priority priority = Priority::interactive);

  size_t queued() const;  // interactive and background
  // Work waiting or running; zero means idle.
  size_t pending() const;

  // Fails whatever has not started, lets the running batch finish, joins the threads.
  void stop();

 private:
  struct Queued {
    std::shared_ptr<Ticket> ticket;
    size_t index = 0;
    tokenizer::Encoding input;
    Clock::time_point enqueued;
  };

  void form_batches();
  void run_batches();
  void drop_unwanted(std::deque<Queued>& queue, size_t& tokens, Clock::time_point now);  // with mu_ held
  // With mu_ held: whether a batch may be formed now, and of which queue.
  bool may_form() const;
  void report_queue();  // with mu_ held

  const BatchLimits limits_;
  const QueueLimits max_queue_;
  BatchRunner runner_;
  SchedulerEvents events_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the queue or the slot changed, or stopping
  std::deque<Queued> queue_;
  size_t queued_tokens_ = 0;  // Σ tokens in queue_
  std::deque<Queued> background_;
  size_t background_tokens_ = 0;
  std::optional<std::vector<Queued>> next_;  // the formed batch waiting for the run thread
  size_t running_ = 0;
  bool stopping_ = false;
  std::thread former_;
  std::thread runner_thread_;
};

}  // namespace tpustack::inferd::batching
