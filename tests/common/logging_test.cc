#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/logging/logging.h"

namespace tpustack::logging {
namespace {

TEST(LoggingTest, ParsesLevels) {
  EXPECT_EQ(parse_level("debug").value(), spdlog::level::debug);
  EXPECT_EQ(parse_level("warn").value(), spdlog::level::warn);
  EXPECT_FALSE(parse_level("loud").ok());
  EXPECT_FALSE(setup_logging({"loud", false}, "tpu-test").ok());
}

TEST(LoggingTest, JsonLinesAreValidJsonWithEscapedMessages) {
  ASSERT_TRUE(setup_logging({"info", true}, "tpu-test").ok());
  testing::internal::CaptureStderr();
  spdlog::info("chip {} \"unhealthy\"\nnext", 3);
  spdlog::debug("hidden at info");
  const std::string out = testing::internal::GetCapturedStderr();
  ASSERT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  const auto line = nlohmann::json::parse(out);
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["logger"], "tpu-test");
  EXPECT_EQ(line["msg"], "chip 3 \"unhealthy\"\nnext");
  EXPECT_TRUE(line["ts"].get<std::string>().ends_with("Z"));
}

TEST(LoggingTest, TextLinesCarryTheProgramName) {
  ASSERT_TRUE(setup_logging({"debug", false}, "tpu-text").ok());
  testing::internal::CaptureStderr();
  spdlog::debug("visible");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("tpu-text: visible"), std::string::npos) << out;
}

}  // namespace
}  // namespace tpustack::logging
