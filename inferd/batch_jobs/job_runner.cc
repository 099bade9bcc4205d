#include "inferd/batch_jobs/job_runner.h"

#include <spdlog/spdlog.h>

#include <future>
#include <vector>

#include "inferd/batch_jobs/batch_input.h"
#include "inferd/batch_jobs/batch_output.h"
#include "inferd/batch_jobs/object_id.h"

namespace tpustack::inferd::batch_jobs {

namespace {

// A batch that changed under the runner (a client cancelled it meanwhile): the runner looks again.
Error changed(const Batch& batch) { return Error{"batch " + batch.id + " changed"}; }

std::optional<std::pair<FileRecord, std::string>> output_file(const std::string& batch_id, const char* kind,
                                                              std::string content, UnixSeconds now) {
  if (content.empty()) return std::nullopt;
  FileRecord file{random_id("file-"), "batch_" + batch_id + "_" + kind + ".jsonl", "batch_output",
                  static_cast<int64_t>(content.size()), now};
  return std::pair{std::move(file), std::move(content)};
}

}  // namespace

UnixSeconds unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

JobRunner::JobRunner(JobStore& store, LineSender send, JobRunnerOptions options)
    : store_(store), send_(std::move(send)), options_(options) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start() {
  thread_ = std::thread([this] { run(); });
}

void JobRunner::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::run() {
  while (true) {
    bool worked = false;
    try {
      auto unfinished = store_.unfinished_batches();
      if (!unfinished) spdlog::error("batch jobs: {}", unfinished.error().message);
      for (const std::string& id : unfinished ? *unfinished : std::vector<std::string>{}) {
        if (std::lock_guard lock(mu_); stopping_) return;
        auto advanced = advance(id);
        // The store failed (a full disk): nothing was half-written; try again after a pause.
        if (!advanced) spdlog::error("batch {}: {}", id, advanced.error().message);
        worked = (advanced && *advanced) || worked;
      }
    } catch (const std::exception& e) {
      spdlog::error("batch jobs: {}", e.what());  // this thread's boundary: keep running
      worked = false;
    }
    std::unique_lock lock(mu_);
    if (!worked) wake_cv_.wait_for(lock, options_.idle_poll, [this] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) return;
  }
}

Result<bool> JobRunner::advance(const std::string& id) {
  auto stored = store_.batch(id);
  if (!stored) return stored.error();
  const std::optional<Batch>& batch = *stored;
  if (!batch) return false;
  // The record counts every line answered, in the transaction that stores the answer: no need to count rows.
  const RequestCounts& counts = batch->request_counts;
  const int64_t left = batch->status == BatchStatus::in_progress ? counts.total - counts.completed - counts.failed : 0;
  const BatchStep step = next_step(*batch, left, unix_now());
  switch (step) {
    case BatchStep::none:
      return false;
    case BatchStep::validate:
      if (auto validated = validate(*batch); !validated) return validated.error();
      return true;
    case BatchStep::run:
      return send_lines(*batch);
    case BatchStep::finalize:
    case BatchStep::cancel:
    case BatchStep::expire:
      if (auto finished = finish(*batch, step); !finished) return finished.error();
      return true;
  }
  return false;
}

Result<void> JobRunner::validate(const Batch& batch) {
  auto stored = store_.file_content(batch.input_file_id);
  if (!stored) return stored.error();
  const std::optional<std::string>& content = *stored;
  auto lines =
      content ? read_input_file(*content, batch.endpoint)
              : std::vector<BatchError>{{"invalid_file", "The input file " + batch.input_file_id + " no longer exists.",
                                         std::nullopt, "input_file_id"}};
  const UnixSeconds now = unix_now();
  if (!lines) {
    const std::vector<BatchError>& errors = lines.error();
    auto failed = store_.update_batch(batch.id, [&](Batch& stored) -> Result<void> {
      if (stored.status != BatchStatus::validating) return changed(stored);
      mark_validation_failed(stored, errors, now);
      return {};
    });
    if (failed) spdlog::info("batch {} failed validation: {}", batch.id, errors.front().message);
    return {};
  }
  const std::vector<InputLine>& valid = *lines;
  auto started = store_.start_batch(batch.id, valid, [&](Batch& stored) -> Result<void> {
    if (stored.status == BatchStatus::validating) {
      mark_validated(stored, static_cast<int64_t>(valid.size()), now);
    } else {
      stored.request_counts.total = static_cast<int64_t>(valid.size());  // cancelled meanwhile
    }
    return {};
  });
  if (!started) return started.error();
  spdlog::info("batch {} in progress: {} lines", batch.id, valid.size());
  return {};
}

Result<bool> JobRunner::send_lines(const Batch& batch) {
  auto pending = store_.pending_lines(batch.id, options_.lines_at_once);
  if (!pending) return pending.error();
  const std::vector<PendingLine>& lines = *pending;
  std::vector<std::future<EndpointAnswer>> sent;
  sent.reserve(lines.size());
  for (const PendingLine& line : lines) {
    sent.push_back(std::async(std::launch::async, [this, &batch, &line] {
      try {
        return send_(batch.endpoint, line.body);
      } catch (const std::exception& e) {
        return EndpointAnswer{500, nlohmann::json({{"error", {{"message", e.what()}}}}).dump()};
      }
    }));
  }
  std::vector<LineAnswer> answers;
  for (size_t i = 0; i < lines.size(); ++i) {
    EndpointAnswer answer = sent[i].get();
    if (answer_is_transient(answer.status)) continue;
    answers.push_back({lines[i].line, answer.status, std::move(answer.body)});
  }
  if (answers.empty()) return false;
  if (auto recorded = store_.record_answers(batch.id, answers); !recorded) return recorded.error();
  return true;
}

Result<void> JobRunner::finish(const Batch& batch, BatchStep step) {
  UnixSeconds now = unix_now();
  if (step == BatchStep::finalize && batch.status == BatchStatus::in_progress) {
    auto finalizing = store_.update_batch(batch.id, [&](Batch& stored) -> Result<void> {
      if (next_step(stored, 0, now) != step || stored.status != BatchStatus::in_progress) return changed(stored);
      mark_finalizing(stored, now);
      return {};
    });
    if (!finalizing) return {};  // the batch changed meanwhile (a cancel): the next pass decides again
  }
  auto outcomes = store_.outcomes(batch.id);
  if (!outcomes) return outcomes.error();
  OutputFiles files = assemble_output(*outcomes, step, random_id);
  now = unix_now();
  auto output = output_file(batch.id, "output", std::move(files.output), now);
  auto errors = output_file(batch.id, "error", std::move(files.errors), now);
  auto finished = store_.finish_batch(
      batch.id,
      [&](Batch& stored) -> Result<void> {
        if (next_step(stored, 0, now) != step) return changed(stored);
        mark_finished(stored, step, output ? std::optional(output->first.id) : std::nullopt,
                      errors ? std::optional(errors->first.id) : std::nullopt, now);
        // The error file holds the failed lines and the expired ones.
        if (step == BatchStep::expire) stored.request_counts.failed = static_cast<int64_t>(files.error_lines);
        return {};
      },
      output, errors);
  if (finished) {
    spdlog::info("batch {} {}: {} lines answered, {} in the error file", batch.id,
                 step == BatchStep::finalize ? "completed"
                 : step == BatchStep::cancel ? "cancelled"
                                             : "expired",
                 files.output_lines, files.error_lines);
  }
  return {};
}

}  // namespace tpustack::inferd::batch_jobs
