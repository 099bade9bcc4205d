#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config/duration.h"
#include "tests/support/result_matchers.h"

namespace tpustack::config {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;

TEST(DurationTest, ParsesGoStyleDurations) {
  EXPECT_EQ(value_of(parse_duration("1s")), 1s);
  EXPECT_EQ(value_of(parse_duration("500ms")), 500ms);
  EXPECT_EQ(value_of(parse_duration("1m30s")), 90s);
  EXPECT_EQ(value_of(parse_duration("2h")), 2h);
  EXPECT_EQ(value_of(parse_duration("250us")), 250us);
  EXPECT_EQ(value_of(parse_duration("1.5s")), 1500ms);
  EXPECT_EQ(value_of(parse_duration("10ns")), 10ns);
  EXPECT_EQ(value_of(parse_duration("0")), 0ns);
}

TEST(DurationTest, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "1", "s", "10 s", "1x", "-1s", "1s2", "soon", "1e400h"}) {
    EXPECT_FALSE(parse_duration(bad).ok()) << bad;
  }
}

TEST(DurationTest, FormatsReadably) {
  EXPECT_EQ(format_duration(1s), "1s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(0ns), "0s");
  for (std::chrono::nanoseconds d : {1000ms, 1500ms, 250ms, 30000ms}) {
    EXPECT_EQ(value_of(parse_duration(format_duration(d))), d);
  }
}

}  // namespace
}  // namespace tpustack::config
