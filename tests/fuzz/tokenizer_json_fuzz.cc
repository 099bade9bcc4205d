// libFuzzer target: arbitrary bytes as a model's tokenizer.json, read by parse_any_tokenizer_json as inferd loads a
// model (WordPiece or BPE); a tokenizer it accepts then encodes texts and, for BPE, decodes and streams the ids
// back, so the settings it read are used too. An Error is the documented answer to a bad file; anything else is a
// finding.
//   scripts/fuzz.sh tokenizer_json_fuzzer 300
//   tokenizer_json_fuzz_replay tests/fuzz/corpus/tokenizer_json
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "inferd/tokenizer/streaming_detokenizer.h"
#include "inferd/tokenizer/tokenizer_json.h"

namespace {

using namespace tpustack::inferd::tokenizer;

constexpr std::string_view text =
    "Hello world! [SEP] héllo</s> 你好 unaffable\t[MASK] <s>it's 1234 \xF0\x9F\x98\x82\n\n";

void use(const Tokenizer& tokenizer) {
  tokenizer.encode(text);
  tokenizer.encode(text, 4);
  tokenizer.encode_pair(text, "a second text", 6);
  tokenizer.encode_with_offsets(text);
  tokenizer.encode_with_offsets(text, false);
}

void use(const BpeTokenizer& tokenizer) {
  const auto ids = tokenizer.encode(text, true);
  if (!ids) return;
  tokenizer.decode(*ids, true);
  tokenizer.decode(*ids, false);
  StreamingDetokenizer stream(tokenizer, false);
  for (TokenId id : *ids) stream.push(id);
  stream.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto tokenizer =
      parse_any_tokenizer_json(std::string_view(reinterpret_cast<const char*>(data), size), "tokenizer.json");
  if (!tokenizer) return 0;
  std::visit([](const auto& loaded) { use(loaded); }, *tokenizer);
  return 0;
}
