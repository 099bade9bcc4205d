#pragma once

#include <string>
#include <string_view>

namespace inferd::tokenizer {

// BertNormalizer of Hugging Face tokenizers; strip_accents follows lowercase unless tokenizer.json says otherwise.
struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

// Applies, in order: clean-up (drop NUL, U+FFFD and control/unassigned code points; whitespace becomes a space),
// spaces around CJK ideographs, NFD + removal of non-spacing marks, and per-character lower-casing.
std::u32string normalize_bert(std::u32string_view text, const BertNormalizerOptions& options);

}  // namespace inferd::tokenizer
