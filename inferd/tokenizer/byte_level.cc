#include "inferd/tokenizer/byte_level.h"

#include <utf8proc.h>

#include <array>
#include <cstdint>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

struct ByteLevelTable {
  std::array<std::string, 256> byte_to_text;
  // The byte each code point stands for, -1 for none; the table's code points are all below 256 + 68 = 324.
  std::array<int16_t, 324> code_point_to_byte;

  ByteLevelTable() {
    code_point_to_byte.fill(-1);
    // Printable Latin-1 bytes stand for themselves; the others take code points from 256 up, in byte order.
    char32_t next = 256;
    for (unsigned byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
      const char32_t code_point = printable ? byte : next++;
      append_utf8(byte_to_text[byte], code_point);
      code_point_to_byte[code_point] = static_cast<int16_t>(byte);
    }
  }
};

const ByteLevelTable& table() {
  static const ByteLevelTable instance;
  return instance;
}

}  // namespace

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char byte : bytes) out += table().byte_to_text[static_cast<unsigned char>(byte)];
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view token) {
  const auto& to_byte = table().code_point_to_byte;
  auto text = reinterpret_cast<const utf8proc_uint8_t*>(token.data());
  std::string out;
  out.reserve(token.size());
  for (size_t pos = 0; pos < token.size();) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length =
        utf8proc_iterate(text + pos, static_cast<utf8proc_ssize_t>(token.size() - pos), &code_point);
    if (length <= 0) return std::nullopt;  // not UTF-8
    if (code_point < 0 || static_cast<size_t>(code_point) >= to_byte.size() || to_byte[code_point] < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(to_byte[code_point]));
    pos += static_cast<size_t>(length);
  }
  return out;
}

}  // namespace tpustack::inferd::tokenizer
