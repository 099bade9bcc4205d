#pragma once

#include <source_location>
#include <stdexcept>
#include <string>
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

// The value of a call that must succeed (a test's, a fake's or a fixture's); otherwise the Error's message with the
// caller's file and line, thrown so that it ends the test as gtest reports it (also from constructors and helpers
// where ASSERT cannot return).
template <typename T, typename E>
T value_of(Result<T, E> result, std::source_location where = std::source_location::current()) {
  if (!result) {
    throw std::runtime_error(std::string(where.file_name()) + ":" + std::to_string(where.line()) +
                             ": unexpected error: " + result.error().message);
  }
  return std::move(result).value();
}

}  // namespace tpustack::testing
