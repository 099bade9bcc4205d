#include "inferd/tokenizer/bpe_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "inferd/tokenizer/byte_level.h"
#include "inferd/tokenizer/split_pattern.h"
#include "inferd/tokenizer/streaming_detokenizer.h"
#include "inferd/tokenizer/tokenizer_json.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view llama3_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

json added(const std::string& content, int id, bool special = true) {
  return {{"content", content}, {"id", id},        {"special", special},  {"normalized", false},
          {"lstrip", false},    {"rstrip", false}, {"single_word", false}};
}

// A byte-level tokenizer as Llama 3's: the Llama 3 regex, then GPT-2's byte-to-unicode table.
json byte_level_doc() {
  json vocab = {{"h", 0},  {"e", 1},  {"l", 2},    {"o", 3},      {"\u0120", 4},   {"w", 5},  {"r", 6},  {"d", 7},
                {"he", 8}, {"ll", 9}, {"llo", 10}, {"hello", 11}, {"\u0120w", 12}, {"!", 13}, {"'", 14}, {"s", 15}};
  // An emoji's four bytes as two tokens, so that one token leaves half a character.
  vocab[bytes_to_byte_level("\xF0\x9F")] = 16;
  vocab[bytes_to_byte_level("\x98\x82")] = 17;
  return {
      {"model",
       {{"type", "BPE"},
        {"vocab", vocab},
        {"merges", {"h e", "l l", json::array({"ll", "o"}), "he llo", "\u0120 w"}},
        {"ignore_merges", false}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", llama3_pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
      {"post_processor", {{"type", "ByteLevel"}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"added_tokens", {added("<|end|>", 20)}}};
}

// A SentencePiece-style tokenizer as Mistral's and TinyLlama's: "▁" for spaces, byte fallback, BOS by template.
json sentencepiece_doc() {
  json vocab = {{"<unk>", 0},  {"<s>", 1}, {"</s>", 2}, {"<0xC3>", 3},  {"<0xA9>", 4},
                {"\u2581", 5}, {"h", 6},   {"i", 7},    {"\u2581h", 8}, {"\u2581hi", 9}};
  return {{"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", {"\u2581 h", "\u2581h i"}},
            {"unk_token", "<unk>"},
            {"byte_fallback", true},
            {"fuse_unk", true}}},
          {"normalizer",
           {{"type", "Sequence"},
            {"normalizers",
             {{{"type", "Prepend"}, {"prepend", "\u2581"}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}}},
          {"pre_tokenizer", nullptr},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single",
             {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
            {"pair", json::array()},
            {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
          {"decoder",
           {{"type", "Sequence"},
            {"decoders",
             {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
              {{"type", "ByteFallback"}},
              {{"type", "Fuse"}},
              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
          {"added_tokens", {added("<unk>", 0), added("<s>", 1), added("</s>", 2)}}};
}

BpeTokenizer parse(const json& doc) {
  auto tokenizer = parse_any_tokenizer_json(doc.dump(), "tokenizer.json");
  if (!tokenizer) throw std::runtime_error(tokenizer.error().message);
  return std::get<BpeTokenizer>(std::move(tokenizer).value());
}

std::vector<TokenId> ids(const BpeTokenizer& tokenizer, std::string_view text, bool add_special_tokens = false) {
  return tokenizer.encode(text, add_special_tokens).value();
}

std::string refusal(const json& doc) {
  auto tokenizer = parse_any_tokenizer_json(doc.dump(), "models/m/tokenizer.json");
  return tokenizer.ok() ? "accepted" : tokenizer.error().message;
}

std::vector<std::string> split(std::string_view pattern, std::string_view text) {
  const auto code_points = decode_utf8(text).value();
  std::vector<std::string> out;
  for (std::u32string_view piece : SplitPattern::parse(pattern).value().split(code_points)) {
    out.push_back(encode_utf8(piece));
  }
  return out;
}

TEST(SplitPattern, CutsAsLlama3sRegexDoes) {
  EXPECT_THAT(split(llama3_pattern, "Hello world's  123456\n\n  x!!\nWE'LL"),
              ElementsAre("Hello", " world", "'s", " ", " ", "123", "456", "\n\n", " ", " x", "!!\n", "WE", "'LL"));
  EXPECT_THAT(split(llama3_pattern, "(naïve)\t\u4f60\u597d  "),
              ElementsAre("(na\u00efve", ")", "\t\u4f60\u597d", "  "));
}

TEST(SplitPattern, QwensPatternTakesDigitsOneByOneAndGpt2sKeepsContractionsCaseSensitive) {
  const std::string qwen =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  EXPECT_THAT(split(qwen, "x 2024"), ElementsAre("x", " ", "2", "0", "2", "4"));
  const auto gpt2 = SplitPattern::gpt2().split(U"I'M ok's 42");
  std::vector<std::string> pieces;
  for (auto piece : gpt2) pieces.push_back(encode_utf8(piece));
  EXPECT_THAT(pieces, ElementsAre("I", "'", "M", " ok", "'s", " 42"));
}

TEST(SplitPattern, RefusesAPatternItDoesNotImplementNamingFileAndPattern) {
  json doc = byte_level_doc();
  doc["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = R"(\d+|\s+)";
  const std::string message = refusal(doc);
  EXPECT_THAT(message, HasSubstr("models/m/tokenizer.json"));
  EXPECT_THAT(message, HasSubstr(R"(\d+|\s+)"));
}

TEST(ByteLevelBpe, MergesByRankAndMarksSpacesAsGWithDot) {
  const BpeTokenizer tokenizer = parse(byte_level_doc());
  // "hello" merges all the way to one token; " world" keeps only the rank-4 "Ġw" merge.
  EXPECT_THAT(ids(tokenizer, "hello world"), ElementsAre(11, 12, 3, 6, 2, 7));
  EXPECT_EQ(tokenizer.decode(ids(tokenizer, "hello world"), false).value(), "hello world");
}

TEST(ByteLevelBpe, Gpt2sRegexAndSmolLmsDigitsSplitWordsWhereTheirFilesSay) {
  json doc = byte_level_doc();
  doc["model"]["vocab"]["1"] = 50;
  doc["model"]["vocab"]["2"] = 51;
  doc["model"]["vocab"]["12"] = 52;
  doc["model"]["merges"].push_back("1 2");
  doc["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  // The prefix space makes the first word "Ġhello", which no merge joins to one token.
  EXPECT_THAT(ids(parse(doc), "hello world 12"), ElementsAre(4, 11, 12, 3, 6, 2, 7, 4, 52));
  doc["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Digits"}, {"individual_digits", true}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}}}};
  EXPECT_THAT(ids(parse(doc), "hello 12"), ElementsAre(11, 4, 50, 51));
  doc["pre_tokenizer"]["pretokenizers"][0]["individual_digits"] = false;
  EXPECT_THAT(ids(parse(doc), "hello 12"), ElementsAre(11, 4, 52));
}

TEST(ByteLevelBpe, TheLowestRankedPairMergesFirst) {
  json doc = byte_level_doc();
  doc["model"]["vocab"]["ab"] = 30;
  doc["model"]["vocab"]["bc"] = 31;
  doc["model"]["vocab"]["a"] = 32;
  doc["model"]["vocab"]["b"] = 33;
  doc["model"]["vocab"]["c"] = 34;
  doc["model"]["merges"] = {"b c", "a b"};
  EXPECT_THAT(ids(parse(doc), "abc"), ElementsAre(32, 31));
  doc["model"]["merges"] = {"a b", "b c"};
  EXPECT_THAT(ids(parse(doc), "abc"), ElementsAre(30, 34));
}

TEST(ByteLevelBpe, IgnoreMergesTakesAWholeWordTheVocabularyHolds) {
  json doc = byte_level_doc();
  doc["model"]["vocab"]["hel"] = 40;
  doc["model"]["vocab"]["hell"] = 41;
  doc["model"]["merges"] = {"h e", "he l"};
  EXPECT_THAT(ids(parse(doc), "hell"), ElementsAre(40, 2));
  doc["model"]["ignore_merges"] = true;
  EXPECT_THAT(ids(parse(doc), "hell"), ElementsAre(41));
}

TEST(ByteLevelBpe, AddedTokensAreNeverSplitAndSpecialOnesSkippedOnDecode) {
  const BpeTokenizer tokenizer = parse(byte_level_doc());
  EXPECT_THAT(ids(tokenizer, "hello<|end|>hello"), ElementsAre(11, 20, 11));
  EXPECT_EQ(tokenizer.decode({11, 20, 11}, false).value(), "hello<|end|>hello");
  EXPECT_EQ(tokenizer.decode({11, 20, 11}, true).value(), "hellohello");
  EXPECT_FALSE(tokenizer.decode({11, 99}, true).ok());
}

TEST(ByteLevelBpe, LstripTakesTheSpaceBeforeAndSingleWordNeedsAWordOfItsOwn) {
  json doc = byte_level_doc();
  json mask = added("<mask>", 21);
  mask["lstrip"] = true;
  json word = added("ll", 22, false);
  word["single_word"] = true;
  doc["added_tokens"].push_back(mask);
  doc["added_tokens"].push_back(word);
  const BpeTokenizer tokenizer = parse(doc);
  EXPECT_THAT(ids(tokenizer, "hello <mask>"), ElementsAre(11, 21));
  EXPECT_THAT(ids(tokenizer, "hello ll"), ElementsAre(11, 4, 22));
}

TEST(ByteLevelBpe, StreamingHoldsBackHalfACharacterUntilItsLastByte) {
  const BpeTokenizer tokenizer = parse(byte_level_doc());
  StreamingDetokenizer stream(tokenizer, true);
  EXPECT_EQ(stream.push(11).value(), "hello");
  EXPECT_EQ(stream.push(16).value(), "");
  EXPECT_EQ(stream.push(17).value(), "\U0001F602");
  EXPECT_EQ(stream.push(20).value(), "");
  EXPECT_EQ(stream.finish(), "");
  StreamingDetokenizer cut_off(tokenizer, false);
  EXPECT_EQ(cut_off.push(16).value(), "");
  EXPECT_EQ(cut_off.finish(), "\uFFFD\uFFFD");
  EXPECT_EQ(tokenizer.decode({16}, false).value(), "\uFFFD\uFFFD");
  EXPECT_FALSE(cut_off.push(99).ok());
}

TEST(ByteLevelBpe, ThreadsEncodingAtOnceGetWhatOneThreadGets) {
  const BpeTokenizer tokenizer = parse(byte_level_doc());
  const std::vector<std::string> texts = {"hello world", "hello<|end|>hello", "he'll  owl\n\nworld!", "hello hello"};
  std::vector<std::vector<TokenId>> alone;
  for (const std::string& text : texts) alone.push_back(ids(tokenizer, text));
  // A fresh tokenizer, so that the threads fill its word cache while they read it.
  const BpeTokenizer shared = parse(byte_level_doc());
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const size_t i = static_cast<size_t>(t + round) % texts.size();
        if (shared.encode(texts[i], false).value() != alone[i]) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(SentencePieceBpe, PrependsMetaspaceAddsBosAndStripsTheLeadingSpaceOnDecode) {
  const BpeTokenizer tokenizer = parse(sentencepiece_doc());
  EXPECT_THAT(ids(tokenizer, "hi hi", true), ElementsAre(1, 9, 9));
  EXPECT_THAT(ids(tokenizer, "hi hi"), ElementsAre(9, 9));
  EXPECT_THAT(ids(tokenizer, ""), ElementsAre());
  EXPECT_EQ(tokenizer.decode({1, 9, 9}, true).value(), "hi hi");
  EXPECT_EQ(tokenizer.decode({1, 9, 9}, false).value(), "<s> hi hi");
}

TEST(SentencePieceBpe, MissingCharactersFallBackToBytesOrOneFusedUnknown) {
  const BpeTokenizer tokenizer = parse(sentencepiece_doc());
  EXPECT_THAT(ids(tokenizer, "hi\u00e9"), ElementsAre(9, 3, 4));
  EXPECT_EQ(tokenizer.decode({9, 3, 4}, true).value(), "hi\u00e9");
  // "€" has bytes the vocabulary lacks: unknown, and two of them fuse into one.
  EXPECT_THAT(ids(tokenizer, "\u20ac\u20ac"), ElementsAre(5, 0));
}

TEST(SentencePieceBpe, EachTextBetweenAddedTokensGetsItsOwnMetaspace) {
  const BpeTokenizer tokenizer = parse(sentencepiece_doc());
  EXPECT_THAT(ids(tokenizer, "hi</s>hi"), ElementsAre(9, 2, 9));
  EXPECT_EQ(tokenizer.decode({9, 2, 9}, true).value(), "hi hi");
}

TEST(SentencePieceBpe, StreamingDropsOnlyTheTextsFirstSpaceAndWaitsForByteFallbackCharacters) {
  const BpeTokenizer tokenizer = parse(sentencepiece_doc());
  StreamingDetokenizer stream(tokenizer, true);
  EXPECT_EQ(stream.push(1).value(), "");
  EXPECT_EQ(stream.push(9).value(), "hi");
  EXPECT_EQ(stream.push(3).value(), "");
  EXPECT_EQ(stream.push(4).value(), "\u00e9");
  EXPECT_EQ(stream.push(9).value(), " hi");
  EXPECT_EQ(stream.finish(), "");
  StreamingDetokenizer after_prompt(tokenizer, true, true);
  EXPECT_EQ(after_prompt.push(9).value(), " hi");
}

TEST(SentencePieceBpe, MetaspacePreTokenizerWithPrependSchemeFirstMarksOnlyTheTextsStart) {
  json doc = sentencepiece_doc();
  doc["normalizer"] = nullptr;
  doc["pre_tokenizer"] = {
      {"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
  doc["decoder"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"}, {"split", false}};
  const BpeTokenizer tokenizer = parse(doc);
  EXPECT_THAT(ids(tokenizer, "hi hi"), ElementsAre(9, 9));
  EXPECT_THAT(ids(tokenizer, "hi</s>hi"), ElementsAre(9, 2, 6, 7));
  EXPECT_EQ(tokenizer.decode({9, 2, 6, 7}, true).value(), "hihi");
  EXPECT_EQ(tokenizer.decode({9, 9}, true).value(), "hi hi");
}

TEST(TokenizerJsonModels, PicksTheModelByItsType) {
  auto bpe = parse_any_tokenizer_json(sentencepiece_doc().dump(), "tokenizer.json");
  ASSERT_TRUE(bpe.ok()) << bpe.error().message;
  EXPECT_TRUE(std::holds_alternative<BpeTokenizer>(*bpe));
  auto wordpiece = parse_any_tokenizer_json(R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "[CLS]": 1,
      "[SEP]": 2}}})",
                                            "tokenizer.json");
  ASSERT_TRUE(wordpiece.ok()) << wordpiece.error().message;
  EXPECT_TRUE(std::holds_alternative<Tokenizer>(*wordpiece));
}

TEST(TokenizerJsonModels, RefusesMergesOfTokensTheVocabularyLacksAndUnsupportedParts) {
  json doc = byte_level_doc();
  doc["model"]["merges"].push_back("x y");
  EXPECT_THAT(refusal(doc), HasSubstr("model.merges[5] \"x y\" joins tokens the vocabulary lacks"));
  doc = byte_level_doc();
  doc["decoder"] = {{"type", "CTC"}};
  EXPECT_THAT(refusal(doc), HasSubstr("models/m/tokenizer.json: decoder type 'CTC' is not supported"));
  doc = byte_level_doc();
  doc["normalizer"] = {{"type", "Precompiled"}};
  EXPECT_THAT(refusal(doc), HasSubstr("normalizer type 'Precompiled' is not supported"));
  doc = byte_level_doc();
  doc["model"]["vocab"]["h"] = "0";
  EXPECT_THAT(refusal(doc), HasSubstr("models/m/tokenizer.json: model.vocab ids must be an integer"));
}

TEST(TokenizerJsonModels, InvalidUtf8IsAnError) { EXPECT_FALSE(parse(byte_level_doc()).encode("a\xC3(", false).ok()); }

}  // namespace
}  // namespace tpustack::inferd::tokenizer
