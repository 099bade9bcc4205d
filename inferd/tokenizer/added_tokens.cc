#include "inferd/tokenizer/added_tokens.h"

#include <algorithm>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

// The code point that ends just before `at` or starts at `at`, or 0 at the text's ends.
char32_t code_point_before(std::string_view text, size_t at) {
  size_t start = at;
  while (start > 0 && (static_cast<unsigned char>(text[start - 1]) & 0xC0) == 0x80) --start;
  if (start == 0) return 0;
  auto decoded = decode_utf8(text.substr(start - 1, at - start + 1));
  return decoded && !decoded->empty() ? decoded->front() : 0;
}

char32_t code_point_at(std::string_view text, size_t at) {
  if (at >= text.size()) return 0;
  const size_t length = utf8_sequence_length(static_cast<unsigned char>(text[at]));
  if (length == 0) return 0;  // decoding it would fail too
  auto decoded = decode_utf8(text.substr(at, length));
  return decoded && !decoded->empty() ? decoded->front() : 0;
}

bool is_word_character(char32_t c) { return c != 0 && (is_letter(c) || is_number(c) || c == U'_'); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedTokenSpec> tokens) : tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const AddedTokenSpec& token) { return token.content.empty() || token.id < 0; });
  for (size_t i = 0; i < tokens_.size(); ++i) {
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& indices : by_first_byte_) {
    std::stable_sort(indices.begin(), indices.end(),
                     [&](size_t a, size_t b) { return tokens_[a].content.size() > tokens_[b].content.size(); });
  }
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextSegment> out;
  size_t text_start = 0;  // of the pending run of plain text
  for (size_t at = 0; at < text.size(); ++at) {
    for (size_t index : by_first_byte_[static_cast<unsigned char>(text[at])]) {
      const AddedTokenSpec& token = tokens_[index];
      if (!text.substr(at).starts_with(token.content)) continue;
      size_t end = at + token.content.size();
      if (token.single_word &&
          (is_word_character(code_point_before(text, at)) || is_word_character(code_point_at(text, end)))) {
        continue;
      }
      size_t start = at;
      if (token.lstrip) {
        while (start > text_start && is_space(text[start - 1])) --start;
      }
      if (token.rstrip) {
        while (end < text.size() && is_space(text[end])) ++end;
      }
      if (start > text_start) out.push_back({text.substr(text_start, start - text_start), -1, text_start});
      out.push_back({{}, token.id, start});
      text_start = end;
      at = end - 1;
      break;
    }
  }
  if (text_start < text.size() || out.empty()) out.push_back({text.substr(text_start), -1, text_start});
  return out;
}

}  // namespace tpustack::inferd::tokenizer
