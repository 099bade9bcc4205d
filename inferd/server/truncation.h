#pragma once

#include <cstddef>
#include <string>

#include "common/result/result.h"
#include "inferd/tokenizer/tokenizer.h"

namespace tpustack::inferd::server {

// Which end of an over-long input is cut (TEI's truncation_direction).
enum class TruncationDirection { right, left };

// "Right" or "Left", as TEI spells them (lower case is accepted too).
Result<TruncationDirection> parse_truncation_direction(const std::string& text);

// An untruncated single-sequence encoding ([CLS] pieces [SEP]) cut to `max_length` from the left: its first token
// and its last max_length - 1 tokens are kept, so the end of the text survives.
tokenizer::Encoding keep_end(tokenizer::Encoding encoding, size_t max_length);

// Token ids a client sent, cut to `max_length` from the given end.
void cut_ids(std::vector<tokenizer::TokenId>& ids, size_t max_length, TruncationDirection direction);

}  // namespace tpustack::inferd::server
