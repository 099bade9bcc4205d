#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "inferd/generation/sampling_params.h"

namespace tpustack::inferd::generation {

// OpenAI's finish_reason: "stop" for an end-of-sequence token, a stop token or a stop string; "length" for max_tokens.
enum class FinishReason { stop, length };

std::string_view finish_reason_name(FinishReason reason);

// What one generated token lets a streaming client see.
struct StreamDelta {
  std::string text;                    // may be empty: held back, or a token that ends in the middle of a character
  std::optional<FinishReason> finish;  // set once, with the last text of the sequence
  // vLLM's stop_reason: the stop token id or stop string that ended the sequence; empty for end-of-sequence and
  // for length.
  std::variant<std::monostate, int32_t, std::string> stop_reason;
};

// Decides when one sequence ends, and what of its text a client may see meanwhile. A stop string is matched over
// the detokenized text however the tokens split it, is trimmed from the output with everything after it, and is
// never shown in part: text that could be the start of a stop string is held back until the tokens after it decide.
// Tokens that end the sequence (end-of-sequence, stop_token_ids) are not shown either.
class StopCondition {
 public:
  // eos_token_ids: the model's end-of-sequence tokens (generation_config.json may list several); ignored with
  // params.ignore_eos. params must have passed validate().
  StopCondition(const SamplingParams& params, std::span<const int32_t> eos_token_ids);

  // The next generated token and the text it completes (a streaming detokenizer's output for it). Not to be called
  // once finished() is true.
  StreamDelta push(int32_t token, std::string_view text);
  bool finished() const { return finished_; }

 private:
  // The length of the longest end of held_ that begins some stop string.
  size_t possible_stop_start() const;

  std::vector<int32_t> eos_token_ids_;
  std::vector<int32_t> stop_token_ids_;
  std::vector<std::string> stop_;
  uint32_t max_tokens_;
  uint32_t generated_ = 0;
  std::string held_;  // text not yet shown
  bool finished_ = false;
};

}  // namespace tpustack::inferd::generation
