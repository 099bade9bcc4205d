#include "inferd/tokenizer/bert_normalizer.h"

#include <utf8proc.h>

#include "inferd/tokenizer/unicode_text.h"

namespace inferd::tokenizer {

namespace {

void append_without_accents(std::u32string& out, char32_t c) {
  utf8proc_int32_t decomposed[8];
  int last_boundclass = 0;
  utf8proc_ssize_t count =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), decomposed, 8,
                              static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE), &last_boundclass);
  if (count < 0 || count > 8) {
    out.push_back(c);
    return;
  }
  for (utf8proc_ssize_t i = 0; i < count; ++i) {
    char32_t part = static_cast<char32_t>(decomposed[i]);
    if (!is_nonspacing_mark(part)) out.push_back(part);
  }
}

// Rust lower-cases one character at a time with the full mapping, so a final sigma stays σ; the only code point
// whose full lower-case mapping is longer than one character is U+0130.
void append_lowercase(std::u32string& out, char32_t c) {
  if (c == 0x130) {
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

}  // namespace

std::u32string normalize_bert(std::u32string_view text, const BertNormalizerOptions& options) {
  std::u32string cleaned;
  cleaned.reserve(text.size());
  for (char32_t c : text) {
    if (options.clean_text) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_whitespace(c)) c = U' ';
    }
    if (options.handle_chinese_chars && is_cjk_ideograph(c)) {
      cleaned.push_back(U' ');
      cleaned.push_back(c);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(c);
    }
  }
  if (!options.strip_accents && !options.lowercase) return cleaned;

  std::u32string out;
  out.reserve(cleaned.size());
  std::u32string stripped;
  for (char32_t c : cleaned) {
    stripped.clear();
    if (options.strip_accents) {
      append_without_accents(stripped, c);
    } else {
      stripped.push_back(c);
    }
    for (char32_t part : stripped) {
      if (options.lowercase) {
        append_lowercase(out, part);
      } else {
        out.push_back(part);
      }
    }
  }
  return out;
}

}  // namespace inferd::tokenizer
