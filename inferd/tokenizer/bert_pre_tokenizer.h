#pragma once

#include <string_view>
#include <vector>

namespace tpustack::inferd::tokenizer {

// BertPreTokenizer: splits on whitespace (dropped) and isolates every punctuation character as its own word. The
// words are views into text, so where a word starts in text is word.data() - text.data().
std::vector<std::u32string_view> split_bert_words(std::u32string_view text);

}  // namespace tpustack::inferd::tokenizer
