#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "inferd/server/request_error.h"

namespace tpustack::inferd::server {

// OpenAI's embeddings API takes up to 2,048 inputs per request (LangChain sends 512 at a time).
constexpr size_t openai_max_inputs = 2048;

struct InputLimits {
  size_t max_inputs = 64;                   // texts in one request (TEI's max_client_batch_size)
  size_t max_body_bytes = 2 * 1024 * 1024;  // TEI's default payload limit
  size_t max_tokens = 16384;                // tokens /tokenize answers in one request (--max-batch-tokens)
};

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

Result<void, RequestError> check_body(std::string_view body, const InputLimits& limits);
Result<void, RequestError> check_input_count(size_t inputs, const InputLimits& limits);
// `tokens`, counted so far over a request's inputs, against the tokens one request may have answered one by one.
Result<void, RequestError> check_token_count(size_t tokens, const InputLimits& limits);
// `tokens` counts special tokens; over-long inputs are an error unless the client asked to truncate.
Result<void, RequestError> check_length(size_t index, size_t tokens, size_t max_tokens, bool truncate);

}  // namespace tpustack::inferd::server
