#pragma once

#include <string>
#include <vector>

#include "common/result/result.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd::tokenizer {

// Text of token ids as Hugging Face's WordPiece decoder writes it (what TEI's Decode answers): pieces joined by
// spaces, "##" continuations glued to the piece before, and its cleanup of spaces before punctuation and
// contractions. An id outside the vocabulary is an error rather than silently dropped.
Result<std::string> decode_tokens(const Tokenizer& tokenizer, const std::vector<TokenId>& ids,
                                  bool skip_special_tokens);

}  // namespace tpustack::inferd::tokenizer
