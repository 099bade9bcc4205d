#pragma once

#include <stdexcept>
#include <utility>

#include <gmock/gmock.h>

#include "common/result/result.h"

namespace tpustack::testing {

// Matches a failed Result whose Error message matches `message`: EXPECT_THAT(call(), FailsWith(HasSubstr("...")))
MATCHER_P(FailsWith, message, "fails with an error message that " + ::testing::DescribeMatcher<std::string>(message)) {
  if (arg.ok()) {
    *result_listener << "which succeeded";
    return false;
  }
  *result_listener << "whose error is \"" << arg.error().message << "\"";
  return ::testing::Matches(message)(arg.error().message);
}

// Matches a Result that succeeded, and shows the Error of one that did not: ASSERT_THAT(call(), Succeeds())
MATCHER(Succeeds, "succeeds") {
  if (arg.ok()) return true;
  *result_listener << "whose error is \"" << arg.error().message << "\"";
  return false;
}

// The value of a call that must succeed; otherwise the test fails with the Error's message.
template <typename T>
T value_of(Result<T> result) {
  if (!result) throw std::runtime_error("unexpected error: " + result.error().message);
  return std::move(*result);
}

}  // namespace tpustack::testing
