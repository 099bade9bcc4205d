#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

// The normalizers of decoder tokenizers' tokenizer.json: Sequence, Prepend, Replace of a literal string, and the
// Unicode normal forms (Qwen's NFC).
class TextNormalizer {
 public:
  // null gives a normalizer that changes nothing; an unsupported type is an Error naming it.
  static Result<TextNormalizer> parse(const nlohmann::json& normalizer);
  // text is valid UTF-8.
  std::string apply(std::string_view text) const;

 private:
  enum class Kind { prepend, replace, nfc, nfkc, nfd, nfkd };
  struct Step {
    Kind kind;
    std::string from;  // Replace's pattern
    std::string to;    // Replace's content, Prepend's prefix
  };
  static Result<void> append_steps(const nlohmann::json& normalizer, std::vector<Step>& steps);
  std::vector<Step> steps_;
};

}  // namespace tpustack::inferd::tokenizer
