#include "inferd/batch_jobs/job_store.h"

#include <sqlite3.h>

#include <stdexcept>
#include <system_error>

#include "common/json/parse_json.h"

namespace tpustack::inferd::batch_jobs {

namespace {

using nlohmann::json;

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS files(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL,
  bytes INTEGER NOT NULL, created_at INTEGER NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, finished INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch_lines(
  batch_id TEXT NOT NULL, line INTEGER NOT NULL, custom_id TEXT NOT NULL, body TEXT NOT NULL,
  status_code INTEGER, answer TEXT, PRIMARY KEY(batch_id, line));
)sql";

// A failure of SQLite itself, or a stored record that cannot be read back: thrown from deep inside a statement's
// steps and turned into the Error of the store's public call that ran it (JobStore::locked), never further.
struct StoreFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind_blob(int index, std::string_view bytes) {
    check(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  // True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  void run() {
    step();
    sqlite3_reset(stmt_);
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) const {
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    return data ? std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
  }
  [[noreturn]] void fail(const char* what) {
    throw StoreFailure(std::string("SQLite ") + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void execute(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    throw StoreFailure("SQLite: " + text);
  }
}

// BEGIN IMMEDIATE … COMMIT, rolled back when the scope ends without commit().
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { execute(db_, "BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    execute(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

FileRecord file_from(const Statement& row) {
  return {row.text(0), row.text(1), row.text(2), row.integer(3), row.integer(4)};
}

Batch batch_from(const std::string& record) {
  auto parsed = tpustack::json::parse_json(record, "a stored batch");
  if (!parsed) throw StoreFailure(parsed.error().message);
  auto batch = batch_from_json(*parsed);
  if (!batch) throw StoreFailure("a stored batch: " + batch.error().message);
  return std::move(*batch);
}

std::optional<Batch> read_batch(sqlite3* db, const std::string& id) {
  Statement select(db, "SELECT record FROM batches WHERE id = ?");
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  return batch_from(select.text(0));
}

void write_batch(sqlite3* db, const Batch& batch) {
  Statement update(db, "UPDATE batches SET record = ?, finished = ? WHERE id = ?");
  update.bind(1, batch_json(batch).dump()).bind(2, int64_t{is_terminal(batch.status)}).bind(3, batch.id).run();
}

void insert_file(sqlite3* db, const FileRecord& file, std::string_view content) {
  Statement insert(db, "INSERT INTO files(id, filename, purpose, bytes, created_at, content) VALUES(?, ?, ?, ?, ?, ?)");
  insert.bind(1, file.id).bind(2, file.filename).bind(3, file.purpose).bind(4, file.bytes).bind(5, file.created_at);
  insert.bind_blob(6, content).run();
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create --data-dir " + dir.string() + ": " + ec.message()};
  const std::string path = (dir / "inferd.sqlite").string();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open " + path + ": " + message};
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  sqlite3_busy_timeout(db, 5000);
  auto prepared = store->locked("set up " + path, [&]() -> Result<void> {
    // WAL: a commit is one append, and a reader never waits for the writer. A commit reaches the OS before it
    // returns, so a killed process loses nothing it committed.
    execute(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    execute(db, schema);
    return {};
  });
  if (!prepared) return prepared.error();
  return store;
}

JobStore::~JobStore() { sqlite3_close(db_); }

template <typename Operation>
auto JobStore::locked(const std::string& what, Operation operation) -> decltype(operation()) {
  std::lock_guard lock(mu_);
  try {
    return operation();
  } catch (const StoreFailure& e) {
    return Error{"cannot " + what + ": " + e.what()};
  }
}

Result<void> JobStore::add_file(const FileRecord& file, std::string_view content) {
  return locked("store the file", [&]() -> Result<void> {
    insert_file(db_, file, content);
    return {};
  });
}

Result<std::optional<FileRecord>> JobStore::file(const std::string& id) {
  return locked("read the file", [&]() -> Result<std::optional<FileRecord>> {
    Statement select(db_, "SELECT id, filename, purpose, bytes, created_at FROM files WHERE id = ?");
    select.bind(1, id);
    if (!select.step()) return std::optional<FileRecord>();
    return std::optional(file_from(select));
  });
}

Result<std::optional<std::string>> JobStore::file_content(const std::string& id) {
  return locked("read the file's content", [&]() -> Result<std::optional<std::string>> {
    Statement select(db_, "SELECT content FROM files WHERE id = ?");
    select.bind(1, id);
    if (!select.step()) return std::optional<std::string>();
    return std::optional(select.text(0));
  });
}

Result<std::vector<FileRecord>> JobStore::files(const std::string& purpose) {
  return locked("list the files", [&]() -> Result<std::vector<FileRecord>> {
    Statement select(db_,
                     "SELECT id, filename, purpose, bytes, created_at FROM files WHERE ?1 = '' OR purpose = ?1 "
                     "ORDER BY seq DESC");
    select.bind(1, purpose);
    std::vector<FileRecord> files;
    while (select.step()) files.push_back(file_from(select));
    return files;
  });
}

Result<bool> JobStore::delete_file(const std::string& id) {
  return locked("delete the file", [&]() -> Result<bool> {
    Statement remove(db_, "DELETE FROM files WHERE id = ?");
    remove.bind(1, id).run();
    return sqlite3_changes(db_) > 0;
  });
}

Result<void> JobStore::add_batch(const Batch& batch) {
  return locked("store the batch", [&]() -> Result<void> {
    Statement insert(db_, "INSERT INTO batches(id, finished, record) VALUES(?, ?, ?)");
    insert.bind(1, batch.id).bind(2, int64_t{is_terminal(batch.status)}).bind(3, batch_json(batch).dump()).run();
    return {};
  });
}

Result<std::optional<Batch>> JobStore::batch(const std::string& id) {
  return locked("read the batch", [&]() -> Result<std::optional<Batch>> { return read_batch(db_, id); });
}

Result<BatchPage> JobStore::batches(const std::string& after, size_t limit) {
  return locked("list the batches", [&]() -> Result<BatchPage> {
    Statement select(db_,
                     "SELECT record FROM batches WHERE ?1 = '' OR seq < (SELECT seq FROM batches WHERE id = ?1) "
                     "ORDER BY seq DESC LIMIT ?2");
    select.bind(1, after).bind(2, static_cast<int64_t>(limit) + 1);
    BatchPage page;
    while (select.step()) {
      if (page.batches.size() == limit) {
        page.has_more = true;
        break;
      }
      page.batches.push_back(batch_from(select.text(0)));
    }
    return page;
  });
}

Result<std::vector<std::string>> JobStore::unfinished_batches() {
  return locked("list the unfinished batches", [&]() -> Result<std::vector<std::string>> {
    Statement select(db_, "SELECT id FROM batches WHERE finished = 0 ORDER BY seq");
    std::vector<std::string> ids;
    while (select.step()) ids.push_back(select.text(0));
    return ids;
  });
}

Result<Batch> JobStore::update_batch(const std::string& id, const std::function<Result<void>(Batch&)>& change) {
  return locked("update the batch", [&]() -> Result<Batch> {
    Transaction transaction(db_);
    std::optional<Batch> batch = read_batch(db_, id);
    if (!batch) return Error{"No batch found with id '" + id + "'."};
    if (auto changed = change(*batch); !changed) return changed.error();
    write_batch(db_, *batch);
    transaction.commit();
    return *batch;
  });
}

Result<void> JobStore::start_batch(const std::string& id, const std::vector<InputLine>& lines,
                                   const std::function<Result<void>(Batch&)>& start) {
  return locked("store the batch's lines", [&]() -> Result<void> {
    Transaction transaction(db_);
    std::optional<Batch> batch = read_batch(db_, id);
    if (!batch) return Error{"no batch " + id};
    if (auto started = start(*batch); !started) return started.error();
    Statement insert(db_, "INSERT OR IGNORE INTO batch_lines(batch_id, line, custom_id, body) VALUES(?, ?, ?, ?)");
    for (const InputLine& line : lines) {
      insert.bind(1, id).bind(2, line.line).bind(3, line.custom_id).bind(4, line.body).run();
      insert.reset();
    }
    write_batch(db_, *batch);
    transaction.commit();
    return {};
  });
}

Result<std::vector<PendingLine>> JobStore::pending_lines(const std::string& batch_id, size_t limit) {
  return locked("read the pending lines", [&]() -> Result<std::vector<PendingLine>> {
    Statement select(db_,
                     "SELECT line, custom_id, body FROM batch_lines WHERE batch_id = ? AND status_code IS NULL "
                     "ORDER BY line LIMIT ?");
    select.bind(1, batch_id).bind(2, static_cast<int64_t>(limit));
    std::vector<PendingLine> lines;
    while (select.step()) lines.push_back({select.integer(0), select.text(1), select.text(2)});
    return lines;
  });
}

Result<int64_t> JobStore::lines_left(const std::string& batch_id) {
  return locked("count the pending lines", [&]() -> Result<int64_t> {
    Statement count(db_, "SELECT count(*) FROM batch_lines WHERE batch_id = ? AND status_code IS NULL");
    count.bind(1, batch_id);
    count.step();
    return count.integer(0);
  });
}

Result<void> JobStore::record_answers(const std::string& batch_id, const std::vector<LineAnswer>& answers) {
  return locked("record the answers", [&]() -> Result<void> {
    Transaction transaction(db_);
    std::optional<Batch> batch = read_batch(db_, batch_id);
    if (!batch) return Error{"no batch " + batch_id};
    Statement update(db_,
                     "UPDATE batch_lines SET status_code = ?, answer = ? "
                     "WHERE batch_id = ? AND line = ? AND status_code IS NULL");
    for (const LineAnswer& answer : answers) {
      update.bind(1, int64_t{answer.status_code}).bind(2, answer.body).bind(3, batch_id).bind(4, answer.line).run();
      update.reset();
      if (sqlite3_changes(db_) == 0) continue;
      ++(answer.status_code == 200 ? batch->request_counts.completed : batch->request_counts.failed);
    }
    write_batch(db_, *batch);
    transaction.commit();
    return {};
  });
}

Result<std::vector<LineOutcome>> JobStore::outcomes(const std::string& batch_id) {
  return locked("read the batch's answers", [&]() -> Result<std::vector<LineOutcome>> {
    Statement select(db_, "SELECT custom_id, status_code, answer FROM batch_lines WHERE batch_id = ? ORDER BY line");
    select.bind(1, batch_id);
    std::vector<LineOutcome> lines;
    while (select.step()) {
      LineOutcome outcome{select.text(0), std::nullopt, select.text(2)};
      if (!select.is_null(1)) outcome.status_code = static_cast<int>(select.integer(1));
      lines.push_back(std::move(outcome));
    }
    return lines;
  });
}

Result<void> JobStore::finish_batch(const std::string& id, const std::function<Result<void>(Batch&)>& finish,
                                    const std::optional<std::pair<FileRecord, std::string>>& output,
                                    const std::optional<std::pair<FileRecord, std::string>>& errors) {
  return locked("store the batch's output", [&]() -> Result<void> {
    Transaction transaction(db_);
    std::optional<Batch> batch = read_batch(db_, id);
    if (!batch) return Error{"no batch " + id};
    if (auto finished = finish(*batch); !finished) return finished.error();
    if (output) insert_file(db_, output->first, output->second);
    if (errors) insert_file(db_, errors->first, errors->second);
    write_batch(db_, *batch);
    Statement remove(db_, "DELETE FROM batch_lines WHERE batch_id = ?");
    remove.bind(1, id).run();
    transaction.commit();
    return {};
  });
}

}  // namespace tpustack::inferd::batch_jobs
