#include "inferd/generation/stop_condition.h"

#include <algorithm>

namespace tpustack::inferd::generation {

namespace {

bool contains(std::span<const int32_t> tokens, int32_t token) {
  return std::find(tokens.begin(), tokens.end(), token) != tokens.end();
}

}  // namespace

std::string_view finish_reason_name(FinishReason reason) { return reason == FinishReason::stop ? "stop" : "length"; }

StopCondition::StopCondition(const SamplingParams& params, std::span<const int32_t> eos_token_ids)
    : stop_token_ids_(params.stop_token_ids), stop_(params.stop), max_tokens_(params.max_tokens) {
  if (!params.ignore_eos) eos_token_ids_.assign(eos_token_ids.begin(), eos_token_ids.end());
}

StreamDelta StopCondition::push(int32_t token, std::string_view text) {
  StreamDelta delta;
  if (finished_) return delta;
  ++generated_;
  // vLLM's order: end-of-sequence and stop tokens, then stop strings, then length; the first that matches decides.
  if (contains(eos_token_ids_, token) || contains(stop_token_ids_, token)) {
    if (contains(stop_token_ids_, token)) delta.stop_reason = token;
    delta.finish = FinishReason::stop;
    delta.text = std::move(held_);
    finished_ = true;
    return delta;
  }

  // Only the held text and the new text need searching: what was shown before holds no start of a stop string.
  held_.append(text);
  size_t first = std::string::npos;
  for (const std::string& stop : stop_) {
    const size_t at = held_.find(stop);
    if (at < first) {
      first = at;
      delta.stop_reason = stop;
    }
  }
  if (first != std::string::npos) {
    delta.text = held_.substr(0, first);
    delta.finish = FinishReason::stop;
    finished_ = true;
    return delta;
  }
  if (generated_ >= max_tokens_) {
    delta.text = std::move(held_);
    delta.finish = FinishReason::length;
    finished_ = true;
    return delta;
  }
  const size_t kept = possible_stop_start();
  delta.text = held_.substr(0, held_.size() - kept);
  held_.erase(0, held_.size() - kept);
  return delta;
}

size_t StopCondition::possible_stop_start() const {
  size_t longest = 0;
  for (const std::string& stop : stop_) {
    // Stop strings and held_ are whole UTF-8 characters, so a matching end starts on a character boundary.
    for (size_t length = std::min(stop.size() - 1, held_.size()); length > longest; --length) {
      if (std::string_view(held_).ends_with(std::string_view(stop).substr(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

}  // namespace tpustack::inferd::generation
