#include "inferd/batch_jobs/batch_lifecycle.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "inferd/batch_jobs/batch_output.h"

namespace tpustack::inferd::batch_jobs {
namespace {

using nlohmann::json;

constexpr UnixSeconds start = 1'700'000'000;
constexpr UnixSeconds day = 24 * 3600;

Batch fresh() { return new_batch("batch_1", "/v1/embeddings", "file-1", "24h", json(nullptr), start); }

TEST(BatchLifecycle, ANewBatchValidatesFirstAndExpiresOneWindowLater) {
  const Batch batch = fresh();
  EXPECT_EQ(batch.status, BatchStatus::validating);
  EXPECT_EQ(batch.expires_at, start + day);
  EXPECT_EQ(next_step(batch, 0, start), BatchStep::validate);
  EXPECT_EQ(completion_window_seconds("24h"), day);
  EXPECT_FALSE(completion_window_seconds("1h"));
}

TEST(BatchLifecycle, WalksValidatingInProgressFinalizingCompleted) {
  Batch batch = fresh();
  mark_validated(batch, 3, start + 1);
  EXPECT_EQ(batch.status, BatchStatus::in_progress);
  EXPECT_EQ(batch.in_progress_at, start + 1);
  EXPECT_EQ(batch.request_counts.total, 3);
  EXPECT_EQ(next_step(batch, 3, start + 2), BatchStep::run);
  EXPECT_EQ(next_step(batch, 0, start + 2), BatchStep::finalize);
  mark_finalizing(batch, start + 3);
  EXPECT_EQ(next_step(batch, 0, start + 3), BatchStep::finalize);  // after a restart in the middle of finalizing
  mark_finished(batch, BatchStep::finalize, "file-out", std::nullopt, start + 4);
  EXPECT_EQ(batch.status, BatchStatus::completed);
  EXPECT_EQ(batch.completed_at, start + 4);
  EXPECT_EQ(batch.output_file_id, "file-out");
  EXPECT_EQ(next_step(batch, 0, start + 5), BatchStep::none);
}

TEST(BatchLifecycle, ValidationFailureIsTerminalWithTheErrors) {
  Batch batch = fresh();
  mark_validation_failed(batch, {{"invalid_url", "wrong url", 2, "url"}}, start + 1);
  EXPECT_EQ(batch.status, BatchStatus::failed);
  EXPECT_EQ(batch.failed_at, start + 1);
  EXPECT_EQ(next_step(batch, 0, start + 2), BatchStep::none);
  const json object = batch_json(batch);
  EXPECT_EQ(object["errors"]["object"], "list");
  EXPECT_EQ(object["errors"]["data"][0],
            json({{"code", "invalid_url"}, {"message", "wrong url"}, {"line", 2}, {"param", "url"}}));
}

TEST(BatchLifecycle, PassingTheWindowExpiresWhateverIsUnfinished) {
  for (BatchStatus status : {BatchStatus::validating, BatchStatus::in_progress, BatchStatus::finalizing}) {
    Batch batch = fresh();
    batch.status = status;
    EXPECT_EQ(next_step(batch, 5, start + day - 1), status == BatchStatus::validating    ? BatchStep::validate
                                                    : status == BatchStatus::in_progress ? BatchStep::run
                                                                                         : BatchStep::finalize);
    EXPECT_EQ(next_step(batch, 5, start + day), BatchStep::expire);
    mark_finished(batch, BatchStep::expire, std::nullopt, "file-err", start + day);
    EXPECT_EQ(batch.status, BatchStatus::expired);
    EXPECT_EQ(batch.expired_at, start + day);
  }
}

TEST(BatchLifecycle, CancelGoesThroughCancellingAndWinsOverExpiry) {
  Batch batch = fresh();
  mark_validated(batch, 10, start + 1);
  ASSERT_TRUE(request_cancel(batch, start + 2));
  EXPECT_EQ(batch.status, BatchStatus::cancelling);
  EXPECT_EQ(batch.cancelling_at, start + 2);
  EXPECT_EQ(next_step(batch, 7, start + 3), BatchStep::cancel);
  EXPECT_EQ(next_step(batch, 7, start + 2 * day), BatchStep::cancel);
  ASSERT_TRUE(request_cancel(batch, start + 4));  // again: unchanged
  EXPECT_EQ(batch.cancelling_at, start + 2);
  mark_finished(batch, BatchStep::cancel, "file-out", std::nullopt, start + 5);
  EXPECT_EQ(batch.status, BatchStatus::cancelled);
  EXPECT_TRUE(request_cancel(batch, start + 6));
}

TEST(BatchLifecycle, AFinishedBatchCannotBeCancelled) {
  Batch batch = fresh();
  mark_validation_failed(batch, {{"empty_file", "no requests", std::nullopt, ""}}, start);
  auto refused = request_cancel(batch, start + 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "Cannot cancel a batch with status 'failed'.");
  EXPECT_EQ(batch.status, BatchStatus::failed);
}

TEST(BatchLifecycle, TransitionsFromTheWrongStatusAreProgrammingErrors) {
  Batch batch = fresh();
  EXPECT_THROW(mark_finalizing(batch, start), std::logic_error);
  EXPECT_THROW(mark_finished(batch, BatchStep::finalize, std::nullopt, std::nullopt, start), std::logic_error);
  EXPECT_THROW(mark_finished(batch, BatchStep::cancel, std::nullopt, std::nullopt, start), std::logic_error);
  mark_validated(batch, 1, start);
  EXPECT_THROW(mark_validated(batch, 1, start), std::logic_error);
}

TEST(BatchLifecycle, TheBatchObjectHasOpenAisFieldsAndReadsBack) {
  Batch batch = new_batch("batch_1", "/v1/embeddings", "file-1", "24h", json({{"team", "search"}}), start);
  mark_validated(batch, 2, start + 1);
  batch.request_counts.completed = 1;
  const json object = batch_json(batch);
  for (const char* key : {"id",
                          "object",
                          "endpoint",
                          "errors",
                          "input_file_id",
                          "completion_window",
                          "status",
                          "output_file_id",
                          "error_file_id",
                          "created_at",
                          "in_progress_at",
                          "expires_at",
                          "finalizing_at",
                          "completed_at",
                          "failed_at",
                          "expired_at",
                          "cancelling_at",
                          "cancelled_at",
                          "request_counts",
                          "metadata"}) {
    EXPECT_TRUE(object.contains(key)) << key;
  }
  EXPECT_EQ(object["object"], "batch");
  EXPECT_EQ(object["status"], "in_progress");
  EXPECT_TRUE(object["errors"].is_null());
  EXPECT_TRUE(object["completed_at"].is_null());
  EXPECT_EQ(object["request_counts"], json({{"total", 2}, {"completed", 1}, {"failed", 0}}));
  auto back = batch_from_json(object);
  ASSERT_TRUE(back);
  EXPECT_EQ(batch_json(*back), object);
}

TEST(BatchOutput, AnsweredLinesSplitIntoOutputAndErrorFilesInOrder) {
  int n = 0;
  auto ids = [&](std::string_view prefix) { return std::string(prefix) + std::to_string(++n); };
  const std::vector<LineOutcome> lines = {{"a", 200, R"({"object":"list"})"},
                                          {"b", 400, R"({"error":{"message":"bad"}})"},
                                          {"c", std::nullopt, ""},
                                          {"d", 200, R"({"object":"list","n":2})"}};
  const OutputFiles done = assemble_output(lines, BatchStep::cancel, ids);
  EXPECT_EQ(done.output_lines, 2u);
  EXPECT_EQ(done.error_lines, 1u);  // the unanswered line is left out of a cancelled batch
  EXPECT_EQ(
      done.output,
      R"({"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"req_2","body":{"object":"list"}},"error":null})"
      "\n"
      R"({"id":"batch_req_5","custom_id":"d","response":{"status_code":200,"request_id":"req_6","body":{"object":"list","n":2}},"error":null})"
      "\n");
  const json error = json::parse(done.errors);
  EXPECT_EQ(error["custom_id"], "b");
  EXPECT_EQ(error["response"]["status_code"], 400);
  EXPECT_EQ(error["response"]["body"]["error"]["message"], "bad");

  const OutputFiles expired = assemble_output(lines, BatchStep::expire, ids);
  ASSERT_EQ(expired.error_lines, 2u);
  const json unanswered = json::parse(expired.errors.substr(expired.errors.find('\n') + 1));
  EXPECT_EQ(unanswered["custom_id"], "c");
  EXPECT_TRUE(unanswered["response"].is_null());
  EXPECT_EQ(unanswered["error"]["code"], "batch_expired");
}

TEST(BatchOutput, BusyShutdownAndTimeoutAnswersAreRetriedNotRecorded) {
  for (int status : {429, 499, 503, 504}) EXPECT_TRUE(answer_is_transient(status)) << status;
  for (int status : {200, 400, 404, 413, 422, 424, 500}) EXPECT_FALSE(answer_is_transient(status)) << status;
}

}  // namespace
}  // namespace tpustack::inferd::batch_jobs
