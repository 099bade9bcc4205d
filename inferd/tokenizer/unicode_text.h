#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

// Code points of UTF-8 text; malformed bytes, surrogates and overlong forms give an Error with the byte offset.
// With byte_offsets, also where each code point starts in text, and text.size() last, so that code points [i, j)
// are bytes [byte_offsets[i], byte_offsets[j]).
Result<std::u32string> decode_utf8(std::string_view text, std::vector<size_t>* byte_offsets = nullptr);

void append_utf8(std::string& out, char32_t code_point);
std::string encode_utf8(std::u32string_view code_points);
// How many bytes the UTF-8 sequence that starts with lead takes, or 0 when lead cannot start one (a continuation
// byte, an overlong 0xC0/0xC1, or 0xF5 and up).
size_t utf8_sequence_length(unsigned char lead);

// Character classes as Hugging Face's Rust tokenizers define them for BERT.
bool is_whitespace(char32_t c);   // Unicode White_Space, tab, newline, carriage return
bool is_control(char32_t c);      // categories Cc, Cf, Cs, Co, Cn except tab, newline, carriage return
bool is_punctuation(char32_t c);  // ASCII punctuation or any Unicode P* category
bool is_cjk_ideograph(char32_t c);
bool is_nonspacing_mark(char32_t c);  // category Mn, what accent stripping removes after NFD
bool is_letter(char32_t c);           // \p{L}: categories Lu, Ll, Lt, Lm, Lo
bool is_number(char32_t c);           // \p{N}: categories Nd, Nl, No

}  // namespace tpustack::inferd::tokenizer
