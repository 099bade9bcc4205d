#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"
#include "inferd/tokenizer/split_pattern.h"

namespace tpustack::inferd::tokenizer {

// The pre-tokenizers of decoder tokenizers' tokenizer.json: Sequence, Split by a regex (Isolated), ByteLevel
// (with or without GPT-2's regex), Metaspace and Digits (SmolLM's). It cuts a normalised text into the words the BPE
// model sees.
class BpePreTokenizer {
 public:
  // null keeps the text as one word; an unsupported type or pattern is an Error naming it.
  static Result<BpePreTokenizer> parse(const nlohmann::json& pre_tokenizer);
  // The words of text (valid UTF-8); first_segment says whether it starts the input (Metaspace's "first").
  std::vector<std::string> words(std::string_view text, bool first_segment) const;

 private:
  enum class Kind { split, byte_level, metaspace, digits };
  struct Step {
    Kind kind = Kind::split;
    std::optional<SplitPattern> pattern;  // split; byte_level with use_regex
    bool add_prefix_space = false;        // byte_level; metaspace: prepend the replacement
    bool prepend_first_only = false;      // metaspace's prepend_scheme "first"
    bool split_words = false;             // metaspace: each replacement starts a word; digits: each digit is one
    std::string replacement;              // metaspace
  };
  static Result<void> append_steps(const nlohmann::json& pre_tokenizer, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

}  // namespace tpustack::inferd::tokenizer
