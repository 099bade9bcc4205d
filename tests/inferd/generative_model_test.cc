// A decoder directory loaded for serving (inferd/generation/generative_model.h) and what tokenizer_config.json
// tells it (inferd/model/tokenizer_config.h): prompts as transformers' apply_chat_template builds them, the
// context a request may use, and clear errors for what cannot be served.
#include "inferd/generation/generative_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/model/tokenizer_config.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::generation {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using tpustack::testing::value_of;

TEST(TokenizerConfig, TakesTheTemplateAndTheTokensAsTransformersDoes) {
  const auto config = value_of(model::parse_tokenizer_config(
      R"({"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null,
          "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})",
      "tokenizer_config.json"));
  EXPECT_EQ(config.chat_template, "D");
  EXPECT_EQ(config.special_tokens, (std::map<std::string, std::string>{{"bos_token", "<s>"}, {"eos_token", "</s>"}}));
  EXPECT_FALSE(value_of(model::parse_tokenizer_config("{}", "t")).chat_template.has_value());
}

TEST(TokenizerConfig, WhatItCannotReadIsAnErrorNamingTheFileAndField) {
  auto no_default = model::parse_tokenizer_config(R"({"chat_template": [{"name": "x", "template": "T"}]})", "tc.json");
  ASSERT_FALSE(no_default);
  EXPECT_THAT(no_default.error().message, HasSubstr("tc.json: chat_template lists templates but none named"));
  auto bad_token = model::parse_tokenizer_config(R"({"eos_token": 3})", "tc.json");
  ASSERT_FALSE(bad_token);
  EXPECT_THAT(bad_token.error().message, HasSubstr("tc.json: eos_token"));
  EXPECT_FALSE(model::parse_tokenizer_config("[", "tc.json"));
}

TEST(TokenizerConfig, LlamaAndGemmaClassesRebuildTheTemplateFromTheirFlags) {
  const auto llama = value_of(model::parse_tokenizer_config(
      R"({"tokenizer_class": "LlamaTokenizerFast", "add_eos_token": true})", "tokenizer_config.json"));
  ASSERT_TRUE(llama.rebuilt_template.has_value());
  EXPECT_TRUE(llama.rebuilt_template->add_bos);  // transformers' default
  EXPECT_TRUE(llama.rebuilt_template->add_eos);
  EXPECT_TRUE(
      value_of(model::parse_tokenizer_config(R"({"tokenizer_class": "GemmaTokenizer"})", "t")).rebuilt_template);
  // Llama 3 and Qwen name PreTrainedTokenizerFast / Qwen2Tokenizer: tokenizer.json's post-processor holds.
  EXPECT_FALSE(value_of(model::parse_tokenizer_config(
                            R"({"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": false})", "t"))
                   .rebuilt_template);
  auto bad = model::parse_tokenizer_config(R"({"tokenizer_class": "LlamaTokenizer", "add_bos_token": 1})", "tc.json");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("tc.json: add_bos_token is not true or false"));
}

class GenerativeModelTest : public ::testing::Test {
 protected:
  void SetUp() override { INFERD_REQUIRE_TINY_DECODERS(); }
  static GenerativeOptions small() {
    GenerativeOptions options;
    options.kv_cache_bytes = 4 << 20;
    return options;
  }
  // A copy of the tiny Llama with tokenizer_config.json replaced (or removed with "").
  static fs::path with_tokenizer_config(const std::string& text) {
    const fs::path copy = tpustack::testing::make_temp_dir("generative");
    fs::copy(inferd::testing::tiny_decoder("llama"), copy, fs::copy_options::recursive);
    fs::remove(copy / "tokenizer_config.json");
    if (!text.empty()) std::ofstream(copy / "tokenizer_config.json") << text;
    return copy;
  }
};

TEST_F(GenerativeModelTest, AChatPromptIsTheRenderedTemplateTokenizedWithoutAddedTokens) {
  auto model = value_of(GenerativeModel::load(inferd::testing::tiny_decoder("llama"), small()));
  nlohmann::ordered_json variables = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  const auto ids = value_of(model->chat_prompt(variables));
  // "<s><|eot|>user\nhi<|eot|>assistant\n": <s> is 1 and <|eot|> 3 (the template's bos_token is the AddedToken's
  // content); every other byte is its own id.
  std::vector<int32_t> expected = {1, 3, 'u', 's', 'e', 'r', '\n', 'h', 'i', 3};
  for (char c : std::string("assistant\n")) expected.push_back(c);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(value_of(model->text_prompt("hi")), (std::vector<int32_t>{'h', 'i'}));
}

TEST_F(GenerativeModelTest, MaxTokensIsWhatTheContextHasLeftUnlessAsked) {
  auto model = value_of(GenerativeModel::load(inferd::testing::tiny_decoder("llama"), small()));
  const size_t context = model->context_length();
  ASSERT_GT(context, 20u);
  EXPECT_EQ(value_of(model->max_tokens_for(std::nullopt, 10, true)), context - 10);
  EXPECT_EQ(value_of(model->max_tokens_for(std::nullopt, 10, false)), 16u);
  EXPECT_EQ(value_of(model->max_tokens_for(5, 10, false)), 5u);
  auto over = model->max_tokens_for(context, 10, false);
  ASSERT_FALSE(over);
  EXPECT_THAT(over.error().message, HasSubstr("maximum context length is " + std::to_string(context)));
  // The defaults come from generation_config.json, which samples (temperature 0.7, top_p 0.9, top_k 40).
  EXPECT_FLOAT_EQ(model->defaults().temperature, 0.7f);
  EXPECT_EQ(model->defaults().top_k, 40);
}

TEST_F(GenerativeModelTest, WithoutATemplateChatIsRefusedAndABrokenTemplateFailsTheLoad) {
  auto plain = value_of(GenerativeModel::load(with_tokenizer_config(""), small()));
  auto refused = plain->chat_prompt({{"messages", nlohmann::ordered_json::array()}});
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("no chat template"));
  auto broken =
      GenerativeModel::load(with_tokenizer_config(R"({"chat_template": "{% for m in messages %}"})"), small());
  ASSERT_FALSE(broken);
  EXPECT_THAT(broken.error().message, HasSubstr("tokenizer_config.json: chat_template"));
  GenerativeOptions tiny_cache;
  tiny_cache.kv_cache_bytes = 16;
  auto no_room = GenerativeModel::load(inferd::testing::tiny_decoder("llama"), tiny_cache);
  ASSERT_FALSE(no_room);
  EXPECT_THAT(no_room.error().message, HasSubstr("KV cache"));
}

TEST_F(GenerativeModelTest, ALlamaTokenizerAddsTheBosAndEosItsConfigAsksFor) {
  // The tiny Llama's tokenizer.json adds nothing; LlamaTokenizerFast adds <s> (1) by default, </s> (2) when asked.
  const std::string tokens = R"("bos_token": "<s>", "eos_token": "</s>", "tokenizer_class": "LlamaTokenizerFast")";
  auto with_bos = value_of(GenerativeModel::load(with_tokenizer_config("{" + tokens + "}"), small()));
  EXPECT_EQ(value_of(with_bos->text_prompt("hi")), (std::vector<int32_t>{1, 'h', 'i'}));
  auto with_eos = value_of(GenerativeModel::load(
      with_tokenizer_config("{" + tokens + R"(, "add_bos_token": false, "add_eos_token": true})"), small()));
  EXPECT_EQ(value_of(with_eos->text_prompt("hi")), (std::vector<int32_t>{'h', 'i', 2}));
  auto no_bos = GenerativeModel::load(with_tokenizer_config(R"({"tokenizer_class": "LlamaTokenizer"})"), small());
  ASSERT_FALSE(no_bos);
  EXPECT_THAT(no_bos.error().message, HasSubstr("add_bos_token is set but bos_token is not"));
}

}  // namespace
}  // namespace tpustack::inferd::generation
