#include "inferd/generation/stop_condition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tpustack::inferd::generation {
namespace {

constexpr int32_t eos = 2;
constexpr int32_t other_eos = 3;
constexpr int32_t word = 10;  // any ordinary token

SamplingParams with_stop(std::vector<std::string> stop, uint32_t max_tokens = 100) {
  SamplingParams params;
  params.stop = std::move(stop);
  params.max_tokens = max_tokens;
  return params;
}

// Pushes the texts as one token each; returns what a streaming client saw, chunk by chunk.
std::vector<std::string> stream(StopCondition& condition, const std::vector<std::string>& texts) {
  std::vector<std::string> shown;
  for (const std::string& text : texts) shown.push_back(condition.push(word, text).text);
  return shown;
}

TEST(StopCondition, AStopStringSplitOverThreeTokensIsNeverShownInPartAndIsTrimmed) {
  const std::vector<int32_t> eos_ids{eos};
  StopCondition condition(with_stop({"<|end|>"}), eos_ids);
  EXPECT_EQ(condition.push(word, "Hello <|").text, "Hello ");
  EXPECT_EQ(condition.push(word, "en").text, "");
  const StreamDelta last = condition.push(word, "d|> and more");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.finish, FinishReason::stop);
  EXPECT_EQ(std::get<std::string>(last.stop_reason), "<|end|>");
  EXPECT_TRUE(condition.finished());
}

TEST(StopCondition, HeldBackTextIsReleasedOnceItCannotBeAStopString) {
  StopCondition condition(with_stop({"STOP"}), {});
  EXPECT_EQ(stream(condition, {"a ST", "O", "P", "!"}), (std::vector<std::string>{"a ", "", "", ""}));

  StopCondition unmatched(with_stop({"STOP"}), {});
  EXPECT_EQ(stream(unmatched, {"a ST", "O", "x", " b"}), (std::vector<std::string>{"a ", "", "STOx", " b"}));
  EXPECT_FALSE(unmatched.finished());
}

TEST(StopCondition, TextBeforeTheStopStringInTheSameTokenIsShown) {
  StopCondition condition(with_stop({"\n\n", "###"}), {});
  EXPECT_EQ(condition.push(word, "one").text, "one");
  const StreamDelta last = condition.push(word, " two### three\n\n");
  EXPECT_EQ(last.text, " two");  // the earliest stop string wins
  EXPECT_EQ(std::get<std::string>(last.stop_reason), "###");
}

TEST(StopCondition, OnlyTheEndThatCanStillBecomeAStopStringIsHeld) {
  // Of the held "aa" the first "a" can no longer begin "ab"; the second can.
  StopCondition condition(with_stop({"ab"}), {});
  EXPECT_EQ(condition.push(word, "xa").text, "x");
  EXPECT_EQ(condition.push(word, "a").text, "a");
  const StreamDelta last = condition.push(word, "b");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.finish, FinishReason::stop);
}

TEST(StopCondition, AnyOfTheModelsEndOfSequenceTokensStopsUnlessIgnored) {
  const std::vector<int32_t> eos_ids{eos, other_eos};
  StopCondition condition(with_stop({"STOP"}), eos_ids);
  EXPECT_EQ(condition.push(word, "x ST").text, "x ");
  const StreamDelta last = condition.push(other_eos, "<|eot_id|>");
  EXPECT_EQ(last.finish, FinishReason::stop);
  EXPECT_EQ(last.text, "ST");  // held back text is released, the end token's own text is not shown
  EXPECT_TRUE(std::holds_alternative<std::monostate>(last.stop_reason));

  SamplingParams ignoring;
  ignoring.ignore_eos = true;
  StopCondition ignored(ignoring, eos_ids);
  EXPECT_FALSE(ignored.push(eos, "</s>").finish);
  EXPECT_FALSE(ignored.push(other_eos, "</s>").finish);
}

TEST(StopCondition, AStopTokenStopsAndIsTheStopReasonEvenWithIgnoreEos) {
  SamplingParams params;
  params.stop_token_ids = {42};
  params.ignore_eos = true;
  StopCondition condition(params, {});
  EXPECT_FALSE(condition.push(word, "a").finish);
  const StreamDelta last = condition.push(42, "<tool_call>");
  EXPECT_EQ(last.finish, FinishReason::stop);
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(std::get<int32_t>(last.stop_reason), 42);
}

TEST(StopCondition, MaxTokensEndsWithLengthAndReleasesHeldText) {
  StopCondition condition(with_stop({"STOP"}, 3), {});
  EXPECT_FALSE(condition.push(word, "a").finish);
  EXPECT_FALSE(condition.push(word, "b").finish);
  const StreamDelta last = condition.push(word, " ST");
  EXPECT_EQ(last.finish, FinishReason::length);
  EXPECT_EQ(last.text, " ST");
  EXPECT_EQ(finish_reason_name(*last.finish), "length");
}

TEST(StopCondition, AStopOnTheLastAllowedTokenIsAStopNotALength) {
  const std::vector<int32_t> eos_ids{eos};
  StopCondition condition(with_stop({"."}, 1), eos_ids);
  EXPECT_EQ(condition.push(word, "Hi.").finish, FinishReason::stop);
  StopCondition by_eos(with_stop({}, 1), eos_ids);
  EXPECT_EQ(by_eos.push(eos, "").finish, FinishReason::stop);
  EXPECT_EQ(finish_reason_name(FinishReason::stop), "stop");
}

TEST(StopCondition, MultiByteStopStrings) {
  StopCondition condition(with_stop({"。\n"}), {});
  EXPECT_EQ(condition.push(word, "你好。").text, "你好");
  const StreamDelta last = condition.push(word, "\n再见");
  EXPECT_EQ(last.text, "");
  EXPECT_EQ(last.finish, FinishReason::stop);
}

}  // namespace
}  // namespace tpustack::inferd::generation
