// libFuzzer target: arbitrary bytes as a model's tokenizer.json, read by Tokenizer::parse_tokenizer_json as inferd
// loads a model; a tokenizer it accepts then encodes a text, a pair and the text with offsets, so the settings it
// read are used too. An Error is the documented answer to a bad file; anything else is a finding.
//   scripts/fuzz.sh tokenizer_json_fuzzer 300
//   tokenizer_json_fuzz_replay tests/fuzz/corpus/tokenizer_json
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "inferd/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using inferd::tokenizer::Tokenizer;
  const auto tokenizer =
      Tokenizer::parse_tokenizer_json(std::string_view(reinterpret_cast<const char*>(data), size), "tokenizer.json");
  if (!tokenizer) return 0;
  constexpr std::string_view text = "Hello world! [SEP] héllo</s> 你好 unaffable\t[MASK]";
  tokenizer->encode(text);
  tokenizer->encode(text, 4);
  tokenizer->encode_pair(text, "a second text", 6);
  tokenizer->encode_with_offsets(text);
  tokenizer->encode_with_offsets(text, false);
  return 0;
}
