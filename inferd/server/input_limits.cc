#include "inferd/server/input_limits.h"

#include <string>

namespace tpustack::inferd::server {

bool is_valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char lead = *p;
    size_t length = 0;
    unsigned min_second = 0x80, max_second = 0xBF;
    if (lead < 0x80) {
      ++p;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) min_second = 0xA0;  // overlong
      if (lead == 0xED) max_second = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) min_second = 0x90;  // overlong
      if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < length) return false;
    if (p[1] < min_second || p[1] > max_second) return false;
    for (size_t i = 2; i < length; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += length;
  }
  return true;
}

Result<void, RequestError> check_body(std::string_view body, const InputLimits& limits) {
  if (body.size() > limits.max_body_bytes) {
    return RequestError{413, "payload_too_large",
                        "the request body has " + std::to_string(body.size()) + " bytes; the limit is " +
                            std::to_string(limits.max_body_bytes)};
  }
  if (!is_valid_utf8(body)) return RequestError{400, "validation", "the request body is not valid UTF-8"};
  return {};
}

Result<void, RequestError> check_input_count(size_t inputs, const InputLimits& limits) {
  if (inputs == 0) return RequestError{400, "empty", "the request has no inputs"};
  if (inputs > limits.max_inputs) {
    return RequestError{413, "validation",
                        "the request has " + std::to_string(inputs) + " inputs; the limit is " +
                            std::to_string(limits.max_inputs) + " per request"};
  }
  return {};
}

Result<void, RequestError> check_token_count(size_t tokens, const InputLimits& limits) {
  if (tokens <= limits.max_tokens) return {};
  return RequestError{413, "validation",
                      "the inputs have more than " + std::to_string(limits.max_tokens) +
                          " tokens; that is the limit per request (--max-batch-tokens): split the text"};
}

Result<void, RequestError> check_length(size_t index, size_t tokens, size_t max_tokens, bool truncate) {
  if (tokens <= max_tokens || truncate) return {};
  return RequestError{422, "validation",
                      "input " + std::to_string(index) + " has " + std::to_string(tokens) +
                          " tokens; the model takes at most " + std::to_string(max_tokens) +
                          " (send \"truncate\": true to cut it)"};
}

}  // namespace tpustack::inferd::server
