// The store and the runner together, with a fake endpoint: what a restart keeps, what a cancel leaves.
#include "inferd/batch_jobs/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "inferd/batch_jobs/jobs_api.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::batch_jobs {

using ::testing::AllOf;
using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tpustack::testing::make_temp_dir("jobs"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<JobStore> open() { return value_of(JobStore::open(dir_)); }

  // An input file of `lines` embedding requests, custom_ids "r0", "r1", ...; and a batch over it.
  std::string create_batch(JobStore& store, int lines) {
    std::string text;
    for (int i = 0; i < lines; ++i) {
      text += R"({"custom_id":"r)" + std::to_string(i) +
              R"(","method":"POST","url":"/v1/embeddings","body":{"input":")" + std::to_string(i) + "\"}}\n";
    }
    const FileRecord file{"file-in", "in.jsonl", "batch", static_cast<int64_t>(text.size()), unix_now()};
    EXPECT_TRUE(store.add_file(file, text));
    const Batch batch = new_batch("batch_1", "/v1/embeddings", file.id, "24h", nullptr, unix_now());
    EXPECT_TRUE(store.add_batch(batch));
    return batch.id;
  }

  Batch wait_for(JobStore& store, const std::string& id, BatchStatus status) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      auto batch = value_of(store.batch(id));
      if (batch && batch->status == status) return *batch;
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "batch " << id << " never reached " << status_name(status);
    return *value_of(store.batch(id));
  }

  // custom_id → how many times the file names it.
  static std::map<std::string, int> custom_ids(const std::string& jsonl) {
    std::map<std::string, int> seen;
    size_t start = 0;
    while (start < jsonl.size()) {
      const size_t end = jsonl.find('\n', start);
      ++seen[json::parse(jsonl.substr(start, end - start))["custom_id"].get<std::string>()];
      start = end + 1;
    }
    return seen;
  }

  std::string dir_;
};

// Answers {"echo": input}; input "7" gets a 400.
EndpointAnswer echo(const std::string&, const std::string& body) {
  const json request = json::parse(body);
  if (request["input"] == "7") return {400, R"({"error":{"message":"seven"}})"};
  return {200, json({{"echo", request["input"]}}).dump()};
}

TEST_F(JobRunnerTest, AnswersEveryLineOnceAndSplitsFailuresIntoTheErrorFile) {
  auto store = open();
  const std::string id = create_batch(*store, 100);
  JobRunner runner(*store, echo, {8, 10ms});
  runner.start();
  const Batch done = wait_for(*store, id, BatchStatus::completed);
  EXPECT_EQ(done.request_counts.total, 100);
  EXPECT_EQ(done.request_counts.completed, 99);
  EXPECT_EQ(done.request_counts.failed, 1);
  ASSERT_TRUE(done.output_file_id && done.error_file_id);
  const std::string output = *value_of(store->file_content(*done.output_file_id));
  const auto answered = custom_ids(output);
  EXPECT_EQ(answered.size(), 99u);
  for (const auto& [custom_id, count] : answered) EXPECT_EQ(count, 1) << custom_id;
  const json first = json::parse(output.substr(0, output.find('\n')));
  EXPECT_EQ(first["custom_id"], "r0");
  EXPECT_EQ(first["response"]["body"], json({{"echo", "0"}}));
  EXPECT_EQ(custom_ids(*value_of(store->file_content(*done.error_file_id))), (std::map<std::string, int>{{"r7", 1}}));
  EXPECT_EQ(value_of(store->file(*done.output_file_id))->purpose, "batch_output");
}

TEST_F(JobRunnerTest, ARestartSendsOnlyTheLinesNotAnsweredBefore) {
  std::string id;
  std::atomic<int> sent{0};
  {
    auto store = open();
    id = create_batch(*store, 200);
    // The endpoint goes away after 50 lines: the server stopping under the runner.
    JobRunner runner(*store,
                     [&](const std::string& url, const std::string& body) {
                       return ++sent > 50 ? EndpointAnswer{503, "{}"} : echo(url, body);
                     },
                     {10, 10ms});
    runner.start();
    while (sent < 80) std::this_thread::sleep_for(1ms);
    runner.stop();
    EXPECT_EQ(value_of(store->batch(id))->status, BatchStatus::in_progress);
    EXPECT_EQ(value_of(store->lines_left(id)), 150);
  }
  auto store = open();
  std::atomic<int> resent{0};
  JobRunner runner(*store,
                   [&](const std::string& url, const std::string& body) {
                     ++resent;
                     return echo(url, body);
                   },
                   {10, 10ms});
  runner.start();
  const Batch done = wait_for(*store, id, BatchStatus::completed);
  EXPECT_EQ(resent, 150);
  EXPECT_EQ(done.request_counts.completed + done.request_counts.failed, 200);
  auto answered = custom_ids(*value_of(store->file_content(*done.output_file_id)));
  for (const auto& [custom_id, count] : custom_ids(*value_of(store->file_content(*done.error_file_id)))) {
    answered[custom_id] += count;
  }
  EXPECT_EQ(answered.size(), 200u);
  for (const auto& [custom_id, count] : answered) EXPECT_EQ(count, 1) << custom_id;
}

TEST_F(JobRunnerTest, ACancelledBatchKeepsWhatWasAnswered) {
  auto store = open();
  const std::string id = create_batch(*store, 1000);
  std::atomic<int> sent{0};
  JobsApi api(
      *store, [] {}, 1 << 20);
  JobRunner runner(*store,
                   [&](const std::string& url, const std::string& body) {
                     ++sent;
                     std::this_thread::sleep_for(1ms);
                     return echo(url, body);
                   },
                   {4, 10ms});
  runner.start();
  while (sent < 20) std::this_thread::sleep_for(1ms);
  const auto answer = api.handle({"POST", "/v1/batches/" + id + "/cancel", "", "", ""});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(json::parse(answer.value().body)["status"], "cancelling");
  const Batch cancelled = wait_for(*store, id, BatchStatus::cancelled);
  EXPECT_LT(cancelled.request_counts.completed, 1000);
  ASSERT_TRUE(cancelled.output_file_id);
  EXPECT_EQ(custom_ids(*value_of(store->file_content(*cancelled.output_file_id))).size(),
            static_cast<size_t>(cancelled.request_counts.completed));
  const auto again = api.handle({"POST", "/v1/batches/" + id + "/cancel", "", "", ""});
  EXPECT_TRUE(again.ok());
}

TEST_F(JobRunnerTest, AFileThatFailsValidationFailsTheBatchNamingTheLine) {
  auto store = open();
  const std::string text = R"({"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{}})"
                           "\n"
                           R"({"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{}})";
  ASSERT_TRUE(store->add_file({"file-in", "in.jsonl", "batch", 1, 0}, text));
  ASSERT_TRUE(store->add_batch(new_batch("batch_1", "/v1/embeddings", "file-in", "24h", nullptr, unix_now())));
  JobRunner runner(*store, echo, {8, 10ms});
  runner.start();
  const Batch failed = wait_for(*store, "batch_1", BatchStatus::failed);
  ASSERT_EQ(failed.errors.size(), 1u);
  EXPECT_EQ(failed.errors[0].code, "duplicate_custom_id");
  EXPECT_EQ(failed.errors[0].line, 2);
}

TEST_F(JobRunnerTest, BatchesListNewestFirstInPages) {
  auto store = open();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->add_batch(new_batch("batch_" + std::to_string(i), "/v1/embeddings", "f", "24h", nullptr, 0)));
  }
  JobsApi api(
      *store, [] {}, 1 << 20);
  auto page = [&](const std::string& query) {
    auto answer = api.handle({"GET", "/v1/batches", query, "", ""});
    return json::parse(answer.value().body);
  };
  const json first = page("limit=2");
  EXPECT_EQ(first["data"][0]["id"], "batch_4");
  EXPECT_EQ(first["last_id"], "batch_3");
  EXPECT_TRUE(first["has_more"]);
  const json rest = page("limit=10&after=batch_3");
  EXPECT_EQ(rest["data"].size(), 3u);
  EXPECT_EQ(rest["first_id"], "batch_2");
  EXPECT_FALSE(rest["has_more"]);
  EXPECT_FALSE(api.handle({"GET", "/v1/batches", "limit=0", "", ""}).ok());
}

// A damaged database is an answer naming what failed (a 500 for the route, an Error for open), never an exception
// escaping the store.
TEST_F(JobRunnerTest, ADamagedStoreIsAnErrorNamingWhatFailed) {
  {
    auto store = open();
    ASSERT_TRUE(store->add_batch(new_batch("batch_1", "/v1/embeddings", "f", "24h", nullptr, 0)));
  }
  const std::string path = dir_ + "/inferd.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE batches SET record = 'not json'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = open();
  JobsApi api(
      *store, [] {}, 64);
  const auto answer = api.handle({"GET", "/v1/batches/batch_1", "", "", ""});
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().status, 500);
  EXPECT_THAT(answer.error().message, HasSubstr("cannot read the batch: a stored batch"));
  EXPECT_THAT(store->unfinished_batches(), tpustack::testing::Succeeds());  // what is not damaged still reads

  store.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_THAT(JobStore::open(dir_), FailsWith(AllOf(HasSubstr(path), HasSubstr("not a database"))));
}

TEST_F(JobRunnerTest, RoutesAnswerOpenAisShapesAndErrors) {
  auto store = open();
  JobsApi api(
      *store, [] {}, 64);
  const std::string form =
      "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
      "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n"
      "{}\n\r\n--x--\r\n";
  auto uploaded = api.handle({"POST", "/v1/files", "", "multipart/form-data; boundary=x", form});
  ASSERT_TRUE(uploaded.ok());
  const json file = json::parse(uploaded.value().body);
  EXPECT_EQ(file["object"], "file");
  EXPECT_EQ(file["bytes"], 3);
  EXPECT_EQ(file["filename"], "a.jsonl");
  EXPECT_EQ(file["purpose"], "batch");
  const std::string id = file["id"];
  EXPECT_EQ(api.handle({"GET", "/v1/files/" + id + "/content", "", "", ""}).value().body, "{}\n");
  EXPECT_EQ(json::parse(api.handle({"GET", "/v1/files", "purpose=batch", "", ""}).value().body)["data"].size(), 1u);

  auto error = [&](const JobsCall& call) { return api.handle(call).error(); };
  EXPECT_EQ(error({"POST", "/v1/batches", "", "", R"({"input_file_id":"file-x","endpoint":"/v1/embeddings",
                   "completion_window":"24h"})"})
                .status,
            404);
  EXPECT_EQ(error({"POST", "/v1/batches", "", "",
                   R"({"input_file_id":")" + id + R"(","endpoint":"/v1/embeddings","completion_window":"1h"})"})
                .param,
            "completion_window");
  EXPECT_EQ(error({"POST", "/v1/batches", "", "",
                   R"({"input_file_id":")" + id + R"(","endpoint":"/v1/chat/completions","completion_window":"24h"})"})
                .param,
            "endpoint");
  EXPECT_EQ(error({"GET", "/v1/batches/batch_none", "", "", ""}).status, 404);
  EXPECT_EQ(error({"GET", "/v1/files/file-none", "", "", ""}).status, 404);
  EXPECT_EQ(error({"POST", "/v1/files", "", "application/json", "{}"}).status, 400);
  EXPECT_EQ(error({"DELETE", "/v1/batches/batch_none", "", "", ""}).status, 405);
  const std::string big =
      "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
      "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n" +
      std::string(65, 'a') + "\r\n--x--";
  EXPECT_EQ(error({"POST", "/v1/files", "", "multipart/form-data; boundary=x", big}).status, 413);

  const json deleted = json::parse(api.handle({"DELETE", "/v1/files/" + id, "", "", ""}).value().body);
  EXPECT_EQ(deleted, json({{"id", id}, {"object", "file"}, {"deleted", true}}));
  EXPECT_EQ(error({"GET", "/v1/files/" + id, "", "", ""}).status, 404);
}

TEST(JobsPaths, RoutesTheirMethodsAndLabels) {
  EXPECT_TRUE(is_jobs_path("/v1/files"));
  EXPECT_TRUE(is_jobs_path("/v1/files/file-1/content"));
  EXPECT_TRUE(is_jobs_path("/v1/batches/batch_1/cancel"));
  EXPECT_FALSE(is_jobs_path("/v1/files/"));
  EXPECT_FALSE(is_jobs_path("/v1/filesx"));
  EXPECT_FALSE(is_jobs_path("/v1/files/a/b"));
  EXPECT_FALSE(is_jobs_path("/v1/batches/b/content"));
  EXPECT_EQ(jobs_allowed_methods("/v1/files/file-1"), "GET, HEAD, DELETE, OPTIONS");
  EXPECT_EQ(jobs_allowed_methods("/v1/batches/b/cancel"), "POST, OPTIONS");
  EXPECT_EQ(jobs_route_label("/v1/files/file-1/content"), "/v1/files/{id}/content");
}

}  // namespace
}  // namespace tpustack::inferd::batch_jobs
