#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "inferd/batch_jobs/batch_lifecycle.h"
#include "inferd/batch_jobs/job_store.h"

namespace tpustack::inferd::batch_jobs {

// What an endpoint answered one line with.
struct EndpointAnswer {
  int status = 200;
  std::string body;  // JSON
};

// Sends one line's body to the endpoint `url` at background priority and waits for the answer.
using LineSender = std::function<EndpointAnswer(const std::string& url, const std::string& body)>;

struct JobRunnerOptions {
  // Lines sent at once: about one engine batch, so batch work never holds more of the model than one batch.
  size_t lines_at_once = 64;
  // How often an idle runner looks for work it was not woken for (a window that expired).
  std::chrono::milliseconds idle_poll{1000};
};

// The thread that moves every unfinished batch along (next_step): validates input files, sends lines in groups of
// lines_at_once and records each group's answers in one transaction, writes the output and error files. After a
// restart it resumes from the store: lines answered before are never sent again.
class JobRunner {
 public:
  JobRunner(JobStore& store, LineSender send, JobRunnerOptions options = {});
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void start();
  // A batch was created or cancelled: look now instead of at the next poll.
  void wake();
  // Lets the lines in flight answer (their answers are recorded unless they were refused for the shutdown), then
  // joins the thread.
  void stop();

 private:
  void run();
  // Takes `id` one step; false when there was nothing to do.
  Result<bool> advance(const std::string& id);
  Result<void> validate(const Batch& batch);
  // False when every line was refused for now (busy or stopping): the runner pauses before trying again.
  Result<bool> send_lines(const Batch& batch);
  Result<void> finish(const Batch& batch, BatchStep step);

  JobStore& store_;
  LineSender send_;
  const JobRunnerOptions options_;
  std::mutex mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// Seconds since the epoch now, as the Batch object's timestamps count.
UnixSeconds unix_now();

}  // namespace tpustack::inferd::batch_jobs
