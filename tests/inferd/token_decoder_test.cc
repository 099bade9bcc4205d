#include "inferd/tokenizer/token_decoder.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace tpustack::inferd::tokenizer {
namespace {

const Tokenizer& bert_uncased() {
  static const Tokenizer tokenizer = [] {
    auto loaded = Tokenizer::from_vocab_txt(
        std::filesystem::path(TPUSTACK_SOURCE_DIR) / "tests/inferd/data/bert-uncased-vocab.txt", true);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return std::move(loaded).value();
  }();
  return tokenizer;
}

std::string decoded(const std::vector<TokenId>& ids, bool skip_special_tokens) {
  auto text = decode_tokens(bert_uncased(), ids, skip_special_tokens);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? *text : "";
}

// What Hugging Face's tokenizers answer for BERT: continuations glued, spaces before punctuation taken out (per
// token, so the "' s" of "it's" keeps its spaces as tokenizers' decoder does).
TEST(TokenDecoder, JoinsPiecesAndCleansUpAsHuggingFaceDoes) {
  auto encoded = bert_uncased().encode("The tokenizer, decoding it's words!");
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(decoded(encoded->ids, true), "the tokenizer, decoding it ' s words!");
  EXPECT_EQ(decoded(encoded->ids, false), "[CLS] the tokenizer, decoding it ' s words! [SEP]");
}

TEST(TokenDecoder, AContinuationFirstKeepsItsPrefix) {
  const TokenId ing = bert_uncased().model().find("##ing");
  ASSERT_GE(ing, 0);
  EXPECT_EQ(decoded({ing, ing}, true), "##inging");
}

TEST(TokenDecoder, AnIdOutsideTheVocabularyIsAnError) {
  auto text = decode_tokens(bert_uncased(), {101, 999999}, true);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("999999"), std::string::npos) << text.error().message;
}

}  // namespace
}  // namespace tpustack::inferd::tokenizer
