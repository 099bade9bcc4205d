#include "inferd/server/input_limits.h"

#include <gtest/gtest.h>

namespace tpustack::inferd::server {
namespace {

TEST(InputLimits, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe4\xb8"));          // cut short
  EXPECT_FALSE(
      is_valid_utf8("a\xff"
                    "b"));  // never valid
}

TEST(InputLimits, Body) {
  InputLimits limits{4, 10};
  EXPECT_TRUE(check_body("{}", limits).ok());
  EXPECT_EQ(check_body(std::string(11, 'x'), limits).error().status, 413);
  EXPECT_EQ(check_body("\xff", limits).error().status, 400);
}

TEST(InputLimits, Count) {
  InputLimits limits{4, 10};
  EXPECT_EQ(check_input_count(0, limits).error().status, 400);
  EXPECT_TRUE(check_input_count(4, limits).ok());
  auto too_many = check_input_count(5, limits);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().status, 413);
  EXPECT_NE(too_many.error().message.find("limit is 4"), std::string::npos);
}

TEST(InputLimits, Length) {
  EXPECT_TRUE(check_length(0, 512, 512, false).ok());
  EXPECT_TRUE(check_length(0, 600, 512, true).ok());
  auto over = check_length(3, 600, 512, false);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().status, 422);
  EXPECT_NE(over.error().message.find("input 3 has 600 tokens"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::inferd::server
