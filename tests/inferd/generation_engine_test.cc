// The generation engine on a tiny Llama: continuous batching gives every request what it would get alone.
#include "inferd/generation/generation_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "inferd/decoder/decoder_model.h"
#include "inferd/tokenizer/tokenizer_json.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::generation {
namespace {

using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;
using namespace std::chrono_literals;

struct Collected {
  std::vector<int32_t> tokens;
  std::string text;
  std::optional<FinishReason> finish;
  std::variant<std::monostate, int32_t, std::string> stop_reason;
  std::optional<Error> error;
  size_t completion_tokens = 0;
};

Collected collect(GenerationStream& stream) {
  Collected out;
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < until) {
    auto update = stream.next(100ms);
    if (!update) continue;
    for (const auto& token : update->tokens) out.tokens.push_back(token.token);
    out.text += update->text;
    out.completion_tokens = update->completion_tokens;
    if (update->last()) {
      out.finish = update->finish;
      out.stop_reason = update->stop_reason;
      out.error = update->error;
      return out;
    }
  }
  ADD_FAILURE() << "the stream never ended";
  return out;
}

std::vector<int32_t> ids(const nlohmann::json& list) { return list.get<std::vector<int32_t>>(); }

// The engine's figures are taken after each step: a test waits for the step that follows what it saw.
bool eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class GenerationEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    INFERD_REQUIRE_TINY_DECODERS();
    model_ = std::make_unique<decoder::DecoderModel>(
        value_of(decoder::DecoderModel::load(inferd::testing::tiny_decoder("llama"), {2})));
    auto any = value_of(tokenizer::read_tokenizer_json(inferd::testing::tiny_decoder("llama") / "tokenizer.json"));
    tokenizer_ = std::make_unique<tokenizer::BpeTokenizer>(std::get<tokenizer::BpeTokenizer>(std::move(any)));
  }

  // Small blocks and a small cache, so that 32 streams fill it and preemption happens.
  void start(size_t block_count, size_t max_step_tokens = 48) {
    const KvCacheShape shape{4, block_count};
    cache_ = std::make_unique<decoder::KvCache>(model_->make_cache(shape));
    engine_ = value_of(GenerationEngine::start(
        [this](const DecodeStep& step, float* logits) { return model_->forward(step, *cache_, logits); },
        model_->config().vocab_size, *tokenizer_, {{shape, max_step_tokens, 16}, {2, 3}}));
  }

  static SamplingParams greedy(uint32_t max_tokens) {
    SamplingParams params;
    params.temperature = 0;
    params.max_tokens = max_tokens;
    params.ignore_eos = true;
    return params;
  }

  std::unique_ptr<decoder::DecoderModel> model_;
  std::unique_ptr<tokenizer::BpeTokenizer> tokenizer_;
  std::unique_ptr<decoder::KvCache> cache_;
  std::unique_ptr<GenerationEngine> engine_;
};

TEST_F(GenerationEngineTest, ThirtyTwoStreamsAtOnceGetTheReferenceGreedyTokens) {
  start(160);  // 640 positions for 32 prompts of up to 47 tokens and 64 more each: they take turns
  const auto& reference = inferd::testing::decoder_reference();
  const size_t steps = reference["steps"].get<size_t>();
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (const auto& prompt : reference["prompts"]) {
    streams.push_back(value_of(engine_->submit(ids(prompt), greedy(static_cast<uint32_t>(steps)), true)));
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    const Collected got = collect(*streams[i]);
    ASSERT_FALSE(got.error) << got.error->message;
    EXPECT_EQ(got.tokens, ids(reference["models"]["llama"]["greedy"][i])) << "prompt " << i;
    EXPECT_EQ(got.finish, FinishReason::length);
    EXPECT_EQ(got.completion_tokens, steps);
  }
  EXPECT_GT(engine_->figures().planner.preemptions, 0u) << "the cache was meant to be too small for all at once";
  EXPECT_TRUE(eventually([&] { return engine_->figures().planner.used_blocks == 0; }))
      << "finished sequences free their blocks";
}

TEST_F(GenerationEngineTest, ASeedGivesTheSameTokensWhateverRunsBesideIt) {
  start(400);
  const auto& prompts = inferd::testing::decoder_reference()["prompts"];
  SamplingParams sampled;
  sampled.temperature = 0.9f;
  sampled.top_p = 0.95f;
  sampled.seed = 42;
  sampled.max_tokens = 24;
  sampled.ignore_eos = true;
  const Collected alone = collect(*value_of(engine_->submit(ids(prompts[3]), sampled, true)));
  std::vector<std::shared_ptr<GenerationStream>> others;
  for (int i = 10; i < 16; ++i) others.push_back(value_of(engine_->submit(ids(prompts[i]), sampled, true)));
  const Collected crowded = collect(*value_of(engine_->submit(ids(prompts[3]), sampled, true)));
  for (auto& other : others) collect(*other);
  EXPECT_EQ(crowded.tokens, alone.tokens);
  SamplingParams reseeded = sampled;
  reseeded.seed = 43;
  EXPECT_NE(collect(*value_of(engine_->submit(ids(prompts[3]), reseeded, true))).tokens, alone.tokens);
}

TEST_F(GenerationEngineTest, AStopStringEndsTheTextBeforeIt) {
  start(400);
  const auto prompt = ids(inferd::testing::decoder_reference()["prompts"][8]);
  const Collected full = collect(*value_of(engine_->submit(prompt, greedy(48), true)));
  // An ASCII character of the output that is not its first: the text stops right before its first occurrence.
  size_t at = 1;
  while (at < full.text.size() && !(full.text[at] > ' ' && full.text[at] < 127)) ++at;
  ASSERT_LT(at, full.text.size()) << "no ASCII character in " << full.text;
  const std::string stop(1, full.text[at]);
  SamplingParams stopping = greedy(48);
  stopping.stop = {stop};
  const Collected stopped = collect(*value_of(engine_->submit(prompt, stopping, true)));
  EXPECT_EQ(stopped.finish, FinishReason::stop);
  EXPECT_EQ(stopped.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(std::get<std::string>(stopped.stop_reason), stop);
  EXPECT_LT(stopped.completion_tokens, full.completion_tokens);
}

TEST_F(GenerationEngineTest, EndOfSequenceTokensEndTheOutputUnlessIgnored) {
  start(400);
  const auto prompt = ids(inferd::testing::decoder_reference()["prompts"][5]);
  const Collected full = collect(*value_of(engine_->submit(prompt, greedy(64), true)));
  SamplingParams with_eos = greedy(64);
  with_eos.ignore_eos = false;
  with_eos.stop_token_ids = {full.tokens[6]};
  const Collected stopped = collect(*value_of(engine_->submit(prompt, with_eos, true)));
  EXPECT_EQ(stopped.finish, FinishReason::stop);
  const auto first = std::find(full.tokens.begin(), full.tokens.end(), full.tokens[6]) - full.tokens.begin();
  EXPECT_EQ(stopped.tokens, std::vector<int32_t>(full.tokens.begin(), full.tokens.begin() + first + 1));
  EXPECT_EQ(std::get<int32_t>(stopped.stop_reason), full.tokens[6]);
}

TEST_F(GenerationEngineTest, ACancelledRequestLeavesTheCacheAtOnce) {
  start(400);
  auto stream = value_of(engine_->submit(ids(inferd::testing::decoder_reference()["prompts"][9]), greedy(1000), true));
  ASSERT_TRUE(stream->next(60s)) << "no token came";
  stream->cancel();
  EXPECT_TRUE(eventually([&] {
    const PlannerFigures figures = engine_->figures().planner;
    return figures.used_blocks == 0 && figures.running == 0;
  }));
}

TEST_F(GenerationEngineTest, TheCacheHasRoomForPromptsUpToItsFreeBlocks) {
  start(16);  // 64 positions in blocks of 4
  EXPECT_TRUE(engine_->has_room_for(64));
  EXPECT_FALSE(engine_->has_room_for(65));
  // A burst is batched, not refused, and its blocks come back when it is done.
  std::vector<std::shared_ptr<GenerationStream>> streams;
  for (int i = 0; i < 3; ++i)
    streams.push_back(value_of(engine_->submit(std::vector<int32_t>(20, 5 + i), greedy(1), true)));
  for (auto& stream : streams) EXPECT_EQ(collect(*stream).completion_tokens, 1u);
  EXPECT_TRUE(eventually([&] { return engine_->has_room_for(64); }));
}

TEST_F(GenerationEngineTest, RefusesRequestsThatCanNeverRun) {
  start(16);  // 64 positions
  EXPECT_THAT(engine_->submit({5, 6, 7}, greedy(100), true), FailsWith(HasSubstr("KV cache holds 64")));
  EXPECT_THAT(engine_->submit({5, 999}, greedy(4), true), FailsWith(HasSubstr("outside the model's vocabulary")));
  EXPECT_THAT(engine_->submit({}, greedy(4), true), FailsWith(HasSubstr("empty")));
  SamplingParams hot = greedy(4);
  hot.temperature = 3;
  EXPECT_THAT(engine_->submit({5}, hot, true), FailsWith(HasSubstr("temperature")));
}

TEST_F(GenerationEngineTest, StoppingEndsWhatRunsWithAnError) {
  start(400);
  auto stream = value_of(engine_->submit({5, 6, 7}, greedy(1000), true));
  engine_->stop();
  const Collected got = collect(*stream);
  ASSERT_TRUE(got.error);
  EXPECT_THAT(got.error->message, HasSubstr("shutting down"));
  EXPECT_THAT(engine_->submit({5}, greedy(4), true), FailsWith(HasSubstr("shutting down")));
}

}  // namespace
}  // namespace tpustack::inferd::generation
