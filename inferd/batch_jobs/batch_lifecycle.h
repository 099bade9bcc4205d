#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::inferd::batch_jobs {

using UnixSeconds = int64_t;

// OpenAI's batch statuses: validating → in_progress → finalizing → completed, or failed (the input file was refused),
// expired (the completion window passed), cancelling → cancelled.
enum class BatchStatus { validating, failed, in_progress, finalizing, completed, expired, cancelling, cancelled };

std::string_view status_name(BatchStatus status);
std::optional<BatchStatus> parse_status(std::string_view name);
// No transition leaves it.
bool is_terminal(BatchStatus status);

struct RequestCounts {
  int64_t total = 0;
  int64_t completed = 0;
  int64_t failed = 0;
};

// One entry of a batch's `errors.data`: why validation refused the input file.
struct BatchError {
  std::string code;
  std::string message;
  std::optional<int64_t> line;  // 1-based line of the input file
  std::string param;            // "" when none
};

// A batch as OpenAI's Batch object describes it.
struct Batch {
  std::string id;
  std::string endpoint;
  std::string input_file_id;
  std::string completion_window;
  BatchStatus status = BatchStatus::validating;
  std::optional<std::string> output_file_id, error_file_id;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> in_progress_at, expires_at, finalizing_at, completed_at, failed_at, expired_at,
      cancelling_at, cancelled_at;
  RequestCounts request_counts;
  std::vector<BatchError> errors;
  nlohmann::json metadata;  // null or an object of strings
};

// The batch's Batch object, as OpenAI answers it.
nlohmann::json batch_json(const Batch& batch);
// batch_json read back (the store keeps batches in this form); an Error when it is not one.
Result<Batch> batch_from_json(const nlohmann::json& json);

// The windows a batch may ask for, in seconds: OpenAI offers "24h" only.
std::optional<int64_t> completion_window_seconds(std::string_view window);

// A new batch as POST /v1/batches creates it: validating, expiring one window after `now`.
Batch new_batch(std::string id, std::string endpoint, std::string input_file_id, std::string completion_window,
                nlohmann::json metadata, UnixSeconds now);

// What the runner does next with a batch. Cancelling and expiry come before any more work.
enum class BatchStep {
  none,      // terminal: nothing to do
  validate,  // read the input file, refuse it (failed) or record its lines (in_progress)
  run,       // answer the next lines
  finalize,  // every line has its answer: write the output and error files (completed)
  cancel,    // write the files with what was answered (cancelled)
  expire,    // write the files, the unanswered lines as batch_expired (expired)
};
BatchStep next_step(const Batch& batch, int64_t lines_left, UnixSeconds now);

// Transitions. Each throws std::logic_error from a status it does not leave: the runner calls them as next_step says.
void mark_validated(Batch& batch, int64_t lines, UnixSeconds now);
void mark_validation_failed(Batch& batch, std::vector<BatchError> errors, UnixSeconds now);
void mark_finalizing(Batch& batch, UnixSeconds now);
// The last step: completed, cancelled or expired by `step` (finalize, cancel or expire), with its files.
void mark_finished(Batch& batch, BatchStep step, std::optional<std::string> output_file_id,
                   std::optional<std::string> error_file_id, UnixSeconds now);
// A client's POST /v1/batches/{id}/cancel: cancelling from validating, in_progress or finalizing; unchanged when
// already cancelling or cancelled; an Error naming the status otherwise.
Result<void> request_cancel(Batch& batch, UnixSeconds now);

}  // namespace tpustack::inferd::batch_jobs
