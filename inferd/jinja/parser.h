#pragma once

#include <vector>

#include "common/result/result.h"
#include "inferd/jinja/lexer.h"
#include "inferd/jinja/syntax_tree.h"

namespace tpustack::inferd::jinja {

// The statements of a template from lex_template's tokens, by jinja2's grammar and operator precedence. Besides
// syntax errors it refuses, with the line, whatever this subset cannot render, so that a template fails when it
// is loaded rather than on some request: unknown filters, tests and methods, calls of functions that are neither
// global nor a macro of the template, and tags other than if, for, set, macro, break, continue and generation.
Result<Body> parse_template(const std::vector<Token>& tokens);

}  // namespace tpustack::inferd::jinja
