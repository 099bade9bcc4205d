#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"
#include "inferd/batch_jobs/batch_input.h"
#include "inferd/batch_jobs/batch_lifecycle.h"
#include "inferd/batch_jobs/batch_output.h"
#include "inferd/batch_jobs/file_object.h"

struct sqlite3;

namespace tpustack::inferd::batch_jobs {

// A line of a running batch waiting for its answer.
struct PendingLine {
  int64_t line = 0;
  std::string custom_id;
  std::string body;
};

// A line's answer as the runner records it.
struct LineAnswer {
  int64_t line = 0;
  int status_code = 0;
  std::string body;
};

struct BatchPage {
  std::vector<Batch> batches;  // newest first
  bool has_more = false;
};

// Files and batches in one SQLite database (DIR/inferd.sqlite). Every change is one transaction, so a process killed
// at any point restarts with each line either answered once or still pending, never both or neither. Thread-safe: one
// connection, used under a mutex. A failure of SQLite itself (a full disk, a corrupt file) is every call's Error,
// naming what the call was doing; nothing is half-written then.
class JobStore {
 public:
  // Creates `dir` and the database's tables when missing.
  static Result<std::unique_ptr<JobStore>> open(const std::filesystem::path& dir);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  Result<void> add_file(const FileRecord& file, std::string_view content);
  Result<std::optional<FileRecord>> file(const std::string& id);
  Result<std::optional<std::string>> file_content(const std::string& id);
  // Newest first; every purpose when `purpose` is empty.
  Result<std::vector<FileRecord>> files(const std::string& purpose);
  // False when there was no such file.
  Result<bool> delete_file(const std::string& id);

  Result<void> add_batch(const Batch& batch);
  Result<std::optional<Batch>> batch(const std::string& id);
  // Newest first, after the batch `after` (none: from the newest), at most `limit`.
  Result<BatchPage> batches(const std::string& after, size_t limit);
  // Ids of the batches not finished yet, oldest first: the runner's work.
  Result<std::vector<std::string>> unfinished_batches();
  // Reads the batch, lets `change` change it and stores it, in one transaction; the changed batch, or change's Error
  // (nothing stored), or an Error when there is no such batch.
  Result<Batch> update_batch(const std::string& id, const std::function<Result<void>(Batch&)>& change);

  // A validated batch's lines, and the batch as `start` changes it (in_progress), in one transaction.
  Result<void> start_batch(const std::string& id, const std::vector<InputLine>& lines,
                           const std::function<Result<void>(Batch&)>& start);
  // The first `limit` lines without an answer, in file order.
  Result<std::vector<PendingLine>> pending_lines(const std::string& batch_id, size_t limit);
  Result<int64_t> lines_left(const std::string& batch_id);
  // Stores answers and adds them to the batch's request_counts, in one transaction; a line already answered keeps
  // its first answer and is not counted again.
  Result<void> record_answers(const std::string& batch_id, const std::vector<LineAnswer>& answers);
  // Every line with its answer so far, in file order.
  Result<std::vector<LineOutcome>> outcomes(const std::string& batch_id);
  // Stores the output and error files (those given) and the batch as `finish` changes it, in one transaction; the
  // batch's lines go (the files hold their answers). Nothing is stored when `finish` fails: the batch changed since
  // its files were written (a cancel came).
  Result<void> finish_batch(const std::string& id, const std::function<Result<void>(Batch&)>& finish,
                            const std::optional<std::pair<FileRecord, std::string>>& output,
                            const std::optional<std::pair<FileRecord, std::string>>& errors);

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}

  // Runs `operation` under the lock; SQLite's own failure becomes the Error "cannot <what>: <SQLite's message>".
  template <typename Operation>
  auto locked(const std::string& what, Operation operation) -> decltype(operation());

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace tpustack::inferd::batch_jobs
