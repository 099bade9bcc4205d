// The Files and Batch APIs on the inferd binary over the tiny models.
#include <gtest/gtest.h>

#include <filesystem>

#include "batch_client.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class BatchApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
    data_dir_ = tpustack::testing::make_temp_dir("inferd-batch");
  }
  void TearDown() override {
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }
  std::vector<std::string> flags() {
    auto flags = ServedInferd::one_tiny_model();
    flags.insert(flags.end(), {"--data-dir", data_dir_});
    return flags;
  }
  std::string data_dir_;
};

TEST_F(BatchApiTest, WithoutDataDirTheRoutesSayHowToEnableThem) {
  ServedInferd server(ServedInferd::one_tiny_model());
  const HttpResult result = server.get("/v1/batches");
  EXPECT_EQ(result.status, 404);
  const json error = json::parse(result.body)["error"];
  EXPECT_NE(error["message"].get<std::string>().find("--data-dir"), std::string::npos) << result.body;
  EXPECT_EQ(error["type"], "invalid_request_error");
}

TEST_F(BatchApiTest, AnEmbeddingsBatchAnswersEachLineAsTheRouteDoes) {
  ServedInferd server(flags());
  std::string lines = embedding_lines(40);
  // A line the route refuses (more dimensions than the model has) goes to the error file with the route's answer.
  lines += R"({"custom_id":"too-wide","method":"POST","url":"/v1/embeddings","body":{"input":"x","dimensions":64}})"
           "\n";
  const json file = upload(server, "embeddings.jsonl", lines);
  EXPECT_EQ(file["object"], "file");
  EXPECT_EQ(file["purpose"], "batch");
  EXPECT_EQ(file["bytes"], lines.size());
  EXPECT_EQ(server.get("/v1/files/" + file["id"].get<std::string>() + "/content").body, lines);

  const json created = create_batch(server, file["id"]);
  EXPECT_EQ(created["object"], "batch");
  EXPECT_EQ(created["status"], "validating");
  EXPECT_EQ(created["expires_at"].get<int64_t>() - created["created_at"].get<int64_t>(), 24 * 3600);
  const json done = poll_batch(server, created["id"], 60s, [](const json& b) { return b["status"] == "completed"; });
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["request_counts"], json({{"total", 41}, {"completed", 40}, {"failed", 1}}));
  for (const char* stamp : {"in_progress_at", "finalizing_at", "completed_at"}) EXPECT_TRUE(done[stamp].is_number());

  const HttpResult output = server.get("/v1/files/" + done["output_file_id"].get<std::string>() + "/content");
  ASSERT_EQ(output.status, 200);
  const auto counts = custom_id_counts(output.body);
  EXPECT_EQ(counts.size(), 40u);
  for (const auto& [custom_id, count] : counts) EXPECT_EQ(count, 1) << custom_id;
  // Line r3's body is what POST /v1/embeddings answers for the same request.
  const json direct = json::parse(server.post("/v1/embeddings", R"({"model":"m","input":"document number 3"})").body);
  bool found = false;
  for (size_t start = 0; start < output.body.size();) {
    const size_t end = output.body.find('\n', start);
    const json line = json::parse(output.body.substr(start, end - start));
    start = end + 1;
    EXPECT_TRUE(line["id"].get<std::string>().starts_with("batch_req_"));
    EXPECT_TRUE(line["error"].is_null());
    EXPECT_EQ(line["response"]["status_code"], 200);
    if (line["custom_id"] != "r3") continue;
    found = true;
    EXPECT_EQ(line["response"]["body"], direct);
  }
  EXPECT_TRUE(found);

  const json error_file = json::parse(server.get("/v1/files/" + done["error_file_id"].get<std::string>()).body);
  EXPECT_EQ(error_file["purpose"], "batch_output");
  const json failed = json::parse(server.get("/v1/files/" + error_file["id"].get<std::string>() + "/content").body);
  EXPECT_EQ(failed["custom_id"], "too-wide");
  EXPECT_EQ(failed["response"]["status_code"], 400);
  EXPECT_EQ(failed["response"]["body"]["error"]["param"], "dimensions");

  const json listed = json::parse(server.get("/v1/batches?limit=5").body);
  EXPECT_EQ(listed["object"], "list");
  EXPECT_EQ(listed["data"][0]["id"], created["id"]);
  EXPECT_EQ(json::parse(server.get("/v1/files?purpose=batch_output").body)["data"].size(), 2u);
  EXPECT_EQ(json::parse(server.call("DELETE", "/v1/files/" + file["id"].get<std::string>()).body)["deleted"], true);
  EXPECT_EQ(server.get("/v1/files/" + file["id"].get<std::string>()).status, 404);
}

TEST_F(BatchApiTest, AFileWithBadLinesFailsValidationNamingThem) {
  ServedInferd server(flags());
  const std::string lines = embedding_lines(2) + embedding_lines(1) +
                            R"({"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{}})" + "\n";
  const json batch = create_batch(server, upload(server, "bad.jsonl", lines)["id"]);
  const json done = poll_batch(server, batch["id"], 30s, [](const json& b) { return b["status"] == "failed"; });
  ASSERT_EQ(done["status"], "failed") << done.dump();
  const json errors = done["errors"]["data"];
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0]["code"], "duplicate_custom_id");
  EXPECT_EQ(errors[0]["line"], 3);
  EXPECT_EQ(errors[1]["line"], 4);
  EXPECT_EQ(errors[1]["param"], "url");
  EXPECT_EQ(server.post("/v1/batches/" + done["id"].get<std::string>() + "/cancel", "").status, 409);
}

TEST_F(BatchApiTest, UnknownIdsAndMethodsAnswerInOpenAisErrorShape) {
  ServedInferd server(flags());
  const HttpResult missing = server.get("/v1/batches/batch_nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(server.get("/v1/files/file-nope/content").status, 404);
  EXPECT_EQ(server.post("/v1/batches/batch_nope/cancel", "").status, 404);
  const HttpResult wrong = server.call("DELETE", "/v1/batches");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers.at("allow"), "GET, HEAD, POST, OPTIONS");
  const HttpResult not_form = server.post("/v1/files", "{}");
  EXPECT_EQ(not_form.status, 400);
  EXPECT_NE(json::parse(not_form.body)["error"]["message"].get<std::string>().find("multipart/form-data"),
            std::string::npos);
}

TEST_F(BatchApiTest, UploadsTakeMaxFileBytesWhileInferenceKeepsThePayloadLimit) {
  auto with_limits = flags();
  with_limits.insert(with_limits.end(), {"--payload-limit", "100000", "--max-file-bytes", "400000"});
  ServedInferd server(with_limits);
  const std::string lines = embedding_lines(2000);  // about 250 kB
  ASSERT_GT(lines.size(), 100000u);
  ASSERT_LT(lines.size(), 390000u);
  EXPECT_EQ(upload(server, "big.jsonl", lines)["bytes"], lines.size());
  // Refused from Content-Length, before the body is sent.
  auto refused = [&](const std::string& path, size_t bytes) {
    tpustack::testing::RawConnection connection(server.http_port());
    connection.send("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n" +
                    "Content-Length: " + std::to_string(bytes) + "\r\n\r\n");
    return connection.read_response(5s);
  };
  EXPECT_EQ(refused("/v1/embeddings", 150000).status, 413);
  const auto file_too_big = refused("/v1/files", 500000);
  EXPECT_EQ(file_too_big.status, 413);
  EXPECT_EQ(json::parse(file_too_big.body)["error"]["type"], "invalid_request_error") << file_too_big.body;
}

}  // namespace
}  // namespace tpustack::inferd::testing
