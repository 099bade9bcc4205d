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
  EXPECT_FALSE(check_body("{}", limits));
  EXPECT_EQ(check_body(std::string(11, 'x'), limits)->status, 413);
  EXPECT_EQ(check_body("\xff", limits)->status, 400);
}

TEST(InputLimits, Count) {
  InputLimits limits{4, 10};
  EXPECT_EQ(check_input_count(0, limits)->status, 400);
  EXPECT_FALSE(check_input_count(4, limits));
  auto too_many = check_input_count(5, limits);
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->status, 413);
  EXPECT_NE(too_many->message.find("limit is 4"), std::string::npos);
}

TEST(InputLimits, Length) {
  EXPECT_FALSE(check_length(0, 512, 512, false));
  EXPECT_FALSE(check_length(0, 600, 512, true));
  auto over = check_length(3, 600, 512, false);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 422);
  EXPECT_NE(over->message.find("input 3 has 600 tokens"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::inferd::server
