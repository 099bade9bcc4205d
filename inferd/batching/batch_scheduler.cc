#include "inferd/batching/batch_scheduler.h"

#include <algorithm>

namespace tpustack::inferd::batching {

BatchScheduler::BatchScheduler(BatchLimits limits, QueueLimits max_queue, BatchRunner runner, SchedulerEvents events)
    : limits_(limits), max_queue_(max_queue), runner_(std::move(runner)), events_(std::move(events)) {
  former_ = std::thread([this] { form_batches(); });
  runner_thread_ = std::thread([this] { run_batches(); });
}

BatchScheduler::~BatchScheduler() { stop(); }

Admission BatchScheduler::submit(const std::shared_ptr<Ticket>& ticket, std::vector<tokenizer::Encoding> inputs,
                                 Priority priority) {
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(mu_);
  if (stopping_) return Admission::stopped;
  std::deque<Queued>& queue = priority == Priority::interactive ? queue_ : background_;
  size_t& queued_tokens = priority == Priority::interactive ? queued_tokens_ : background_tokens_;
  QueueLoad request{inputs.size(), 0};
  for (const tokenizer::Encoding& input : inputs) request.tokens += input.ids.size();
  const Admission admission = admit({queue.size(), queued_tokens}, request, max_queue_);
  if (admission != Admission::accepted) return admission;
  for (size_t i = 0; i < inputs.size(); ++i) queue.push_back({ticket, i, std::move(inputs[i]), now});
  queued_tokens += request.tokens;
  report_queue();
  work_cv_.notify_all();
  return Admission::accepted;
}

size_t BatchScheduler::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size() + background_.size();
}

size_t BatchScheduler::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + background_.size() + (next_ ? next_->size() : 0) + running_;
}

bool BatchScheduler::may_form() const { return !next_ && (!queue_.empty() || (!background_.empty() && running_ == 0)); }

void BatchScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    for (Queued& item : queue_) item.ticket->fail(Failure::shutting_down, "the server is shutting down");
    for (Queued& item : background_) item.ticket->fail(Failure::shutting_down, "the server is shutting down");
    queue_.clear();
    background_.clear();
    queued_tokens_ = background_tokens_ = 0;
    if (next_) {
      for (Queued& item : *next_) item.ticket->fail(Failure::shutting_down, "the server is shutting down");
      next_.reset();
    }
    report_queue();
  }
  work_cv_.notify_all();
  if (former_.joinable()) former_.join();
  if (runner_thread_.joinable()) runner_thread_.join();
}

void BatchScheduler::report_queue() {
  if (events_.queue_size) events_.queue_size(queue_.size() + background_.size());
}

void BatchScheduler::drop_unwanted(std::deque<Queued>& queue, size_t& tokens, Clock::time_point now) {
  size_t dropped = 0;
  std::erase_if(queue, [&](const Queued& item) {
    if (item.ticket->abandoned()) {
      ++dropped;
    } else if (item.ticket->deadline() <= now) {
      item.ticket->fail(Failure::deadline, "the request's deadline passed while it waited in the queue");
      ++dropped;
    } else {
      return false;
    }
    tokens -= item.input.ids.size();
    return true;
  });
  if (dropped > 0) {
    report_queue();
    if (events_.dropped) events_.dropped(dropped);
  }
}

void BatchScheduler::form_batches() {
  std::unique_lock lock(mu_);
  std::vector<Waiting> waiting;
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || may_form(); });
    if (stopping_) return;
    const Clock::time_point now = Clock::now();
    drop_unwanted(queue_, queued_tokens_, now);
    drop_unwanted(background_, background_tokens_, now);
    if (!may_form()) continue;
    const bool interactive = !queue_.empty();
    std::deque<Queued>& queue = interactive ? queue_ : background_;
    size_t& queued_tokens = interactive ? queued_tokens_ : background_tokens_;
    waiting.clear();
    for (const Queued& item : queue) waiting.push_back({item.input.ids.size(), item.enqueued});
    BatchChoice choice = choose_batch(waiting, limits_, now);
    if (!choice.ready) {
      if (choice.wake_at != Clock::time_point::max()) work_cv_.wait_until(lock, choice.wake_at);
      continue;
    }
    std::vector<Queued> batch;
    batch.reserve(choice.members.size());
    std::deque<Queued> rest;
    size_t next_member = 0;
    for (size_t i = 0; i < queue.size(); ++i) {
      if (next_member < choice.members.size() && choice.members[next_member] == i) {
        queued_tokens -= queue[i].input.ids.size();
        batch.push_back(std::move(queue[i]));
        ++next_member;
      } else {
        rest.push_back(std::move(queue[i]));
      }
    }
    queue = std::move(rest);
    next_ = std::move(batch);
    report_queue();
    work_cv_.notify_all();
  }
}

void BatchScheduler::run_batches() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stopping_ || next_.has_value(); });
    if (!next_) return;  // stopping with nothing formed
    std::vector<Queued> batch = std::move(*next_);
    next_.reset();
    running_ = batch.size();
    work_cv_.notify_all();  // the former may build the next batch now
    lock.unlock();

    const Clock::time_point start = Clock::now();
    // A client that left or ran out of time while its batch formed costs nothing more.
    std::erase_if(batch, [&](const Queued& item) {
      if (item.ticket->abandoned()) return true;
      if (item.ticket->deadline() <= start) {
        item.ticket->fail(Failure::deadline, "the request's deadline passed while it waited in the queue");
        return true;
      }
      return false;
    });
    if (!batch.empty()) {
      std::vector<tokenizer::Encoding> inputs;
      inputs.reserve(batch.size());
      size_t tokens = 0;
      for (Queued& item : batch) {
        tokens += item.input.ids.size();
        inputs.push_back(std::move(item.input));
      }
      Result<Rows> rows = runner_(inputs);
      const Clock::time_point end = Clock::now();
      {
        // Idle before the answers go out, so a client that sends again on its answer finds the model idle.
        std::lock_guard idle(mu_);
        running_ = 0;
      }
      work_cv_.notify_all();  // background work may form now
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!rows) {
          batch[i].ticket->fail(Failure::engine, rows.error().message);
        } else if (rows->size() != batch.size()) {
          batch[i].ticket->fail(Failure::engine, "the engine returned a result of the wrong size");
        } else {
          batch[i].ticket->deliver(batch[i].index, rows->row(i), start - batch[i].enqueued, end - start);
        }
      }
      if (events_.batch_ran) events_.batch_ran(batch.size(), tokens, end - start);
    }
    lock.lock();
    running_ = 0;
    if (stopping_) return;
    work_cv_.notify_all();
  }
}

}  // namespace tpustack::inferd::batching
