#include "inferd/tokenizer/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "inferd/tokenizer/tokenizer_json.h"

namespace tpustack::inferd::tokenizer {
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

// Loaded once and kept: a range-for over golden()["pair"] would otherwise walk a destroyed temporary.
const nlohmann::json& golden() {
  static const nlohmann::json loaded = [] {
    std::ifstream in(data_dir / "bert-uncased-golden.json");
    return nlohmann::json::parse(in);
  }();
  return loaded;
}

std::vector<TokenId> pieces(std::string_view text) {
  auto ids = bert_uncased().pieces(text);
  EXPECT_TRUE(ids.ok()) << text;
  return ids.ok() ? *ids : std::vector<TokenId>{};
}

TEST(BertUncasedTokenizer, MatchesTransformersJsOnAccentsCjkEmojiControlsPunctuationAndLongWords) {
  const nlohmann::json& expected = golden();
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

// A token as TEI's /tokenize shows it: a special token by its vocabulary text, any other by the original bytes
// [start, stop) it was cut from.
struct ShownToken {
  TokenId id;
  std::string text;
  bool special;
  size_t start;
  size_t stop;
  bool operator==(const ShownToken&) const = default;
};

void PrintTo(const ShownToken& t, std::ostream* out) {
  *out << "{" << t.id << " \"" << t.text << "\" " << (t.special ? "special" : "") << " [" << t.start << ", " << t.stop
       << ")}";
}

std::vector<ShownToken> shown(const Tokenizer& tokenizer, std::string_view text, bool add_special_tokens = true) {
  auto encoding = tokenizer.encode_with_offsets(text, add_special_tokens);
  EXPECT_TRUE(encoding.ok()) << text;
  if (!encoding.ok()) return {};
  const std::vector<TokenId>& ids = encoding->encoding.ids;
  EXPECT_EQ(encoding->offsets.size(), ids.size());
  std::vector<ShownToken> tokens;
  for (size_t i = 0; i < ids.size(); ++i) {
    const TokenOffsets& at = encoding->offsets[i];
    std::string token_text = at.special ? std::string(tokenizer.model().token(ids[i]))
                                        : std::string(text.substr(at.start, at.stop - at.start));
    tokens.push_back({ids[i], token_text, at.special, at.start, at.stop});
  }
  return tokens;
}

std::vector<ShownToken> shown(std::string_view text, bool add_special_tokens = true) {
  return shown(bert_uncased(), text, add_special_tokens);
}

const ShownToken cls{101, "[CLS]", true, 0, 0};
const ShownToken sep{102, "[SEP]", true, 0, 0};

TEST(TokenOffsets, PlainWordsGetTheirByteSpansAndTheTemplatesTokensNone) {
  EXPECT_EQ(shown("hello world"),
            (std::vector<ShownToken>{cls, {7592, "hello", false, 0, 5}, {2088, "world", false, 6, 11}, sep}));
}

TEST(TokenOffsets, AccentedWordsShowTheirOriginalBytesNotTheNormalisedOnes) {
  EXPECT_EQ(shown("Héllo wörld!"),
            (std::vector<ShownToken>{
                cls, {7592, "Héllo", false, 0, 6}, {2088, "wörld", false, 7, 13}, {999, "!", false, 13, 14}, sep}));
  EXPECT_EQ(shown("Ünïcödé", false), (std::vector<ShownToken>{{27260, "Ünïcödé", false, 0, 11}}));
  // U+0130 lower-cases to two characters, both from the one original.
  EXPECT_EQ(shown("İstanbul", false), (std::vector<ShownToken>{{9960, "İstanbul", false, 0, 9}}));
}

TEST(TokenOffsets, EachCjkIdeographIsATokenOfItsOwnBytes) {
  EXPECT_EQ(shown("日本語", false),
            (std::vector<ShownToken>{{1864, "日", false, 0, 3}, {1876, "本", false, 3, 6}, {1950, "語", false, 6, 9}}));
  // Outside the basic plane an ideograph is four bytes; this one is not in the vocabulary.
  EXPECT_EQ(
      shown("a\U00020000b", false),
      (std::vector<ShownToken>{{1037, "a", false, 0, 1}, {100, "\U00020000", false, 1, 5}, {1038, "b", false, 5, 6}}));
  // で loses its voicing mark to accent stripping: the piece is て, the text still で.
  EXPECT_EQ(shown("です", false), (std::vector<ShownToken>{{1665, "で", false, 0, 3}, {30184, "す", false, 3, 6}}));
}

TEST(TokenOffsets, AnUnknownWordSpansTheWholeWord) {
  EXPECT_EQ(shown("love 🤗", false),
            (std::vector<ShownToken>{{2293, "love", false, 0, 4}, {100, "🤗", false, 5, 9}}));
  EXPECT_EQ(shown("hi🤗", false), (std::vector<ShownToken>{{100, "hi🤗", false, 0, 6}}));
}

TEST(TokenOffsets, EveryPunctuationCharacterOfARunIsItsOwnToken) {
  EXPECT_EQ(shown("wait...?!", false), (std::vector<ShownToken>{{3524, "wait", false, 0, 4},
                                                                {1012, ".", false, 4, 5},
                                                                {1012, ".", false, 5, 6},
                                                                {1012, ".", false, 6, 7},
                                                                {1029, "?", false, 7, 8},
                                                                {999, "!", false, 8, 9}}));
}

TEST(TokenOffsets, ContinuationPiecesShowTheirPartOfTheWordWithoutTheirPrefix) {
  EXPECT_EQ(shown("unbelievably", false), (std::vector<ShownToken>{{4895, "un", false, 0, 2},
                                                                   {8671, "bel", false, 2, 5},
                                                                   {2666, "ie", false, 5, 7},
                                                                   {3567, "va", false, 7, 9},
                                                                   {6321, "bly", false, 9, 12}}));
  EXPECT_EQ(shown("résumés", false),
            (std::vector<ShownToken>{{13746, "résumé", false, 0, 8}, {2015, "s", false, 8, 9}}));
  // A control character dropped inside a word is in no piece's span.
  EXPECT_EQ(shown("new\x01line", false),
            (std::vector<ShownToken>{{2047, "new", false, 0, 3}, {4179, "line", false, 4, 8}}));
}

TEST(TokenOffsets, AddedTokensInTheTextAreOrdinaryTokensWithTheirRawSpan) {
  EXPECT_EQ(shown("a [SEP] b[MASK]"), (std::vector<ShownToken>{cls,
                                                               {1037, "a", false, 0, 1},
                                                               {102, "[SEP]", false, 2, 7},
                                                               {1038, "b", false, 8, 9},
                                                               {103, "[MASK]", false, 9, 15},
                                                               sep}));
}

TEST(TokenOffsets, WithoutSpecialTokensTheTemplateAddsNothing) {
  EXPECT_EQ(shown("hello", false), (std::vector<ShownToken>{{7592, "hello", false, 0, 5}}));
  EXPECT_TRUE(shown("", false).empty());
  EXPECT_EQ(shown(""), (std::vector<ShownToken>{cls, sep}));
}

TEST(TokenOffsets, TokensAreTheEnginesOnesAndBadUtf8IsAnError) {
  for (const auto& item : golden()["single"]) {
    std::string text = item["text"];
    auto with_offsets = bert_uncased().encode_with_offsets(text);
    ASSERT_TRUE(with_offsets.ok()) << text;
    EXPECT_EQ(with_offsets->encoding.ids, item["ids"].get<std::vector<TokenId>>()) << text;
    for (const TokenOffsets& at : with_offsets->offsets) {
      EXPECT_LE(at.start, at.stop);
      EXPECT_LE(at.stop, text.size());
    }
  }
  EXPECT_FALSE(bert_uncased().encode_with_offsets("ok \xff").ok());
}

TEST(Vocabulary, GivesTheTextOfAnIdAndNothingForAnIdItLacks) {
  const WordPiece& vocabulary = bert_uncased().model();
  EXPECT_EQ(vocabulary.token(101), "[CLS]");
  EXPECT_EQ(vocabulary.token(2015), "##s");
  EXPECT_EQ(vocabulary.token(-1), "");
  EXPECT_EQ(vocabulary.token(static_cast<TokenId>(vocabulary.size())), "");
}

class TokenizerJsonFile : public ::testing::Test {
 protected:
  std::filesystem::path write(const nlohmann::json& doc) {
    // One file per test: ctest runs the cases of this suite side by side.
    auto path = std::filesystem::path(TPUSTACK_BINARY_DIR) /
                ("inferd_tokenizer_test-" +
                 std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".json");
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

TEST_F(TokenizerJsonFile, OffsetsAreOfTheWholeTextWithTheTemplatesOwnSpecialTokens) {
  auto tokenizer = Tokenizer::from_tokenizer_json(write(small_tokenizer()));
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  // Not cut to the file's max_length of 5, as TEI's /tokenize does not truncate either.
  EXPECT_EQ(shown(*tokenizer, "Hello world! hello"), (std::vector<ShownToken>{{0, "<s>", true, 0, 0},
                                                                              {3, "Hello", false, 0, 5},
                                                                              {5, "wor", false, 6, 9},
                                                                              {6, "ld", false, 9, 11},
                                                                              {7, "!", false, 11, 12},
                                                                              {4, "hello", false, 13, 18},
                                                                              {1, "</s>", true, 0, 0}}));
}

TEST_F(TokenizerJsonFile, RejectsModelsOfOtherKindsNamingTheFile) {
  nlohmann::json doc = small_tokenizer();
  doc["model"]["type"] = "Unigram";
  auto tokenizer = read_tokenizer_json(write(doc));
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.error().message.find("inferd_tokenizer_test-RejectsModelsOfOtherKindsNamingTheFile.json"),
            std::string::npos);
  EXPECT_NE(tokenizer.error().message.find("model type 'Unigram' is not supported (WordPiece and BPE are)"),
            std::string::npos);
}

TEST_F(TokenizerJsonFile, ValuesOfTheWrongTypeAreErrorsNamingTheFile) {
  const auto rejected = [](const nlohmann::json& doc) {
    auto tokenizer = Tokenizer::parse_tokenizer_json(doc.dump(), "tokenizer.json");
    EXPECT_FALSE(tokenizer.ok()) << doc.dump();
    return tokenizer.ok() ? std::string() : tokenizer.error().message;
  };
  nlohmann::json id_as_text = small_tokenizer();
  id_as_text["model"]["vocab"]["hello"] = "4";
  EXPECT_EQ(rejected(id_as_text), "tokenizer.json: model.vocab ids must be an integer from 0 to 2147483647");
  nlohmann::json huge_id = small_tokenizer();
  huge_id["model"]["vocab"]["hello"] = std::numeric_limits<uint64_t>::max();  // not -1 seen as 64 bits
  EXPECT_EQ(rejected(huge_id), "tokenizer.json: model.vocab ids must be an integer from 0 to 2147483647");
  nlohmann::json float_length = small_tokenizer();
  float_length["truncation"]["max_length"] = 1e300;
  EXPECT_THAT(rejected(float_length), ::testing::HasSubstr("max_length must be an integer"));
  nlohmann::json no_ids = small_tokenizer();
  no_ids["post_processor"]["special_tokens"]["<s>"].erase("ids");
  EXPECT_THAT(rejected(no_ids), ::testing::HasSubstr("'<s>' must map to exactly one id"));
  nlohmann::json bert_processing = small_tokenizer();
  bert_processing["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"</s>", 1}}};
  EXPECT_EQ(rejected(bert_processing), "tokenizer.json: post_processor.cls must be [token, id]");
  nlohmann::json model_type = small_tokenizer();
  model_type["model"]["type"] = 7;
  EXPECT_EQ(rejected(model_type), "tokenizer.json: type must be string, but is number");
}

TEST_F(TokenizerJsonFile, RejectsDocumentsNestedDeeperThanTheJsonLimit) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  auto tokenizer = Tokenizer::parse_tokenizer_json(R"({"post_processor": )" + deep + "}", "tokenizer.json");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.error().message, "tokenizer.json is nested deeper than 64 levels");
}

TEST(TokenizerFiles, MissingVocabularyIsAnErrorNamingThePath) {
  auto tokenizer = Tokenizer::from_vocab_txt("/nonexistent/vocab.txt", true);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_NE(tokenizer.error().message.find("/nonexistent/vocab.txt"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::inferd::tokenizer
