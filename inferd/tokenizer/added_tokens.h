#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "inferd/tokenizer/wordpiece.h"

namespace tpustack::inferd::tokenizer {

// A token of tokenizer.json's added_tokens: found in the text before the model sees it, and never split.
struct AddedTokenSpec {
  std::string content;
  TokenId id = -1;
  bool special = false;      // dropped by decoding with skip_special_tokens
  bool normalized = false;   // matched in the normalised text rather than the raw one
  bool lstrip = false;       // takes the whitespace before it
  bool rstrip = false;       // takes the whitespace after it
  bool single_word = false;  // only where no letter, digit or '_' touches it
};

// A run of text between added tokens, or one added token (text empty).
struct TextSegment {
  std::string_view text;
  TokenId added = -1;
  size_t start = 0;  // where it starts in the text that was cut
};

// Finds added tokens in a text, the leftmost first and of those the longest, as tokenizers' Aho-Corasick does.
class AddedTokenMatcher {
 public:
  explicit AddedTokenMatcher(std::vector<AddedTokenSpec> tokens);
  std::vector<TextSegment> split(std::string_view text) const;
  bool empty() const { return tokens_.empty(); }

 private:
  std::vector<AddedTokenSpec> tokens_;
  std::array<std::vector<size_t>, 256> by_first_byte_;  // longest first
};

}  // namespace tpustack::inferd::tokenizer
