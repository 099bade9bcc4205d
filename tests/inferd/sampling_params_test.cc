#include "inferd/generation/sampling_params.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/result_matchers.h"

namespace tpustack::inferd::generation {
namespace {

using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::Succeeds;

TEST(SamplingParams, TheDefaultsAndTheEdgesOfEveryRangeAreValid) {
  EXPECT_THAT(validate(SamplingParams{}), Succeeds());
  SamplingParams edges;
  edges.temperature = 2;
  edges.top_k = -1;
  edges.top_p = 1;
  edges.min_p = 1;
  edges.repetition_penalty = 0.5f;
  edges.presence_penalty = -2;
  edges.frequency_penalty = 2;
  edges.max_tokens = 1;
  edges.stop = {"\n\n"};
  edges.stop_token_ids = {0};
  edges.logprobs = true;
  edges.top_logprobs = 20;
  EXPECT_THAT(validate(edges), Succeeds());
}

TEST(SamplingParams, AFieldOutOfRangeIsNamedWithItsRange) {
  auto with = [](auto change) {
    SamplingParams params;
    change(params);
    return validate(params);
  };
  EXPECT_THAT(with([](SamplingParams& p) { p.temperature = 2.5f; }),
              FailsWith("\"temperature\" must be between 0 and 2, got 2.5"));
  EXPECT_THAT(with([](SamplingParams& p) { p.temperature = -1; }), FailsWith(HasSubstr("\"temperature\"")));
  EXPECT_THAT(with([](SamplingParams& p) { p.temperature = std::nanf(""); }), FailsWith(HasSubstr("\"temperature\"")));
  EXPECT_THAT(with([](SamplingParams& p) { p.top_p = 0; }),
              FailsWith("\"top_p\" must be greater than 0 and at most 1, got 0"));
  EXPECT_THAT(with([](SamplingParams& p) { p.top_p = 1.5f; }), FailsWith(HasSubstr("\"top_p\"")));
  EXPECT_THAT(with([](SamplingParams& p) { p.top_k = -2; }), FailsWith(HasSubstr("\"top_k\" must be -1 or 0")));
  EXPECT_THAT(with([](SamplingParams& p) { p.min_p = 1.5f; }),
              FailsWith(HasSubstr("\"min_p\" must be between 0 and 1")));
  EXPECT_THAT(with([](SamplingParams& p) { p.repetition_penalty = 0; }),
              FailsWith("\"repetition_penalty\" must be greater than 0, got 0"));
  EXPECT_THAT(with([](SamplingParams& p) { p.presence_penalty = 2.5f; }),
              FailsWith("\"presence_penalty\" must be between -2 and 2, got 2.5"));
  EXPECT_THAT(with([](SamplingParams& p) { p.frequency_penalty = -3; }),
              FailsWith(HasSubstr("\"frequency_penalty\" must be between -2 and 2")));
  EXPECT_THAT(with([](SamplingParams& p) { p.max_tokens = 0; }), FailsWith("\"max_tokens\" must be at least 1, got 0"));
  EXPECT_THAT(with([](SamplingParams& p) { p.stop = {"END", ""}; }), FailsWith(HasSubstr("\"stop\"")));
  EXPECT_THAT(with([](SamplingParams& p) { p.stop_token_ids = {-1}; }), FailsWith(HasSubstr("\"stop_token_ids\"")));
  EXPECT_THAT(with([](SamplingParams& p) {
                p.logprobs = true;
                p.top_logprobs = 21;
              }),
              FailsWith("\"top_logprobs\" must be between 0 and 20, got 21"));
}

TEST(SamplingParams, TopLogprobsNeedsLogprobs) {
  SamplingParams params;
  params.top_logprobs = 5;
  EXPECT_THAT(validate(params), FailsWith(HasSubstr("\"top_logprobs\" needs \"logprobs\" to be true")));
  params.logprobs = true;
  EXPECT_THAT(validate(params), Succeeds());
}

}  // namespace
}  // namespace tpustack::inferd::generation
