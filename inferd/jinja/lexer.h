#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::jinja {

enum class TokenKind {
  kText,            // template text outside tags
  kPrintBegin,      // {{
  kPrintEnd,        // }}
  kStatementBegin,  // {%
  kStatementEnd,    // %}
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,  // text is its spelling: "+", "//", "==", "(", "|"...
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // text, name, string literal (escapes applied) or operator
  int64_t integer = 0;
  double number = 0;
  int line = 1;
};

// The tokens of a template as jinja2 cuts it in Hugging Face's environment: comments dropped, {% raw %} kept as
// text, newlines made "\n" and one final newline dropped, `{%-`/`-%}` strip the whitespace beside them, and, as
// trim_blocks and lstrip_blocks do, a newline after a statement or comment tag goes, as do the spaces before one
// on its own line. Ends with a kEnd token. Errors name the line.
Result<std::vector<Token>> lex_template(std::string_view source);

}  // namespace tpustack::inferd::jinja
