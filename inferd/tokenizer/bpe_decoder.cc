#include "inferd/tokenizer/bpe_decoder.h"

#include <utf8proc.h>

#include "common/json/json_document.h"
#include "inferd/tokenizer/byte_level.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::json::member;

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

}  // namespace

Result<void> BpeDecoder::add(const json& decoder) {
  const std::string type = decoder.value("type", "");
  if (type == "Sequence") {
    for (const json& inner : member(decoder, "decoders")) {
      if (auto added = add(inner); !added) return added;
    }
  } else if (type == "ByteLevel") {
    byte_level_ = true;
  } else if (type == "ByteFallback") {
    byte_fallback_ = true;
  } else if (type == "Fuse") {
    // Joining the tokens is what decoding does anyway.
  } else if (type == "Replace") {
    const json& pattern = member(decoder, "pattern");
    if (!pattern.is_object() || !pattern.contains("String") || pattern["String"].get<std::string>().empty() ||
        decoder.value("content", "") != " ") {
      return Error{"decoder Replace is supported from a String pattern to \" \" only"};
    }
    metaspace_ = pattern["String"].get<std::string>();
  } else if (type == "Strip") {
    if (decoder.value("content", " ") != " " || tpustack::json::json_integer_member<size_t>(decoder, "stop", 0) != 0) {
      return Error{"decoder Strip is supported for leading spaces only"};
    }
    strip_leading_spaces_ = tpustack::json::json_integer_member<size_t>(decoder, "start", 0, 0, 64);
  } else if (type == "Metaspace") {
    metaspace_ = decoder.value("replacement", "\u2581");
    if (metaspace_.empty()) return Error{"decoder Metaspace needs a replacement character"};
    const bool prepended =
        decoder.value("add_prefix_space", true) && decoder.value("prepend_scheme", "always") != "never";
    strip_leading_spaces_ = prepended ? 1 : 0;
  } else {
    return Error{"decoder type '" + type +
                 "' is not supported (Sequence, ByteLevel, ByteFallback, Fuse, Replace, Strip and Metaspace are)"};
  }
  return {};
}

Result<BpeDecoder> BpeDecoder::parse(const json& decoder) {
  BpeDecoder result;
  if (decoder.is_null()) return result;
  if (auto added = result.add(decoder); !added) return added.error();
  return result;
}

std::string BpeDecoder::token_bytes(std::string_view token, int fallback_byte) const {
  if (byte_fallback_ && fallback_byte >= 0) return std::string(1, static_cast<char>(fallback_byte));
  if (byte_level_) {
    if (auto bytes = byte_level_to_bytes(token)) return *std::move(bytes);
  }
  std::string out;
  out.reserve(token.size());
  size_t from = 0;
  if (!metaspace_.empty()) {
    for (size_t at = token.find(metaspace_); at != std::string_view::npos; at = token.find(metaspace_, from)) {
      out.append(token.substr(from, at - from)).push_back(' ');
      from = at + metaspace_.size();
    }
  }
  return out.append(token.substr(from));
}

size_t append_complete_utf8(std::string_view bytes, bool final, std::string& out) {
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t length = utf8_sequence_length(static_cast<unsigned char>(bytes[at]));
    if (length == 0) {
      out += replacement_character;
      ++at;
      continue;
    }
    if (at + length > bytes.size()) {
      // Incomplete: wait for more bytes when the ones there may still start a character.
      bool continuations = true;
      for (size_t i = at + 1; i < bytes.size(); ++i) continuations = continuations && (bytes[i] & 0xC0) == 0x80;
      if (!final && continuations) return at;
      out += replacement_character;
      ++at;
      continue;
    }
    utf8proc_int32_t code_point = 0;
    if (utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(bytes.data() + at),
                         static_cast<utf8proc_ssize_t>(length), &code_point) != static_cast<utf8proc_ssize_t>(length)) {
      out += replacement_character;
      ++at;
      continue;
    }
    out.append(bytes.substr(at, length));
    at += length;
  }
  return at;
}

}  // namespace tpustack::inferd::tokenizer
