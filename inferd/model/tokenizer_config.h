#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result/result.h"

namespace tpustack::inferd::model {

// What a decoder's tokenizer_config.json (and chat_template.jinja beside it) says about prompting it.
struct TokenizerConfig {
  // The Jinja chat template: chat_template.jinja when the directory has one (transformers 4.43 on), else
  // tokenizer_config.json's chat_template, a string or a list of {name, template} of which "default" is taken.
  std::optional<std::string> chat_template;
  // bos_token, eos_token, pad_token, unk_token as the template sees them: text, also where the file writes an
  // AddedToken object ({"content": ...}), as transformers passes special_tokens_map.
  std::map<std::string, std::string> special_tokens;
  // For the classes whose fast tokenizer rebuilds tokenizer.json's post-processor from add_bos_token and
  // add_eos_token (LlamaTokenizer, CodeLlamaTokenizer, GemmaTokenizer: transformers' update_post_processor), their
  // values, defaults true and false; none for other classes, whose tokenizer.json decides.
  struct SpecialTokenFlags {
    bool add_bos = true;
    bool add_eos = false;
  };
  std::optional<SpecialTokenFlags> rebuilt_template;
};

// tokenizer_config.json's text; `source` names it in errors.
Result<TokenizerConfig> parse_tokenizer_config(std::string_view text, const std::string& source);
// The directory's files; without them, no template and no special tokens.
Result<TokenizerConfig> read_tokenizer_config(const std::filesystem::path& directory);

}  // namespace tpustack::inferd::model
