#include "inferd/batch_jobs/batch_input.h"

#include <gtest/gtest.h>

namespace tpustack::inferd::batch_jobs {
namespace {

std::string request(const std::string& custom_id, const std::string& url = "/v1/embeddings",
                    const std::string& method = "POST") {
  return R"({"custom_id":")" + custom_id + R"(","method":")" + method + R"(","url":")" + url +
         R"(","body":{"model":"m","input":"hello"}})";
}

std::vector<BatchError> errors_of(const std::string& text) {
  auto read = read_input_file(text, "/v1/embeddings");
  return read ? std::vector<BatchError>{} : read.error();
}

TEST(BatchInput, ReadsEveryLineWithItsCustomIdAndBody) {
  auto read = read_input_file(request("r1") + "\n\n" + request("r2") + "\r\n", "/v1/embeddings");
  ASSERT_TRUE(read);
  const std::vector<InputLine>& lines = *read;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, 1);
  EXPECT_EQ(lines[0].custom_id, "r1");
  EXPECT_EQ(nlohmann::json::parse(lines[0].body), nlohmann::json({{"model", "m"}, {"input", "hello"}}));
  EXPECT_EQ(lines[1].line, 3);  // numbered as in the file, blank lines counted
  EXPECT_EQ(lines[1].custom_id, "r2");
}

TEST(BatchInput, NamesTheLineOfEachRefusal) {
  const auto errors = errors_of(request("a") + "\nnot json\n" + request("b", "/v1/chat/completions") + "\n" +
                                request("c", "/v1/embeddings", "GET") + "\n" + request("a") + "\n" +
                                R"({"method":"POST","url":"/v1/embeddings","body":{}})" + "\n" +
                                R"({"custom_id":"z","method":"POST","url":"/v1/embeddings","body":"text"})" + "\n[1]");
  ASSERT_EQ(errors.size(), 7u);
  EXPECT_EQ(errors[0].code, "invalid_json_line");
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[1].code, "invalid_url");
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[1].param, "url");
  EXPECT_EQ(errors[2].code, "invalid_method");
  EXPECT_EQ(errors[2].line, 4);
  EXPECT_EQ(errors[3].code, "duplicate_custom_id");
  EXPECT_EQ(errors[3].line, 5);
  EXPECT_EQ(errors[3].param, "custom_id");
  EXPECT_EQ(errors[4].code, "missing_required_parameter");
  EXPECT_EQ(errors[4].param, "custom_id");
  EXPECT_EQ(errors[5].param, "body");
  EXPECT_EQ(errors[6].code, "invalid_json_line");  // JSON, but not an object
  EXPECT_EQ(errors[6].line, 8);
}

TEST(BatchInput, RefusesAnEmptyFileAndStopsAfterTenErrors) {
  ASSERT_EQ(errors_of("\n \n").size(), 1u);
  EXPECT_EQ(errors_of("").front().code, "empty_file");
  std::string garbage;
  for (int i = 0; i < 100; ++i) garbage += "{\n";
  EXPECT_EQ(errors_of(garbage).size(), max_reported_errors);
}

TEST(BatchInput, RefusesDeeplyNestedLinesWithoutRecursing) {
  const std::string deep = R"({"custom_id":"x","method":"POST","url":"/v1/embeddings","body":)" +
                           std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto errors = errors_of(deep);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "invalid_json_line");
}

TEST(BatchInput, OnlyEmbeddingsAreABatchEndpointForNow) {
  EXPECT_TRUE(is_batch_endpoint("/v1/embeddings"));
  EXPECT_FALSE(is_batch_endpoint("/v1/chat/completions"));
  EXPECT_FALSE(is_batch_endpoint("/embed"));
}

}  // namespace
}  // namespace tpustack::inferd::batch_jobs
