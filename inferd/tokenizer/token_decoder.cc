#include "inferd/tokenizer/token_decoder.h"

#include <string_view>
#include <utility>

namespace tpustack::inferd::tokenizer {

namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// tokenizers' decoders::wordpiece::cleanup, applied per token as its decoder does.
void clean_up(std::string& token) {
  using Replacement = std::pair<std::string_view, std::string_view>;
  static constexpr Replacement replacements[] = {{" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
                                                 {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
                                                 {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : replacements) replace_all(token, from, to);
}

}  // namespace

Result<std::string> decode_tokens(const Tokenizer& tokenizer, const std::vector<TokenId>& ids,
                                  bool skip_special_tokens) {
  const std::string_view prefix = "##";
  std::string text;
  bool first = true;
  for (TokenId id : ids) {
    const std::string_view vocabulary_text = tokenizer.model().token(id);
    if (vocabulary_text.empty()) return Error{"token id " + std::to_string(id) + " is not in the vocabulary"};
    if (skip_special_tokens && tokenizer.is_special(id)) continue;
    std::string token(vocabulary_text);
    if (!first && token.starts_with(prefix)) {
      token.erase(0, prefix.size());
    } else if (!first) {
      token.insert(0, " ");
    }
    clean_up(token);
    text += token;
    first = false;
  }
  return text;
}

}  // namespace tpustack::inferd::tokenizer
