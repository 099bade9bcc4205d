#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

// The pre-tokenizer regexes of GPT-2, Llama 3 and Qwen, matched by hand over Unicode categories: std::regex has
// no \p{L}. A pattern is an alternation of known pieces ("\p{N}{1,3}", " ?[^\s\p{L}\p{N}]+[\r\n]*", ...); at each
// position the first piece that matches wins, as in the regex engines those files were written for; \s is
// Unicode White_Space, as there.
class SplitPattern {
 public:
  // An Error quoting the pattern when it holds a piece this matcher does not know.
  static Result<SplitPattern> parse(std::string_view pattern);
  // GPT-2's pattern, what the ByteLevel pre-tokenizer splits with when use_regex is set.
  static const SplitPattern& gpt2();

  // The text cut into the matches and the runs between them, in order (the "Isolated" split behaviour).
  std::vector<std::u32string_view> split(std::u32string_view text) const;

  enum class Piece {
    contractions,                     // 's|'t|'re|'ve|'m|'ll|'d
    contractions_any_case,            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    letters_after_one_other,          // [^\r\n\p{L}\p{N}]?\p{L}+
    letters_after_space,              // " ?\p{L}+"
    digit,                            // \p{N}
    digits_up_to_three,               // \p{N}{1,3}
    digits_after_space,               // " ?\p{N}+"
    symbols_after_space,              // " ?[^\s\p{L}\p{N}]+"
    symbols_after_space_then_breaks,  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
    spaces_then_breaks,               // \s*[\r\n]+
    spaces_before_space_or_end,       // \s+(?!\S)
    spaces,                           // \s+
  };

 private:
  explicit SplitPattern(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}
  std::vector<Piece> pieces_;
};

}  // namespace tpustack::inferd::tokenizer
