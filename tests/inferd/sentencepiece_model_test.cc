// A SentencePiece tokenizer.model read as transformers' LlamaConverter reads it
// (inferd/tokenizer/sentencepiece_model.h), against libsentencepiece itself: models its C++ trainer makes here, then
// its own ids and text for many lines. The library runs in a process of its own (tools/sentencepiece_reference.cc),
// since its bundled protobuf runtime cannot share one with the system protobuf this test links.
#include "inferd/tokenizer/sentencepiece_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "inferd/generation/generative_model.h"
#include "inferd/tokenizer/bpe_tokenizer.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/child_process.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::tokenizer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using tpustack::testing::value_of;

const fs::path licenses = "/usr/share/common-licenses";

// Runs tools/sentencepiece_reference.cc; its output goes into the failure message.
void run_reference(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SENTENCEPIECE_REFERENCE};
  argv.insert(argv.end(), args.begin(), args.end());
  tpustack::testing::ChildProcess reference(argv);
  const auto status = reference.wait(std::chrono::minutes(2));
  ASSERT_EQ(status, 0) << reference.output();
}

// Trains DIR/NAME.model with spm_train's flags.
fs::path train(const fs::path& dir, const std::string& name, const std::string& inputs, const std::string& flags) {
  run_reference({"train", "--input=" + inputs + " --model_prefix=" + (dir / name).string() +
                              " --num_threads=2 --minloglevel=2 " + flags});
  return dir / (name + ".model");
}

struct Reference {
  int bos_id = -1;
  std::vector<std::vector<TokenId>> ids;
  std::vector<std::string> decoded;
};

// libsentencepiece's EncodeAsIds of each text, and its DecodeIds of those ids.
Reference sentencepiece_encodings(const fs::path& model, const std::vector<std::string>& texts) {
  const fs::path in = model.string() + ".texts.json", out = model.string() + ".reference.json";
  std::ofstream(in) << json(texts).dump();
  run_reference({"encode", model.string(), in.string(), out.string()});
  Reference reference;
  std::ifstream out_file(out);
  const json parsed = json::parse(out_file, nullptr, false);
  if (parsed.is_discarded()) return reference;
  reference.bos_id = parsed["bos_id"].get<int>();
  for (const json& encoding : parsed["encodings"]) {
    reference.ids.push_back(encoding["ids"].get<std::vector<TokenId>>());
    reference.decoded.push_back(encoding["text"].get<std::string>());
  }
  return reference;
}

BpeTokenizer converted(const fs::path& model) {
  return value_of(BpeTokenizer::from_json(value_of(tokenizer_json_from_sentencepiece(model))));
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// What the licenses lack: code, emoji, CJK, accented and Cyrillic text, often enough to be in the vocabulary.
const std::vector<std::string> extra_corpus = {
    "int main(int argc, char** argv) {",
    "    for (auto& piece : pieces) total += piece.size();",
    "\treturn std::move(result);",
    "def encode(self, text):\n        return [self.vocab[t] for t in text.split()]",
    "日本語のテキストを分割します。東京は日本の首都です。",
    "中文分词测试，我们喜欢自然语言处理。",
    "Crème brûlée à la française, naïve façade, déjà vu, Ångström, Müller, São Paulo.",
    "Привет, мир! Как дела? Хорошо, спасибо.",
    "Emoji often come in runs 😀😀😀 and 👍 thumbs up 👍 and hearts ❤️❤️.",
    "The numbers 3.14159, 2718281828 and 1,000,000 are split into digits.",
};

// Lines that test the edges: spaces at either end and in runs, newlines, tabs, characters outside the vocabulary
// (byte fallback), combining marks, the "▁" character itself, control characters.
std::vector<std::string> tricky_texts() {
  return {"",
          " ",
          "   ",
          "hello",
          " hello",
          "  hello",
          "hello ",
          "hello   ",
          "a  b   c    d     e",
          "\thello\tworld\t",
          "line one\nline two\n",
          "\n",
          "\n\n\n",
          " \n \t \r\n ",
          "        indented by eight",
          std::string(100, ' ') + "x",
          "😀",
          "I ❤️ 🦀 and 🧑‍🚀 in orbit 🛰️",
          "emoji run 🎉🎉🎉 then text",
          "日本語のテキスト",
          "未知の漢字：龘靐齉",
          "한국어 텍스트는 말뭉치에 없습니다",
          "Hello 世界, hello мир",
          "Crème brûlée à la française",
          "e\u0301 is not \u00e9",
          "Ωμέγα και Ελληνικά",
          "already\u2581escaped\u2581\u2581spaces",
          "\u2581",
          "\x01\x02\x7f control",
          "int main() { return 0; }",
          "    for (auto& x : xs) {\n        x += 1;\n    }",
          "def f(x):\n\treturn x ** 2",
          "3.14159 2718281828 1,000,000 0x7fff",
          "Pneumonoultramicroscopicsilicovolcanoconiosis",
          std::string(300, 'a'),
          "MiXeD CaSe WoRdS and ALLCAPS",
          "quotes \"double\" 'single' `back` «guillemets» „low“",
          "trailing punctuation...!?"};
}

class SentencePieceModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = tpustack::testing::make_temp_dir("sentencepiece");
    std::ofstream extra(dir_ / "extra.txt");
    for (int copy = 0; copy < 20; ++copy) {
      for (const std::string& line : extra_corpus) extra << line << "\n";
    }
    extra.close();
    corpus_ = (dir_ / "extra.txt").string();
    for (const auto& entry : fs::directory_iterator(licenses)) {
      if (entry.is_regular_file() && !entry.is_symlink()) corpus_ += "," + entry.path().string();
    }
    // As Llama's tokenizer.model was trained: identity normalization, spaces kept as they are, whitespace-only
    // pieces, digits split, byte fallback; and one user-defined symbol.
    llama_ = train(dir_, "llama", corpus_,
                   "--model_type=bpe --vocab_size=2000 --byte_fallback=true --normalization_rule_name=identity "
                   "--remove_extra_whitespaces=false --allow_whitespace_only_pieces=true --split_digits=true "
                   "--user_defined_symbols=<sep>");
    // No dummy prefix and no byte fallback: characters outside the vocabulary become <unk>.
    plain_ = train(dir_, "plain", corpus_,
                   "--model_type=bpe --vocab_size=1000 --byte_fallback=false --normalization_rule_name=identity "
                   "--remove_extra_whitespaces=false --add_dummy_prefix=false");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Many lines: every line of three licenses (in the corpus) and the tricky ones, and a whole license at once.
  static std::vector<std::string> texts() {
    std::vector<std::string> texts = tricky_texts();
    for (const char* name : {"GPL-3", "Apache-2.0", "MPL-2.0"}) {
      for (std::string& line : lines_of(licenses / name)) texts.push_back(std::move(line));
    }
    std::ostringstream whole;
    whole << std::ifstream(licenses / "BSD").rdbuf();
    texts.push_back(whole.str());
    for (const std::string& line : extra_corpus) texts.push_back(line);
    return texts;
  }

  // Our ids (with the BOS the template adds) against SentencePiece's, and, where `decodes`, our text of them against
  // its DecodeIds and the text itself. At most ten failures are shown.
  static void expect_as_sentencepiece(const fs::path& model, bool decodes) {
    const BpeTokenizer tokenizer = converted(model);
    const std::vector<std::string> all = texts();
    const Reference reference = sentencepiece_encodings(model, all);
    ASSERT_EQ(reference.ids.size(), all.size());
    size_t failures = 0;
    for (size_t i = 0; i < all.size() && failures < 10; ++i) {
      std::vector<TokenId> expected = reference.ids[i];
      if (reference.bos_id >= 0) expected.insert(expected.begin(), reference.bos_id);
      const std::vector<TokenId> ids = value_of(tokenizer.encode(all[i]));
      if (ids != expected) {
        ADD_FAILURE() << "encoding " << json(all[i]).dump() << ": " << json(ids).dump() << ", SentencePiece's "
                      << json(expected).dump();
        ++failures;
      }
      if (!decodes) continue;
      const std::string text = value_of(tokenizer.decode(expected, true));
      // A "▁" in the text comes back as a space, as from SentencePiece.
      const bool round_trips = all[i].find("\u2581") == std::string::npos;
      if (text != reference.decoded[i] || (round_trips && text != all[i])) {
        ADD_FAILURE() << "decoding " << json(all[i]).dump() << ": " << json(text).dump() << ", SentencePiece's "
                      << json(reference.decoded[i]).dump();
        ++failures;
      }
    }
  }

  static inline fs::path dir_;
  static inline std::string corpus_;
  static inline fs::path llama_;
  static inline fs::path plain_;
};

TEST_F(SentencePieceModelTest, EncodesAndDecodesAsSentencePieceDoesWithLlamasSettings) {
  expect_as_sentencepiece(llama_, true);
}

TEST_F(SentencePieceModelTest, EncodesAsSentencePieceDoesWithoutDummyPrefixOrByteFallback) {
  expect_as_sentencepiece(plain_, false);
  const BpeTokenizer tokenizer = converted(plain_);
  const auto ids = value_of(tokenizer.encode("x 🦀🦀 y", false));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 0), 1) << "consecutive unknown characters are one <unk>";
}

TEST_F(SentencePieceModelTest, ControlPiecesAreSpecialAddedTokensAndUserDefinedOnesPlainOnes) {
  const json doc = value_of(tokenizer_json_from_sentencepiece(llama_));
  const BpeTokenizer tokenizer = value_of(BpeTokenizer::from_json(doc));
  const json& vocab = doc["model"]["vocab"];
  const TokenId unk = vocab["<unk>"], bos = vocab["<s>"], eos = vocab["</s>"], sep = vocab["<sep>"];
  EXPECT_TRUE(tokenizer.is_special(unk));
  EXPECT_TRUE(tokenizer.is_special(bos));
  EXPECT_TRUE(tokenizer.is_special(eos));
  EXPECT_FALSE(tokenizer.is_special(sep));
  EXPECT_EQ(doc["model"]["unk_token"], "<unk>");
  const auto ids = value_of(tokenizer.encode("left<sep>right</s>"));
  EXPECT_EQ(ids.front(), bos);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), sep), 1);
  EXPECT_EQ(ids.back(), eos);
  // As transformers' legacy Llama tokenizer: each stretch of text between added tokens gets the dummy prefix.
  EXPECT_EQ(value_of(tokenizer.decode(ids, true)), "left<sep> right");
  EXPECT_NE(value_of(tokenizer.encode("left", false)).front(), bos);
}

TEST_F(SentencePieceModelTest, WhatItCannotConvertIsAnErrorNamingTheFile) {
  const auto missing = tokenizer_json_from_sentencepiece(dir_ / "absent.model");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message,
              HasSubstr("cannot read SentencePiece model " + (dir_ / "absent.model").string()));

  const fs::path text = dir_ / "text.model";
  std::ofstream(text) << "{\"model\": {\"type\": \"BPE\"}}";
  const auto not_a_model = tokenizer_json_from_sentencepiece(text);
  ASSERT_FALSE(not_a_model);
  EXPECT_EQ(not_a_model.error().message, text.string() + ": not a SentencePiece model");

  const fs::path gpl = licenses / "GPL-3";
  const fs::path unigram = train(dir_, "unigram", gpl.string(), "--model_type=unigram --vocab_size=300");
  const auto unigram_error = tokenizer_json_from_sentencepiece(unigram);
  ASSERT_FALSE(unigram_error);
  EXPECT_EQ(unigram_error.error().message,
            unigram.string() + ": a SentencePiece unigram model; only BPE ones (as Llama's) are supported");

  // spm_train's defaults: NFKC with its own additions, and whitespace collapsed.
  const fs::path nfkc = train(dir_, "nfkc", gpl.string(), "--model_type=bpe --vocab_size=300");
  const auto nfkc_error = tokenizer_json_from_sentencepiece(nfkc);
  ASSERT_FALSE(nfkc_error);
  EXPECT_EQ(nfkc_error.error().message,
            nfkc.string() + ": normalization rule 'nmt_nfkc' is not supported (identity is)");
}

// A decoder directory with tokenizer.model and no tokenizer.json serves with the converted tokenizer. The tiny
// Llama 3 (vocabulary 384) is the smallest of the tiny decoders that a byte-fallback model fits: 256 byte pieces,
// three control ones and the corpus's characters; the 256 of the others leave no room.
TEST(GenerativeModelWithSentencePiece, LoadsTokenizerModelWhereThereIsNoTokenizerJson) {
  INFERD_REQUIRE_TINY_DECODERS();
  const fs::path copy = tpustack::testing::make_temp_dir("generative-spm");
  fs::copy(inferd::testing::tiny_decoder("llama3-gqa-sharded"), copy, fs::copy_options::recursive);
  fs::remove(copy / "tokenizer.json");
  const fs::path model =
      train(copy, "tokenizer", (licenses / "GPL-3").string(),
            "--model_type=bpe --vocab_size=384 --byte_fallback=true --normalization_rule_name=identity "
            "--remove_extra_whitespaces=false");
  ASSERT_EQ(model, copy / "tokenizer.model");
  generation::GenerativeOptions options;
  options.kv_cache_bytes = 4 << 20;
  auto served = value_of(generation::GenerativeModel::load(copy, options));
  const std::string prompt = "This program is free software 😀";
  const Reference reference = sentencepiece_encodings(model, {prompt});
  ASSERT_EQ(reference.ids.size(), 1u);
  std::vector<TokenId> expected = reference.ids[0];
  expected.insert(expected.begin(), reference.bos_id);
  EXPECT_EQ(value_of(served->text_prompt(prompt)), expected);

  fs::remove(copy / "tokenizer.model");
  auto neither = generation::GenerativeModel::load(copy, options);
  ASSERT_FALSE(neither);
  EXPECT_EQ(neither.error().message, copy.string() + " has no tokenizer: neither tokenizer.json nor tokenizer.model");
  fs::remove_all(copy);
}

}  // namespace
}  // namespace tpustack::inferd::tokenizer
