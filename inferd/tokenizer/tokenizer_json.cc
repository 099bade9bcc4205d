#include "inferd/tokenizer/tokenizer_json.h"

#include "common/files/file_text.h"
#include "common/json/json_document.h"

namespace tpustack::inferd::tokenizer {

Result<AnyTokenizer> read_tokenizer_json(const std::filesystem::path& path) {
  auto text = files::read_file_text(path);
  if (!text) return text.error();
  return parse_any_tokenizer_json(*text, path.string());
}

Result<AnyTokenizer> parse_any_tokenizer_json(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<AnyTokenizer>(
      text, source, [&](const nlohmann::json& doc) -> Result<AnyTokenizer> {
        const nlohmann::json& model = tpustack::json::member(doc, "model");
        const std::string type = model.is_object() ? model.value("type", "") : "";
        if (type == "WordPiece") {
          auto tokenizer = Tokenizer::from_json(doc, source);
          if (!tokenizer) return tokenizer.error();
          return AnyTokenizer(std::move(tokenizer).value());
        }
        if (type == "BPE") {
          auto tokenizer = BpeTokenizer::from_json(doc);
          if (!tokenizer) return Error{source + ": " + tokenizer.error().message};
          return AnyTokenizer(std::move(tokenizer).value());
        }
        return Error{source + ": model type '" + type + "' is not supported (WordPiece and BPE are)"};
      });
}

}  // namespace tpustack::inferd::tokenizer
