#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

// The decoders of decoder tokenizers' tokenizer.json, reduced to what they do to bytes: ByteLevel maps each token
// back through GPT-2's table; SentencePiece's Sequence (Replace "▁" by " ", ByteFallback, Fuse, Strip) or
// Metaspace turns "▁" into spaces, <0xNN> into its byte and drops the text's leading space.
class BpeDecoder {
 public:
  // null joins the tokens as they are; an unsupported type is an Error naming it.
  static Result<BpeDecoder> parse(const nlohmann::json& decoder);

  // The bytes one token stands for; fallback_byte is the byte of a <0xNN> token or -1.
  std::string token_bytes(std::string_view token, int fallback_byte) const;
  // How many leading spaces of the whole text the decoder drops.
  size_t leading_spaces_to_strip() const { return strip_leading_spaces_; }

 private:
  bool byte_level_ = false;
  bool byte_fallback_ = false;
  std::string metaspace_;  // the replacement character that stands for a space; "" for none
  size_t strip_leading_spaces_ = 0;
  Result<void> add(const nlohmann::json& decoder);
};

// Appends to out the UTF-8 characters at the start of bytes, with U+FFFD for each byte that cannot begin one, and
// returns how many bytes it used. Unless `final`, an incomplete character at the end is left for more bytes.
size_t append_complete_utf8(std::string_view bytes, bool final, std::string& out);

}  // namespace tpustack::inferd::tokenizer
