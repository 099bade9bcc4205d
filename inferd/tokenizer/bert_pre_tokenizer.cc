#include "inferd/tokenizer/bert_pre_tokenizer.h"

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

std::vector<std::u32string_view> split_bert_words(std::u32string_view text) {
  std::vector<std::u32string_view> words;
  size_t word_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool space = is_whitespace(text[i]);
    if (!space && !is_punctuation(text[i])) continue;
    if (i > word_start) words.push_back(text.substr(word_start, i - word_start));
    if (!space) words.push_back(text.substr(i, 1));
    word_start = i + 1;
  }
  if (word_start < text.size()) words.push_back(text.substr(word_start));
  return words;
}

}  // namespace tpustack::inferd::tokenizer
