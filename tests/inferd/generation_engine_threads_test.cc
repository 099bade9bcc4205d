// The generation engine's threads without a real model (so ThreadSanitizer sees all of it: no oneDNN or OpenMP):
// clients on many threads submit, read, cancel and poll figures while the engine thread steps.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "inferd/generation/generation_engine.h"
#include "inferd/tokenizer/tokenizer_json.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::generation {
namespace {

using tpustack::testing::value_of;
using namespace std::chrono_literals;

constexpr size_t kVocab = 256;

// A model whose next token after `token` at position p is 4 + (7 * token + p) % 200: what each request must get
// whatever the batch around it.
int32_t next_token(int32_t token, size_t position) {
  return static_cast<int32_t>(4 + (7 * static_cast<size_t>(token) + position) % 200);
}

Result<void> fake_forward(const DecodeStep& step, float* logits) {
  size_t row = 0;
  for (const SequenceChunk& chunk : step.sequences) {
    if (!chunk.wants_logits) continue;
    float* out = logits + row++ * kVocab;
    const size_t position = chunk.start + chunk.tokens.size() - 1;
    const int32_t want = next_token(chunk.tokens.back(), position);
    for (size_t v = 0; v < kVocab; ++v) out[v] = v == static_cast<size_t>(want) ? 10.0f : 0.0f;
  }
  return {};
}

std::vector<int32_t> expected(const std::vector<int32_t>& prompt, size_t count) {
  std::vector<int32_t> tokens;
  int32_t last = prompt.back();
  size_t position = prompt.size() - 1;
  for (size_t i = 0; i < count; ++i) {
    last = next_token(last, position++);
    tokens.push_back(last);
  }
  return tokens;
}

TEST(GenerationEngineThreads, ClientsOnManyThreadsEachGetTheirOwnTokens) {
  INFERD_REQUIRE_TINY_DECODERS();  // for the byte-level tokenizer.json the tiny models ship
  auto any = value_of(tokenizer::read_tokenizer_json(inferd::testing::tiny_decoder("llama") / "tokenizer.json"));
  const auto tokenizer = std::get<tokenizer::BpeTokenizer>(std::move(any));
  const KvCacheShape shape{4, 96};  // small: the clients' requests take turns and preempt each other
  auto engine = value_of(GenerationEngine::start(fake_forward, kVocab, tokenizer, {{shape, 24, 8}, {2, 3}}));

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      engine->figures();
      engine->has_room_for(10);
      std::this_thread::sleep_for(1ms);
    }
  });
  std::atomic<int> wrong{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> clients;
  for (int client = 0; client < 8; ++client) {
    clients.emplace_back([&, client] {
      for (int request = 0; request < 4; ++request) {
        const std::vector<int32_t> prompt(static_cast<size_t>(3 + client * 5 + request), 4 + client + request);
        SamplingParams params;
        params.temperature = 0;
        params.max_tokens = 40;
        params.ignore_eos = true;
        auto stream = value_of(engine->submit(prompt, params, true));
        const bool cancels = (client + request) % 3 == 0;
        std::vector<int32_t> tokens;
        while (true) {
          auto update = stream->next(100ms);
          if (!update) continue;
          for (const auto& token : update->tokens) tokens.push_back(token.token);
          if (cancels && tokens.size() >= 5) {
            stream->cancel();
            break;
          }
          if (update->last()) break;
        }
        if (cancels) continue;
        ++finished;
        if (tokens != expected(prompt, 40)) ++wrong;
      }
    });
  }
  for (auto& client : clients) client.join();
  done = true;
  watcher.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(finished, 21);
  engine->stop();
  EXPECT_EQ(engine->figures().planner.running, 0u);
}

}  // namespace
}  // namespace tpustack::inferd::generation
