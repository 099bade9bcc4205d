#include "inferd/batching/batch_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace tpustack::inferd::batching {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

tokenizer::Encoding sequence(int first, size_t length) {
  tokenizer::Encoding e;
  for (size_t i = 0; i < length; ++i) e.ids.push_back(first);
  e.type_ids.assign(length, 0);
  return e;
}

// Answers each sequence with {first id, length}; records batch sizes; can be held to build up a queue.
struct RecordingRunner {
  explicit RecordingRunner(bool hold_runs = false) : hold(hold_runs) {}
  std::mutex mu;
  std::vector<size_t> batch_sizes;
  std::vector<int> first_ids;  // each batch's first sequence's id, in run order
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> hold;
  std::atomic<int> started{0};

  BatchRunner runner() {
    return [this](const std::vector<tokenizer::Encoding>& inputs) -> Result<Rows> {
      ++started;
      if (hold) released.wait();
      std::lock_guard lock(mu);
      batch_sizes.push_back(inputs.size());
      first_ids.push_back(inputs.front().ids[0]);
      Rows rows{2, {}};
      for (const auto& e : inputs) {
        rows.values.push_back(static_cast<float>(e.ids[0]));
        rows.values.push_back(static_cast<float>(e.ids.size()));
      }
      return rows;
    };
  }
};

BatchLimits one_at_a_time() { return {4, 1, milliseconds(0)}; }

Clock::time_point in(Clock::duration d) { return Clock::now() + d; }

// Submits one sequence and returns once the held runner has started on it.
std::shared_ptr<Ticket> occupy_runner(BatchScheduler& scheduler, RecordingRunner& recorder) {
  auto ticket = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler.submit(ticket, {sequence(1, 4)});
  while (recorder.started == 0) std::this_thread::sleep_for(milliseconds(1));
  return ticket;
}

TEST(BatchScheduler, AnswersEveryInputInRequestOrder) {
  RecordingRunner recorder;
  BatchScheduler scheduler({1000, 8, milliseconds(1)}, 100, recorder.runner());
  auto ticket = std::make_shared<Ticket>(3, in(seconds(30)));
  ASSERT_EQ(scheduler.submit(ticket, {sequence(7, 3), sequence(8, 50), sequence(9, 4)}), Admission::accepted);
  auto completion = ticket->wait_until(in(seconds(30)));
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->failure, Failure::none);
  EXPECT_EQ(completion->rows.values, (std::vector<float>{7, 3, 8, 50, 9, 4}));
}

TEST(BatchScheduler, BatchesConcurrentRequestsTogether) {
  RecordingRunner recorder(/*hold_runs=*/true);
  BatchScheduler scheduler({1000, 64, milliseconds(1)}, 100, recorder.runner());
  // The first request occupies the runner; the next ten queue up behind it and share one batch.
  occupy_runner(scheduler, recorder);
  std::vector<std::shared_ptr<Ticket>> tickets;
  for (int i = 0; i < 10; ++i) {
    tickets.push_back(std::make_shared<Ticket>(1, in(seconds(30))));
    ASSERT_EQ(scheduler.submit(tickets.back(), {sequence(i, 4)}), Admission::accepted);
  }
  recorder.release.set_value();
  for (int i = 0; i < 10; ++i) {
    auto completion = tickets[i]->wait_until(in(seconds(30)));
    ASSERT_TRUE(completion);
    EXPECT_EQ(completion->rows.values[0], static_cast<float>(i));
  }
  std::lock_guard lock(recorder.mu);
  // Formation overlaps the run, so the queued ten may split in two at most (one formed early, one after).
  EXPECT_LE(recorder.batch_sizes.size(), 3u);
}

TEST(BatchScheduler, RefusesWhatWouldOverflowTheQueue) {
  RecordingRunner recorder(/*hold_runs=*/true);
  BatchScheduler scheduler(one_at_a_time(), 3, recorder.runner());
  auto running = occupy_runner(scheduler, recorder);
  auto formed = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler.submit(formed, {sequence(2, 4)});
  while (scheduler.queued() != 0) std::this_thread::sleep_for(milliseconds(1));
  auto fits = std::make_shared<Ticket>(3, in(seconds(30)));
  EXPECT_EQ(scheduler.submit(fits, {sequence(3, 4), sequence(3, 4), sequence(3, 4)}), Admission::accepted);
  auto overflow = std::make_shared<Ticket>(1, in(seconds(30)));
  EXPECT_EQ(scheduler.submit(overflow, {sequence(4, 4)}), Admission::queue_full);
  recorder.release.set_value();
  EXPECT_TRUE(fits->wait_until(in(seconds(30))));
}

TEST(BatchScheduler, DeadlineAndAbandonedWorkIsNotComputed) {
  RecordingRunner recorder(/*hold_runs=*/true);
  BatchScheduler scheduler(one_at_a_time(), 100, recorder.runner());
  auto running = occupy_runner(scheduler, recorder);
  auto late = std::make_shared<Ticket>(1, in(milliseconds(20)));
  scheduler.submit(late, {sequence(2, 4)});
  auto gone = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler.submit(gone, {sequence(3, 4)});
  gone->abandon();
  auto kept = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler.submit(kept, {sequence(4, 4)});
  std::this_thread::sleep_for(milliseconds(50));
  recorder.release.set_value();

  auto late_result = late->wait_until(in(seconds(30)));
  ASSERT_TRUE(late_result);
  EXPECT_EQ(late_result->failure, Failure::deadline);
  ASSERT_TRUE(kept->wait_until(in(seconds(30))));
  std::lock_guard lock(recorder.mu);
  EXPECT_EQ(recorder.started.load(), 2);  // the running one and `kept`; `late` and `gone` never ran
}

TEST(BatchScheduler, BackgroundWorkRunsOnlyWhenNoInteractiveWorkWaits) {
  RecordingRunner recorder(/*hold_runs=*/true);
  BatchScheduler scheduler(one_at_a_time(), 100, recorder.runner());
  auto running = occupy_runner(scheduler, recorder);  // interactive, id 1
  std::vector<std::shared_ptr<Ticket>> background;
  for (int id : {10, 11}) {
    background.push_back(std::make_shared<Ticket>(1, in(seconds(30))));
    ASSERT_EQ(scheduler.submit(background.back(), {sequence(id, 4)}, Priority::background), Admission::accepted);
  }
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(scheduler.queued(), 2u);  // not formed while the model is busy
  auto interactive = std::make_shared<Ticket>(1, in(seconds(30)));
  ASSERT_EQ(scheduler.submit(interactive, {sequence(2, 4)}), Admission::accepted);
  recorder.release.set_value();
  for (const auto& ticket : background) ASSERT_TRUE(ticket->wait_until(in(seconds(30))));
  std::lock_guard lock(recorder.mu);
  EXPECT_EQ(recorder.first_ids, (std::vector<int>{1, 2, 10, 11}));
}

TEST(BatchScheduler, AnInteractiveRequestWaitsForAtMostOneBackgroundBatch) {
  RecordingRunner recorder(/*hold_runs=*/true);
  BatchScheduler scheduler(one_at_a_time(), 100, recorder.runner());
  std::vector<std::shared_ptr<Ticket>> background;
  for (int id : {10, 11, 12}) {
    background.push_back(std::make_shared<Ticket>(1, in(seconds(30))));
    ASSERT_EQ(scheduler.submit(background.back(), {sequence(id, 4)}, Priority::background), Admission::accepted);
  }
  while (recorder.started == 0) std::this_thread::sleep_for(milliseconds(1));  // 10 runs
  auto interactive = std::make_shared<Ticket>(1, in(seconds(30)));
  ASSERT_EQ(scheduler.submit(interactive, {sequence(2, 4)}), Admission::accepted);
  recorder.release.set_value();
  for (const auto& ticket : background) ASSERT_TRUE(ticket->wait_until(in(seconds(30))));
  std::lock_guard lock(recorder.mu);
  EXPECT_EQ(recorder.first_ids, (std::vector<int>{10, 2, 11, 12}));
}

TEST(BatchScheduler, EngineErrorsReachTheClient) {
  BatchScheduler scheduler({100, 8, milliseconds(0)}, 10,
                           [](const std::vector<tokenizer::Encoding>&) -> Result<Rows> { return Error{"boom"}; });
  auto ticket = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler.submit(ticket, {sequence(1, 4)});
  auto completion = ticket->wait_until(in(seconds(30)));
  ASSERT_TRUE(completion);
  EXPECT_EQ(completion->failure, Failure::engine);
  EXPECT_EQ(completion->message, "boom");
}

TEST(BatchScheduler, StopFailsQueuedWorkAndRefusesMore) {
  RecordingRunner recorder(/*hold_runs=*/true);
  auto scheduler = std::make_unique<BatchScheduler>(one_at_a_time(), 100, recorder.runner());
  auto running = occupy_runner(*scheduler, recorder);
  auto waiting = std::make_shared<Ticket>(1, in(seconds(30)));
  scheduler->submit(waiting, {sequence(2, 4)});
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(20));
    recorder.release.set_value();
  });
  scheduler->stop();
  releaser.join();
  EXPECT_EQ(running->wait_until(in(seconds(1)))->failure, Failure::none);  // the running batch finished
  EXPECT_EQ(waiting->wait_until(in(seconds(1)))->failure, Failure::shutting_down);
  EXPECT_EQ(scheduler->submit(std::make_shared<Ticket>(1, in(seconds(1))), {sequence(3, 4)}), Admission::stopped);
}

}  // namespace
}  // namespace tpustack::inferd::batching
