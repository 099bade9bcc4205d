#include "inferd/decoder/decoder_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "inferd/engine/cpu/linear.h"
#include "tests/inferd/cosine.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::decoder {
namespace {

using testing::cosine;
using testing::decoder_reference;
using testing::tiny_decoder;
using tpustack::testing::FailsWith;
using tpustack::testing::Succeeds;
using tpustack::testing::value_of;

// The four architectures' models in fp32, which the reference runs greedily on every prompt.
const std::vector<std::string> architectures = {"llama", "llama3-gqa-sharded", "qwen2", "mistral"};

DecoderModel load(const std::string& name, DecoderOptions options = {.threads = 3}) {
  return value_of(DecoderModel::load(tiny_decoder(name), options));
}

std::vector<int32_t> prompt(size_t i) { return decoder_reference()["prompts"][i].get<std::vector<int32_t>>(); }
const nlohmann::json& reference(const std::string& model) { return decoder_reference()["models"][model]; }

double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double largest = 0;
  for (size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::fabs(double(a[i]) - b[i]));
  return largest;
}

// A cache with a sequence's blocks numbered 0, 1, 2, ... in order: one sequence at a time.
struct OneSequence {
  KvCache cache;
  std::vector<uint32_t> blocks;

  OneSequence(const DecoderModel& model, size_t positions, size_t block_tokens = 16)
      : cache(model.make_cache({block_tokens, (positions + block_tokens - 1) / block_tokens})),
        blocks(cache.shape().block_count) {
    std::iota(blocks.begin(), blocks.end(), 0u);
  }
};

// Runs tokens at positions start.. of the sequence and returns the last one's logits.
std::vector<float> run(DecoderModel& model, OneSequence& sequence, const std::vector<int32_t>& tokens, size_t start) {
  std::vector<float> logits(model.config().vocab_size);
  generation::DecodeStep step;
  step.sequences.push_back({tokens, start, sequence.blocks, true});
  EXPECT_THAT(model.forward(step, sequence.cache, logits.data()), Succeeds());
  return logits;
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

struct Greedy {
  std::vector<int32_t> tokens;
  std::vector<float> final_logits;  // of the last step
};

// The prompt as one chunk, then one token a step, as many steps as asked: the test's own greedy loop.
Greedy greedy(DecoderModel& model, const std::vector<int32_t>& prompt, size_t steps) {
  OneSequence sequence(model, prompt.size() + steps);
  Greedy result;
  std::vector<int32_t> input = prompt;
  size_t start = 0;
  for (size_t i = 0; i < steps; ++i) {
    result.final_logits = run(model, sequence, input, start);
    result.tokens.push_back(argmax(result.final_logits));
    start += input.size();
    input = {result.tokens.back()};
  }
  return result;
}

TEST(DecoderModel, LogitsOfAPromptMatchTheReference) {
  INFERD_REQUIRE_TINY_DECODERS();
  // Weights stored in f16 and bf16 are computed in fp32 too, against the reference of the same stored values.
  for (const std::string name : {"llama", "llama3-gqa-sharded", "qwen2", "mistral", "llama-f16", "llama-bf16"}) {
    for (size_t threads : {1u, 5u}) {
      DecoderModel model = load(name, {.threads = threads});
      for (size_t i = 0; i < reference(name)["last_logits"].size(); ++i) {
        OneSequence sequence(model, prompt(i).size());
        const std::vector<float> logits = run(model, sequence, prompt(i), 0);
        const auto expected = reference(name)["last_logits"][i].get<std::vector<double>>();
        EXPECT_GE(cosine(logits, expected), 0.9999) << name << " prompt " << i << " threads " << threads;
        for (size_t v = 0; v < logits.size(); ++v) {
          ASSERT_NEAR(logits[v], expected[v], 1e-3) << name << " prompt " << i << " token " << v;
        }
      }
    }
  }
}

TEST(DecoderModel, GreedyTokensMatchTheReferenceFor64Steps) {
  INFERD_REQUIRE_TINY_DECODERS();
  const size_t steps = decoder_reference()["steps"].get<size_t>();
  for (const std::string& name : architectures) {
    DecoderModel model = load(name);
    const nlohmann::json& expected = reference(name);
    for (size_t i = 0; i < expected["greedy"].size(); ++i) {
      const Greedy generated = greedy(model, prompt(i), steps);
      EXPECT_EQ(generated.tokens, expected["greedy"][i].get<std::vector<int32_t>>())
          << name << " prompt " << i << " (the reference's smallest top-2 gap: " << expected["margins"][i] << ")";
      if (i < expected["final_logits"].size()) {
        EXPECT_GE(cosine(generated.final_logits, expected["final_logits"][i].get<std::vector<double>>()), 0.9999)
            << name << " prompt " << i;
      }
    }
  }
}

TEST(DecoderModel, APromptInThreeChunksGivesTheLogitsOfOneChunk) {
  INFERD_REQUIRE_TINY_DECODERS();
  for (const std::string& name : architectures) {
    DecoderModel model = load(name);
    const std::vector<int32_t> tokens = prompt(11);  // 47 tokens: past the mistral's window of 32
    OneSequence whole(model, tokens.size(), 4);
    const std::vector<float> expected = run(model, whole, tokens, 0);

    OneSequence chunked(model, tokens.size(), 4);
    std::vector<float> logits(model.config().vocab_size, -1.0f);
    size_t start = 0;
    for (size_t length : {10u, 21u, 16u}) {
      generation::DecodeStep step;
      const std::span<const int32_t> chunk(tokens.data() + start, length);
      step.sequences.push_back({chunk, start, chunked.blocks, start + length == tokens.size()});
      ASSERT_THAT(model.forward(step, chunked.cache, logits.data()), Succeeds());
      start += length;
    }
    EXPECT_LE(largest_difference(logits, expected), 1e-4) << name;
  }
}

// Each sequence of a batch: its prompt, how far the batch's step starts into it, and its own blocks.
struct BatchedSequence {
  std::vector<int32_t> tokens;
  size_t start;  // positions computed before the batched step (0: the step is its prefill)
  std::vector<uint32_t> blocks;
};

TEST(DecoderModel, ABatchOfPrefillsAndDecodesOnShuffledBlocksGivesTheOutputsOfEachAlone) {
  INFERD_REQUIRE_TINY_DECODERS();
  for (const std::string& name : architectures) {
    DecoderModel model = load(name);
    const size_t block_tokens = 4, block_count = 128;
    std::vector<uint32_t> free_blocks(block_count);
    std::iota(free_blocks.begin(), free_blocks.end(), 0u);
    std::shuffle(free_blocks.begin(), free_blocks.end(), std::mt19937(5));
    // Decoding sequences (one new token after a prefix in the cache) and prefills, mixed; one prefill does not
    // want logits (a chunk that is not its prompt's last).
    std::vector<BatchedSequence> sequences;
    for (size_t i : {8u, 11u, 0u, 23u, 5u, 9u, 24u}) {
      const std::vector<int32_t> tokens = prompt(i);
      const size_t start = (i % 2 == 1 && tokens.size() > 1) ? tokens.size() - 1 : 0;
      const size_t blocks = (tokens.size() + block_tokens - 1) / block_tokens;
      sequences.push_back({tokens, start, {free_blocks.end() - blocks, free_blocks.end()}});
      free_blocks.resize(free_blocks.size() - blocks);
    }
    KvCache cache = model.make_cache({block_tokens, block_count});
    std::vector<float> ignored(model.config().vocab_size);
    for (const BatchedSequence& sequence : sequences) {  // the prefixes of the decoding ones, one at a time
      if (sequence.start == 0) continue;
      generation::DecodeStep prefix;
      prefix.sequences.push_back({std::span(sequence.tokens).first(sequence.start), 0, sequence.blocks, false});
      ASSERT_THAT(model.forward(prefix, cache, ignored.data()), Succeeds());
    }
    generation::DecodeStep step;
    for (size_t s = 0; s < sequences.size(); ++s) {
      const BatchedSequence& sequence = sequences[s];
      step.sequences.push_back(
          {std::span(sequence.tokens).subspan(sequence.start), sequence.start, sequence.blocks, s != 2});
    }
    std::vector<float> batched(step.logits_rows() * model.config().vocab_size);
    ASSERT_THAT(model.forward(step, cache, batched.data()), Succeeds());

    size_t row = 0;
    for (size_t s = 0; s < sequences.size(); ++s) {
      if (s == 2) continue;
      OneSequence alone(model, sequences[s].tokens.size());
      const std::vector<float> expected = run(model, alone, sequences[s].tokens, 0);
      const std::vector<float> got(batched.begin() + static_cast<ptrdiff_t>(row * expected.size()),
                                   batched.begin() + static_cast<ptrdiff_t>((row + 1) * expected.size()));
      EXPECT_LE(largest_difference(got, expected), 1e-4) << name << " sequence " << s;
      ++row;
    }
  }
}

TEST(DecoderModel, Bf16AndInt8ProductsStayCloseToTheReference) {
  INFERD_REQUIRE_TINY_DECODERS();
  std::vector<std::pair<engine::WeightPrecision, double>> variants = {{engine::WeightPrecision::i8, 0.99}};
  if (engine::cpu::has_native_bf16()) variants.emplace_back(engine::WeightPrecision::bf16, 0.99);
  for (const std::string& name : architectures) {
    for (const auto& [precision, bar] : variants) {
      DecoderModel model = load(name, {.threads = 2, .precision = precision});
      EXPECT_EQ(model.precision(), precision);
      EXPECT_THAT(model.kernel(), ::testing::StartsWith(engine::cpu::cpu_isa_name()));
      for (size_t i = 0; i < reference(name)["last_logits"].size(); ++i) {
        OneSequence sequence(model, prompt(i).size());
        const auto expected = reference(name)["last_logits"][i].get<std::vector<double>>();
        EXPECT_GE(cosine(run(model, sequence, prompt(i), 0), expected), bar)
            << name << " " << engine::precision_name(precision) << " prompt " << i;
      }
    }
  }
}

TEST(DecoderModel, StepsThatDoNotFitTheModelOrCacheAreRefused) {
  INFERD_REQUIRE_TINY_DECODERS();
  DecoderModel model = load("llama");
  KvCache cache = model.make_cache({4, 8});
  std::vector<float> logits(model.config().vocab_size);
  const std::vector<uint32_t> blocks = {0, 1};
  const auto refused = [&](std::vector<int32_t> tokens, size_t start, std::span<const uint32_t> chunk_blocks) {
    generation::DecodeStep step;
    step.sequences.push_back({std::span(tokens), start, chunk_blocks, true});
    return model.forward(step, cache, logits.data());
  };
  EXPECT_THAT(refused({}, 0, blocks), FailsWith("chunk 0 of the step has no tokens"));
  EXPECT_THAT(refused({1, 256}, 0, blocks), FailsWith("chunk 0 has token id 256, outside the vocabulary of 256"));
  EXPECT_THAT(refused({1, -3}, 0, blocks), FailsWith("chunk 0 has token id -3, outside the vocabulary of 256"));
  EXPECT_THAT(refused({1, 2, 3}, 6, blocks), FailsWith("chunk 0 has 2 blocks of 4 positions for 9 positions"));
  const std::vector<uint32_t> outside = {0, 8};
  EXPECT_THAT(refused({1, 2, 3}, 3, outside), FailsWith("chunk 0 uses block 8, past the cache's 8 blocks"));
  EXPECT_THAT(refused({1}, 256, blocks),
              FailsWith("chunk 0 reaches position 256, past the model's max_position_embeddings (256)"));
  KvCache other = value_of(DecoderModel::load(tiny_decoder("mistral"), {})).make_cache({4, 8});
  generation::DecodeStep step;
  const std::vector<int32_t> token = {1};
  step.sequences.push_back({token, 0, blocks, true});
  EXPECT_THAT(model.forward(step, other, logits.data()),
              FailsWith("the KV cache holds 2 layers of 2 key/value heads of 32; the model has 2 layers of 4 heads "
                        "of 16"));
  EXPECT_THAT(model.forward(step, cache, nullptr), FailsWith("the step wants logits and has nowhere to put them"));
}

}  // namespace
}  // namespace tpustack::inferd::decoder
