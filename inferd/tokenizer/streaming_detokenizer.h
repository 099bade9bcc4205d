#pragma once

#include <string>

#include "common/result/result.h"
#include "inferd/tokenizer/bpe_tokenizer.h"

namespace tpustack::inferd::tokenizer {

// Text of generated ids as they arrive, for streaming: each push returns only whole UTF-8 characters, holding
// back the first bytes of one that a later byte-level or <0xNN> token completes, and drops the leading space that
// SentencePiece decoders strip from the start of the text. Everything pushed then finish() concatenates to what
// BpeTokenizer::decode gives for all the ids at once.
class StreamingDetokenizer {
 public:
  // Where the ids continue a text already shown (a completion after its prompt), `continues_text` keeps their
  // leading space: "▁time" after "Once upon a" is " time". tokenizer must outlive this.
  StreamingDetokenizer(const BpeTokenizer& tokenizer, bool skip_special_tokens, bool continues_text = false);

  // The text that id completes ("" while a character is incomplete); an unknown id is an Error.
  Result<std::string> push(TokenId id);
  // The bytes still held back, each as U+FFFD: the stream ended inside a character.
  std::string finish();

 private:
  const BpeTokenizer* tokenizer_;
  bool skip_special_tokens_;
  size_t spaces_to_strip_;
  std::string pending_;
};

}  // namespace tpustack::inferd::tokenizer
