#include "inferd/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace inferd::tokenizer {
namespace {

const std::filesystem::path data_dir = std::filesystem::path(TPUSTACK_SOURCE_DIR) / "tests/inferd/data";

const Tokenizer& bert_uncased() {
  static const Tokenizer tokenizer = [] {
    auto loaded = Tokenizer::from_vocab_txt(data_dir / "bert-uncased-vocab.txt", true);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return std::move(loaded).value();
  }();
  return tokenizer;
}

nlohmann::json golden() {
  std::ifstream in(data_dir / "bert-uncased-golden.json");
  return nlohmann::json::parse(in);
}

std::vector<TokenId> pieces(std::string_view text) {
  auto ids = bert_uncased().pieces(text);
  EXPECT_TRUE(ids.ok()) << text;
  return ids.ok() ? *ids : std::vector<TokenId>{};
}

TEST(BertUncasedTokenizer, MatchesTransformersJsOnAccentsCjkEmojiControlsPunctuationAndLongWords) {
  nlohmann::json expected = golden();
  ASSERT_GT(expected["single"].size(), 20u);
  for (const auto& item : expected["single"]) {
    std::string text = item["text"];
    auto encoding = bert_uncased().encode(text);
    ASSERT_TRUE(encoding.ok()) << text;
    EXPECT_EQ(encoding->ids, item["ids"].get<std::vector<TokenId>>()) << text;
    EXPECT_EQ(encoding->type_ids, std::vector<TokenId>(encoding->ids.size(), 0)) << text;
  }
}

TEST(BertUncasedTokenizer, PairsGetSecondSegmentTypeIdsAsTransformersJs) {
  for (const auto& item : golden()["pair"]) {
    auto encoding = bert_uncased().encode_pair(item["first"].get<std::string>(), item["second"].get<std::string>());
    ASSERT_TRUE(encoding.ok());
    EXPECT_EQ(encoding->ids, item["ids"].get<std::vector<TokenId>>());
    EXPECT_EQ(encoding->type_ids, item["type_ids"].get<std::vector<TokenId>>());
  }
}

// The four places where Hugging Face's Rust tokenizers (which we follow) and transformers.js differ.
TEST(BertUncasedTokenizer, TruncationKeepsClsThen510PiecesThenSep) {
  std::string text;
  for (int i = 0; i < 600; ++i) text += "hello ";
  auto encoding = bert_uncased().encode(text, 512);
  ASSERT_TRUE(encoding.ok());
  ASSERT_EQ(encoding->ids.size(), 512u);
  EXPECT_EQ(encoding->ids.front(), 101);
  EXPECT_EQ(encoding->ids.back(), 102);
  EXPECT_EQ(encoding->ids[510], 7592);
}

TEST(BertUncasedTokenizer, LowerCasesCharacterByCharacterSoFinalSigmaStaysSigma) {
  EXPECT_EQ(pieces("ΟΔΟΣ"), pieces("οδοσ"));
  EXPECT_NE(pieces("οδοσ"), pieces("οδος"));
}

TEST(BertUncasedTokenizer, SpacesOutCjkIdeographsOutsideTheBasicPlane) {
  EXPECT_EQ(pieces("\U00020000\U00020001").size(), 2u);
  EXPECT_EQ(pieces("a\U00020000b").size(), 3u);
}

TEST(BertUncasedTokenizer, CleanUpDropsUnassignedCodePoints) { EXPECT_EQ(pieces("ab\u0378cd"), pieces("abcd")); }

TEST(BertUncasedTokenizer, DottedCapitalILowerCasesToPlainI) { EXPECT_EQ(pieces("İstanbul"), pieces("istanbul")); }

TEST(BertUncasedTokenizer, InvalidUtf8IsAnErrorNamingTheByte) {
  for (std::string bad : {std::string("ok \xff"), std::string("\xc3"), std::string("\xed\xa0\x80"),
                          std::string("\xc0\xaf"), std::string("abc\xf4\x90\x80\x80")}) {
    auto encoding = bert_uncased().encode(bad);
    ASSERT_FALSE(encoding.ok());
    EXPECT_NE(encoding.error().message.find("UTF-8"), std::string::npos);
  }
}

TEST(BertUncasedTokenizer, PairTruncationShortensTheLongerSequenceFirst) {
  auto encoding = bert_uncased().encode_pair("a b c", "one two three four five six seven eight nine ten", 10);
  ASSERT_TRUE(encoding.ok());
  ASSERT_EQ(encoding->ids.size(), 10u);
  // [CLS] a b c [SEP] one two three four [SEP]
  EXPECT_EQ(std::count(encoding->type_ids.begin(), encoding->type_ids.end(), 1), 5);
  EXPECT_EQ(encoding->ids[4], 102);
}

class TokenizerJsonFile : public ::testing::Test {
 protected:
  std::filesystem::path write(const nlohmann::json& doc) {
    auto path = std::filesystem::path(TPUSTACK_BINARY_DIR) / "inferd_tokenizer_test.json";
    std::ofstream(path) << doc.dump();
    return path;
  }
  nlohmann::json small_tokenizer() {
    return nlohmann::json::parse(R"({
      "truncation": {"max_length": 5, "strategy": "LongestFirst", "direction": "Right"},
      "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                     "strip_accents": null, "lowercase": false},
      "pre_tokenizer": {"type": "BertPreTokenizer"},
      "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "</s>", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                 {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                           "</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
      "model": {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100,
                "vocab": {"<s>": 0, "</s>": 1, "<unk>": 2, "Hello": 3, "hello": 4, "wor": 5, "##ld": 6, "!": 7}}
    })");
  }
};

TEST_F(TokenizerJsonFile, AppliesItsTemplateCaseHandlingAndTruncation) {
  auto tokenizer = Tokenizer::from_tokenizer_json(write(small_tokenizer()));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  auto encoding = tokenizer->encode("Hello world! hello");
  ASSERT_TRUE(encoding.ok());
  EXPECT_EQ(encoding->ids, (std::vector<TokenId>{0, 3, 5, 6, 1}));
  auto pair = tokenizer->encode_pair("hello", "Hello", 100);
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->ids, (std::vector<TokenId>{4, 1, 3}));
  EXPECT_EQ(pair->type_ids, (std::vector<TokenId>{0, 0, 1}));
}

TEST_F(TokenizerJsonFile, MatchesAddedTokensInTheRawTextCaseSensitively) {
  nlohmann::json doc = small_tokenizer();
  doc["added_tokens"] = nlohmann::json::parse(R"([{"id": 1, "content": "</s>", "normalized": false}])");
  auto tokenizer = Tokenizer::from_tokenizer_json(write(doc));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  auto pieces = tokenizer->pieces("hello</s>Hello </S>");
  ASSERT_TRUE(pieces.ok());
  EXPECT_EQ(*pieces, (std::vector<TokenId>{4, 1, 3, 2, 2, 2, 2}));  // </S> is not the token: < / S > are unknown
}

TEST_F(TokenizerJsonFile, RejectsOtherModelsNamingTheFile) {
  nlohmann::json doc = small_tokenizer();
  doc["model"]["type"] = "BPE";
  auto tokenizer = Tokenizer::from_tokenizer_json(write(doc));
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.error().message.find("inferd_tokenizer_test.json"), std::string::npos);
  EXPECT_NE(tokenizer.error().message.find("WordPiece"), std::string::npos);
}

TEST(TokenizerFiles, MissingVocabularyIsAnErrorNamingThePath) {
  auto tokenizer = Tokenizer::from_vocab_txt("/nonexistent/vocab.txt", true);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.error().message.find("/nonexistent/vocab.txt"), std::string::npos);
}

}  // namespace
}  // namespace inferd::tokenizer
