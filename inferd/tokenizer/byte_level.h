#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tpustack::inferd::tokenizer {

// GPT-2's byte-to-unicode table, which byte-level BPE vocabularies (GPT-2, Llama 3, Qwen) are written in: every
// byte becomes a printable code point, so "Ġ" stands for a space and "Ċ" for a newline.
std::string bytes_to_byte_level(std::string_view bytes);
// The bytes a byte-level token stands for, or nothing when it holds a code point outside the table (an added
// token such as "<|im_start|>" maps to itself, but one with other characters is kept as its own UTF-8).
std::optional<std::string> byte_level_to_bytes(std::string_view token);

}  // namespace tpustack::inferd::tokenizer
