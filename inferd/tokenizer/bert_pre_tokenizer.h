#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inferd::tokenizer {

// BertPreTokenizer: splits on whitespace (dropped) and isolates every punctuation character as its own word.
std::vector<std::u32string> split_bert_words(std::u32string_view text);

}  // namespace inferd::tokenizer
