#include "inferd/tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

struct ByteLevelTable {
  std::array<std::string, 256> byte_to_text;
  std::unordered_map<char32_t, unsigned char> code_point_to_byte;

  ByteLevelTable() {
    // Printable Latin-1 bytes stand for themselves; the others take code points from 256 up, in byte order.
    char32_t next = 256;
    for (unsigned byte = 0; byte < 256; ++byte) {
      const bool printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || byte >= 174;
      const char32_t code_point = printable ? byte : next++;
      append_utf8(byte_to_text[byte], code_point);
      code_point_to_byte.emplace(code_point, static_cast<unsigned char>(byte));
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
  auto code_points = decode_utf8(token);
  if (!code_points) return std::nullopt;
  std::string out;
  out.reserve(code_points->size());
  for (char32_t c : *code_points) {
    auto found = table().code_point_to_byte.find(c);
    if (found == table().code_point_to_byte.end()) return std::nullopt;
    out.push_back(static_cast<char>(found->second));
  }
  return out;
}

}  // namespace tpustack::inferd::tokenizer
