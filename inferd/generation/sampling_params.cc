#include "inferd/generation/sampling_params.h"

#include <cmath>
#include <sstream>

namespace tpustack::inferd::generation {

namespace {

constexpr uint32_t max_top_logprobs = 20;  // OpenAI's bound

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

std::string field_error(const char* field, const std::string& rule, double value) {
  return std::string("\"") + field + "\" must be " + rule + ", got " + number(value);
}

// The comparisons are written so that NaN fails them.
Result<void> check_between(const char* field, double value, double low, double high) {
  if (value >= low && value <= high) return {};
  return Error{field_error(field, "between " + number(low) + " and " + number(high), value)};
}

}  // namespace

bool SamplingParams::greedy() const { return temperature < 1e-5f; }

Result<void> validate(const SamplingParams& params) {
  if (auto checked = check_between("temperature", params.temperature, 0, 2); !checked) return checked;
  if (params.top_k < -1) return Error{field_error("top_k", "-1 or 0 (all tokens) or at least 1", params.top_k)};
  if (!(params.top_p > 0 && params.top_p <= 1)) {
    return Error{field_error("top_p", "greater than 0 and at most 1", params.top_p)};
  }
  if (auto checked = check_between("min_p", params.min_p, 0, 1); !checked) return checked;
  if (!(params.repetition_penalty > 0 && std::isfinite(params.repetition_penalty))) {
    return Error{field_error("repetition_penalty", "greater than 0", params.repetition_penalty)};
  }
  if (auto checked = check_between("presence_penalty", params.presence_penalty, -2, 2); !checked) return checked;
  if (auto checked = check_between("frequency_penalty", params.frequency_penalty, -2, 2); !checked) return checked;
  if (params.max_tokens < 1) return Error{field_error("max_tokens", "at least 1", params.max_tokens)};
  for (const std::string& stop : params.stop) {
    if (stop.empty()) return Error{"\"stop\" must not contain an empty string"};
  }
  for (int32_t token : params.stop_token_ids) {
    if (token < 0) return Error{field_error("stop_token_ids", "token ids of 0 or more", token)};
  }
  if (params.top_logprobs > max_top_logprobs) {
    return Error{field_error("top_logprobs", "between 0 and " + number(max_top_logprobs), params.top_logprobs)};
  }
  if (params.top_logprobs > 0 && !params.logprobs) {
    return Error{"\"top_logprobs\" needs \"logprobs\" to be true, got top_logprobs " + number(params.top_logprobs)};
  }
  return {};
}

}  // namespace tpustack::inferd::generation
