#include "inferd/model/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "common/files/file_text.h"

namespace tpustack::inferd::model {

using nlohmann::json;

Result<TokenizerConfig> parse_tokenizer_config(std::string_view text, const std::string& source) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Error{source + " is not a JSON object"};
  TokenizerConfig config;
  for (const char* name : {"bos_token", "eos_token", "pad_token", "unk_token"}) {
    const json token = doc.value(name, json());
    if (token.is_string()) {
      config.special_tokens[name] = token.get<std::string>();
    } else if (token.is_object() && token.value("content", json()).is_string()) {
      config.special_tokens[name] = token["content"].get<std::string>();
    } else if (!token.is_null()) {
      return Error{source + ": " + name + " is neither text nor an object with \"content\""};
    }
  }
  std::string tokenizer_class = doc.value("tokenizer_class", json()).is_string() ? doc["tokenizer_class"] : "";
  if (tokenizer_class.ends_with("Fast")) tokenizer_class.resize(tokenizer_class.size() - 4);
  if (tokenizer_class == "LlamaTokenizer" || tokenizer_class == "CodeLlamaTokenizer" ||
      tokenizer_class == "GemmaTokenizer") {
    TokenizerConfig::SpecialTokenFlags flags;
    for (auto [name, flag] : {std::pair{"add_bos_token", &flags.add_bos}, std::pair{"add_eos_token", &flags.add_eos}}) {
      const json value = doc.value(name, json());
      if (value.is_boolean()) {
        *flag = value.get<bool>();
      } else if (!value.is_null()) {
        return Error{source + ": " + name + " is not true or false"};
      }
    }
    config.rebuilt_template = flags;
  }
  const json chat_template = doc.value("chat_template", json());
  if (chat_template.is_string()) {
    config.chat_template = chat_template.get<std::string>();
  } else if (chat_template.is_array()) {
    for (const json& named : chat_template) {
      if (named.is_object() && named.value("name", "") == "default" && named.value("template", json()).is_string()) {
        config.chat_template = named["template"].get<std::string>();
      }
    }
    if (!config.chat_template) return Error{source + ": chat_template lists templates but none named \"default\""};
  } else if (!chat_template.is_null()) {
    return Error{source + ": chat_template is neither text nor a list of named templates"};
  }
  return config;
}

Result<TokenizerConfig> read_tokenizer_config(const std::filesystem::path& directory) {
  TokenizerConfig config;
  const auto path = directory / "tokenizer_config.json";
  auto text = files::read_optional_file_text(path);
  if (!text) return text.error();
  if (*text) {
    auto parsed = parse_tokenizer_config(**text, path.string());
    if (!parsed) return parsed.error();
    config = std::move(*parsed);
  }
  auto chat_template = files::read_optional_file_text(directory / "chat_template.jinja");
  if (!chat_template) return chat_template.error();
  if (*chat_template) config.chat_template = std::move(**chat_template);
  return config;
}

}  // namespace tpustack::inferd::model
