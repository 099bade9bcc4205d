#include "inferd/tokenizer/bert_normalizer.h"

#include <utf8proc.h>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

// Room for one code point's canonical decomposition, which is at most four code points long.
constexpr size_t max_decomposition = 8;

// c's canonical decomposition without its non-spacing marks into parts; returns how many parts there are.
size_t decompose_without_accents(char32_t c, char32_t (&parts)[max_decomposition]) {
  utf8proc_int32_t decomposed[max_decomposition];
  int last_boundclass = 0;
  utf8proc_ssize_t count =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), decomposed, max_decomposition,
                              static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE), &last_boundclass);
  if (count < 0 || count > static_cast<utf8proc_ssize_t>(max_decomposition)) {
    parts[0] = c;
    return 1;
  }
  size_t kept = 0;
  for (utf8proc_ssize_t i = 0; i < count; ++i) {
    char32_t part = static_cast<char32_t>(decomposed[i]);
    if (!is_nonspacing_mark(part)) parts[kept++] = part;
  }
  return kept;
}

// Rust lower-cases one character at a time with the full mapping, so a final sigma stays σ; the only code point
// whose full lower-case mapping is longer than one character is U+0130.
template <class Emit>
void emit_lowercase(char32_t c, Emit& emit) {
  if (c == 0x130) {
    emit(U'i');
    emit(0x307);
    return;
  }
  emit(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

}  // namespace

std::u32string normalize_bert(std::u32string_view text, const BertNormalizerOptions& options,
                              std::vector<size_t>* origins) {
  // Every step maps one character to zero or more, so one pass over the text applies them all and knows, for each
  // character it writes, the original character it came from.
  std::u32string out;
  out.reserve(text.size());
  if (origins) origins->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    auto emit = [&](char32_t c) {
      out.push_back(c);
      if (origins) origins->push_back(i);
    };
    char32_t c = text[i];
    if (options.clean_text) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;
      if (is_whitespace(c)) c = U' ';
    }
    const bool spaced_out = options.handle_chinese_chars && is_cjk_ideograph(c);
    if (spaced_out) emit(U' ');
    char32_t parts[max_decomposition] = {c};
    const size_t part_count = options.strip_accents ? decompose_without_accents(c, parts) : 1;
    for (size_t p = 0; p < part_count; ++p) {
      if (options.lowercase) {
        emit_lowercase(parts[p], emit);
      } else {
        emit(parts[p]);
      }
    }
    if (spaced_out) emit(U' ');
  }
  return out;
}

}  // namespace tpustack::inferd::tokenizer
