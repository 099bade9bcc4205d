#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tpustack::inferd::tokenizer {

// BertNormalizer of Hugging Face tokenizers; strip_accents follows lowercase unless tokenizer.json says otherwise.
struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

// Applies, in order: clean-up (drop NUL, U+FFFD and control/unassigned code points; whitespace becomes a space),
// spaces around CJK ideographs, NFD + removal of non-spacing marks, and per-character lower-casing.
// With origins, also, for each character of the result, the index in text of the character it came from (a space
// put around an ideograph comes from the ideograph), which is what maps tokens back to the original text.
std::u32string normalize_bert(std::u32string_view text, const BertNormalizerOptions& options,
                              std::vector<size_t>* origins = nullptr);

}  // namespace tpustack::inferd::tokenizer
