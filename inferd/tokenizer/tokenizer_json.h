#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>

#include "common/result/result.h"
#include "inferd/tokenizer/bpe_tokenizer.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd::tokenizer {

// An encoder's WordPiece tokenizer or a decoder's BPE one.
using AnyTokenizer = std::variant<Tokenizer, BpeTokenizer>;

// A model's tokenizer.json, whichever model.type it has (WordPiece or BPE); errors name the file.
Result<AnyTokenizer> read_tokenizer_json(const std::filesystem::path& path);
// tokenizer.json's text; `source` names it in errors.
Result<AnyTokenizer> parse_any_tokenizer_json(std::string_view text, const std::string& source);

}  // namespace tpustack::inferd::tokenizer
