#include "inferd/jinja/chat_template.h"

#include "inferd/jinja/lexer.h"
#include "inferd/jinja/parser.h"
#include "inferd/jinja/renderer.h"

namespace tpustack::inferd::jinja {

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
  auto tokens = lex_template(source);
  if (!tokens) return tokens.error();
  auto body = parse_template(*tokens);
  if (!body) return body.error();
  return ChatTemplate(std::make_shared<const Body>(std::move(*body)));
}

Result<std::string> ChatTemplate::render(const nlohmann::ordered_json& variables, const std::tm& now) const {
  if (!variables.is_object()) return Error{"chat template variables must be a JSON object"};
  Value converted = from_json(variables);
  return render_template(*body_, *converted.mapping(), now);
}

}  // namespace tpustack::inferd::jinja
