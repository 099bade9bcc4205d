#include "inferd/tokenizer/bert_pre_tokenizer.h"

#include "inferd/tokenizer/unicode_text.h"

namespace inferd::tokenizer {

std::vector<std::u32string> split_bert_words(std::u32string_view text) {
  std::vector<std::u32string> words;
  std::u32string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (char32_t c : text) {
    if (is_whitespace(c)) {
      flush();
    } else if (is_punctuation(c)) {
      flush();
      words.emplace_back(1, c);
    } else {
      current.push_back(c);
    }
  }
  flush();
  return words;
}

}  // namespace inferd::tokenizer
