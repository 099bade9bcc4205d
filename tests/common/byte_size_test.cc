#include "common/config/byte_size.h"
#include "tests/support/result_matchers.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace tpustack::config {
namespace {

using tpustack::testing::value_of;

TEST(ByteSizeTest, ReadsKubernetesQuantities) {
  EXPECT_EQ(value_of(parse_byte_size("1048576")), 1048576u);
  EXPECT_EQ(value_of(parse_byte_size("48Mi")), 48u << 20);
  EXPECT_EQ(value_of(parse_byte_size("512Ki")), 512u << 10);
  EXPECT_EQ(value_of(parse_byte_size("1Gi")), 1u << 30);
  EXPECT_EQ(value_of(parse_byte_size("64M")), 64000000u);
  EXPECT_EQ(value_of(parse_byte_size("500k")), 500000u);
}

TEST(ByteSizeTest, RefusesWhatIsNotASize) {
  for (const char* bad :
       {"", "Mi", "-1", "1.5Mi", "12 Mi", "1mi", "1MB", "99999999999999999999", "18446744073709551615Ki"}) {
    EXPECT_FALSE(parse_byte_size(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace tpustack::config
