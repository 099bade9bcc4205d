#include "inferd/jinja/parser.h"

#include <algorithm>
#include <array>
#include <set>

#include "inferd/jinja/filters.h"
#include "inferd/jinja/globals.h"
#include "inferd/jinja/is_tests.h"
#include "inferd/jinja/methods.h"

namespace tpustack::inferd::jinja {

namespace {

// Nesting beyond this (brackets, unary operators, blocks) is refused rather than risking the stack.
constexpr int kMaxNesting = 200;

const std::set<std::string_view> kUnsupportedTags = {"extends", "include", "import", "from",       "block",
                                                     "call",    "filter",  "with",   "autoescape", "print"};

template <class Node>
ExpressionPtr make(Node node, int line) {
  return std::make_unique<const Expression>(Expression{std::move(node), line});
}

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kText:
      return "template text";
    case TokenKind::kPrintBegin:
      return "'{{'";
    case TokenKind::kPrintEnd:
      return "'}}'";
    case TokenKind::kStatementBegin:
      return "'{%'";
    case TokenKind::kStatementEnd:
      return "'%}'";
    case TokenKind::kEnd:
      return "the end of the template";
    default:
      return "'" + token.text + "'";
  }
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Result<Body> run() {
    auto body = parse_body({}, nullptr);
    if (!body) return body;
    for (const auto& [name, line] : called_names_) {
      if (!is_global_function(name) && !macro_names_.contains(name)) {
        return Error{"line " + std::to_string(line) + ": unknown function '" + name +
                     "' (neither a global function nor a macro of the template)"};
      }
    }
    return body;
  }

 private:
  // Counts one level of nesting for as long as it lives.
  class Nested {
   public:
    explicit Nested(int& depth) : depth_(depth) { ++depth_; }
    ~Nested() { --depth_; }
    Nested(const Nested&) = delete;
    Nested& operator=(const Nested&) = delete;

   private:
    int& depth_;
  };

  const Token& current() const { return tokens_[at_]; }
  const Token& peek() const { return tokens_[std::min(at_ + 1, tokens_.size() - 1)]; }
  void advance() {
    if (at_ + 1 < tokens_.size()) ++at_;
  }
  bool is_operator(std::string_view op) const { return current().kind == TokenKind::kOperator && current().text == op; }
  bool is_name(std::string_view name) const { return current().kind == TokenKind::kName && current().text == name; }
  bool skip_operator(std::string_view op) {
    if (!is_operator(op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    advance();
    return true;
  }

  Error fail(const std::string& message) const {
    return Error{"line " + std::to_string(current().line) + ": " + message};
  }

  Result<void> expect_operator(std::string_view op) {
    if (skip_operator(op)) return {};
    return fail("expected '" + std::string(op) + "', got " + describe(current()));
  }
  Result<void> expect(TokenKind kind, const char* what) {
    if (current().kind != kind) return fail(std::string("expected ") + what + ", got " + describe(current()));
    advance();
    return {};
  }
  Result<std::string> expect_name() {
    if (current().kind != TokenKind::kName) return fail("expected a name, got " + describe(current()));
    std::string name = current().text;
    advance();
    return name;
  }

  // Statements and text up to one of end_tags ({% endfor %}...), whose name is left current and put in ended_by;
  // with no end tags, up to the end of the template.
  Result<Body> parse_body(std::vector<std::string_view> end_tags, std::string* ended_by) {
    Body body;
    while (true) {
      const Token& token = current();
      if (token.kind == TokenKind::kEnd) {
        if (end_tags.empty()) return body;
        std::string expected;
        for (std::string_view tag : end_tags) expected += (expected.empty() ? "'" : " or '") + std::string(tag) + "'";
        return fail("unexpected end of template, expected " + expected);
      }
      if (token.kind == TokenKind::kText) {
        body.push_back({TextStatement{token.text}, token.line});
        advance();
      } else if (token.kind == TokenKind::kPrintBegin) {
        advance();
        auto value = parse_tuple(true, false, {});
        if (!value) return value.error();
        if (auto closed = expect(TokenKind::kPrintEnd, "'}}'"); !closed) return closed.error();
        body.push_back({PrintStatement{std::move(*value)}, token.line});
      } else if (token.kind == TokenKind::kStatementBegin) {
        advance();
        if (current().kind == TokenKind::kName &&
            std::find(end_tags.begin(), end_tags.end(), current().text) != end_tags.end()) {
          *ended_by = current().text;
          return body;
        }
        auto statement = parse_statement();
        if (!statement) return statement.error();
        body.push_back(std::move(*statement));
      } else {
        return fail("unexpected " + describe(token));
      }
    }
  }

  // The body of a block tag whose opening tag is current up to its '%}'; ends at one of end_tags, consumed.
  Result<Body> parse_block(std::vector<std::string_view> end_tags, std::string* ended_by) {
    if (auto closed = expect(TokenKind::kStatementEnd, "'%}'"); !closed) return closed.error();
    Nested nested(depth_);
    if (depth_ > kMaxNesting) return fail("blocks nested too deeply");
    std::string end;
    auto body = parse_body(std::move(end_tags), &end);
    if (!body) return body;
    advance();  // the end tag's name
    if (ended_by) *ended_by = end;
    return body;
  }

  Result<Statement> parse_statement() {
    const int line = current().line;
    if (current().kind != TokenKind::kName) return fail("expected a tag name, got " + describe(current()));
    const std::string tag = current().text;
    advance();
    auto statement = parse_tag(tag, line);
    if (!statement) return statement;
    if (auto closed = expect(TokenKind::kStatementEnd, "'%}'"); !closed) return closed.error();
    return statement;
  }

  // A tag after its name, up to its (last) '%}'.
  Result<Statement> parse_tag(const std::string& tag, int line) {
    if (tag == "if") return parse_if(line);
    if (tag == "for") return parse_for(line);
    if (tag == "set") return parse_set(line);
    if (tag == "macro") return parse_macro(line);
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) return fail("'" + tag + "' outside a for loop");
      return tag == "break" ? Statement{BreakStatement{}, line} : Statement{ContinueStatement{}, line};
    }
    if (tag == "generation") {
      auto body = parse_block({"endgeneration"}, nullptr);
      if (!body) return body.error();
      return Statement{ScopedStatement{std::move(*body)}, line};
    }
    if (kUnsupportedTags.contains(tag)) {
      return Error{"line " + std::to_string(line) + ": the tag '" + tag + "' is not supported in chat templates"};
    }
    return Error{"line " + std::to_string(line) + ": unknown tag '" + tag + "'"};
  }

  // The else branch of an if or for block whose body ended at `ended_by`: empty unless that was {% else %}.
  Result<Body> parse_else(const std::string& ended_by, std::string_view end_tag) {
    if (ended_by != "else") return Body{};
    return parse_block({end_tag}, nullptr);
  }

  Result<Statement> parse_if(int line) {
    IfStatement statement;
    while (true) {
      auto condition = parse_tuple(false, false, {});
      if (!condition) return condition.error();
      std::string ended_by;
      auto body = parse_block({"elif", "else", "endif"}, &ended_by);
      if (!body) return body.error();
      statement.branches.emplace_back(std::move(*condition), std::move(*body));
      if (ended_by == "elif") continue;
      auto otherwise = parse_else(ended_by, "endif");
      if (!otherwise) return otherwise.error();
      statement.otherwise = std::move(*otherwise);
      return Statement{std::move(statement), line};
    }
  }

  Result<Statement> parse_for(int line) {
    ForStatement statement;
    auto target = parse_assign_target(false, true);
    if (!target) return target.error();
    statement.target = std::move(*target);
    if (!skip_name("in")) return fail("expected 'in', got " + describe(current()));
    auto iterable = parse_tuple(false, false, {"recursive"});
    if (!iterable) return iterable.error();
    statement.iterable = std::move(*iterable);
    if (skip_name("if")) {
      auto condition = parse_expression(true);
      if (!condition) return condition.error();
      statement.condition = std::move(*condition);
    }
    if (is_name("recursive")) return fail("recursive loops are not supported");
    std::string ended_by;
    ++loop_depth_;
    auto body = parse_block({"endfor", "else"}, &ended_by);
    --loop_depth_;
    if (!body) return body.error();
    statement.body = std::move(*body);
    auto otherwise = parse_else(ended_by, "endfor");
    if (!otherwise) return otherwise.error();
    statement.otherwise = std::move(*otherwise);
    return Statement{std::move(statement), line};
  }

  Result<Statement> parse_set(int line) {
    auto target = parse_assign_target(true, false);
    if (!target) return target.error();
    if (skip_operator("=")) {
      auto value = parse_tuple(true, false, {});
      if (!value) return value.error();
      return Statement{SetStatement{std::move(*target), std::move(*value)}, line};
    }
    SetBlockStatement statement{std::move(*target), {}, {}};
    while (skip_operator("|")) {
      auto step = parse_filter_step();
      if (!step) return step.error();
      statement.filters.push_back(std::move(*step));
    }
    auto body = parse_block({"endset"}, nullptr);
    if (!body) return body.error();
    statement.body = std::move(*body);
    return Statement{std::move(statement), line};
  }

  Result<Statement> parse_macro(int line) {
    auto name = expect_name();
    if (!name) return name.error();
    auto macro = std::make_shared<Macro>();
    macro->name = *name;
    if (auto opened = expect_operator("("); !opened) return opened.error();
    while (!is_operator(")")) {
      if (!macro->parameters.empty()) {
        if (auto comma = expect_operator(","); !comma) return comma.error();
      }
      auto parameter = expect_name();
      if (!parameter) return parameter.error();
      MacroParameter declared{*parameter, nullptr};
      if (skip_operator("=")) {
        auto fallback = parse_expression(true);
        if (!fallback) return fallback.error();
        declared.fallback = std::move(*fallback);
      } else if (!macro->parameters.empty() && macro->parameters.back().fallback) {
        return fail("non-default argument follows default argument");
      }
      macro->parameters.push_back(std::move(declared));
    }
    advance();  // ')'
    macro_names_.insert(*name);
    const int loops_outside = loop_depth_;
    loop_depth_ = 0;  // a macro's body is not inside the loop that defines it
    auto body = parse_block({"endmacro"}, nullptr);
    loop_depth_ = loops_outside;
    if (!body) return body.error();
    macro->body = std::move(*body);
    return Statement{MacroStatement{std::move(macro)}, line};
  }

  // `name`, `a, b` (for `for` also `(a, b)`), or with `set` `namespace.attribute`.
  Result<AssignTarget> parse_assign_target(bool allow_namespace, bool before_in) {
    AssignTarget target;
    if (allow_namespace && current().kind == TokenKind::kName && peek().kind == TokenKind::kOperator &&
        peek().text == ".") {
      target.names.push_back(current().text);
      advance();
      advance();
      auto attribute = expect_name();
      if (!attribute) return attribute.error();
      target.attribute = *attribute;
      return target;
    }
    const bool parenthesized = before_in && skip_operator("(");
    while (true) {
      if (current().kind != TokenKind::kName) return fail("can't assign to " + describe(current()));
      const std::string& name = current().text;
      if (name == "true" || name == "false" || name == "True" || name == "False" || name == "none" || name == "None") {
        return fail("can't assign to " + describe(current()));
      }
      target.names.push_back(name);
      advance();
      if (!skip_operator(",")) break;
      target.unpack = true;
      if ((before_in && is_name("in")) || is_operator(")") || current().kind == TokenKind::kStatementEnd) break;
    }
    if (parenthesized) {
      if (auto closed = expect_operator(")"); !closed) return closed.error();
    }
    return target;
  }

  // Expressions separated by commas make a tuple; one alone is itself.
  Result<ExpressionPtr> parse_tuple(bool with_conditional, bool parenthesized,
                                    std::vector<std::string_view> extra_end_names) {
    const int line = current().line;
    std::vector<ExpressionPtr> items;
    bool tuple = false;
    while (true) {
      if (!items.empty()) {
        if (auto comma = expect_operator(","); !comma) return comma.error();
      }
      const bool ended =
          current().kind == TokenKind::kPrintEnd || current().kind == TokenKind::kStatementEnd || is_operator(")") ||
          (current().kind == TokenKind::kName &&
           std::find(extra_end_names.begin(), extra_end_names.end(), current().text) != extra_end_names.end());
      if (ended) break;
      auto item = parse_expression(with_conditional);
      if (!item) return item;
      items.push_back(std::move(*item));
      if (!is_operator(",")) break;
      tuple = true;
    }
    if (!tuple) {
      if (!items.empty()) return std::move(items.front());
      if (!parenthesized) return fail("expected an expression, got " + describe(current()));
    }
    return make(ListExpr{std::move(items), true}, line);
  }

  Result<ExpressionPtr> parse_expression(bool with_conditional) {
    if (!with_conditional) return parse_or();
    const int line = current().line;
    auto value = parse_or();
    if (!value) return value;
    ExpressionPtr expression = std::move(*value);
    while (skip_name("if")) {
      auto condition = parse_or();
      if (!condition) return condition;
      ExpressionPtr otherwise;
      if (skip_name("else")) {
        auto parsed = parse_expression(true);
        if (!parsed) return parsed;
        otherwise = std::move(*parsed);
      }
      expression = make(ConditionalExpr{std::move(expression), std::move(*condition), std::move(otherwise)}, line);
    }
    return expression;
  }

  template <class ParseOperand>
  Result<ExpressionPtr> parse_logical(std::string_view keyword, LogicalOp op, ParseOperand parse_operand) {
    const int line = current().line;
    auto left = (this->*parse_operand)();
    if (!left) return left;
    ExpressionPtr expression = std::move(*left);
    while (skip_name(keyword)) {
      auto right = (this->*parse_operand)();
      if (!right) return right;
      expression = make(LogicalExpr{op, std::move(expression), std::move(*right)}, line);
    }
    return expression;
  }

  Result<ExpressionPtr> parse_or() { return parse_logical("or", LogicalOp::kOr, &Parser::parse_and); }
  Result<ExpressionPtr> parse_and() { return parse_logical("and", LogicalOp::kAnd, &Parser::parse_not); }

  Result<ExpressionPtr> parse_not() {
    if (!is_name("not")) return parse_compare();
    const int line = current().line;
    advance();
    Nested nested(depth_);
    if (depth_ > kMaxNesting) return fail("expression nested too deeply");
    auto operand = parse_not();
    if (!operand) return operand;
    return make(NotExpr{std::move(*operand)}, line);
  }

  std::optional<CompareOp> comparison() {
    static const std::pair<std::string_view, CompareOp> kOperators[] = {
        {"==", CompareOp::kEqual},     {"!=", CompareOp::kNotEqual}, {"<", CompareOp::kLess},
        {"<=", CompareOp::kLessEqual}, {">", CompareOp::kGreater},   {">=", CompareOp::kGreaterEqual}};
    for (const auto& [spelling, op] : kOperators) {
      if (skip_operator(spelling)) return op;
    }
    if (skip_name("in")) return CompareOp::kIn;
    if (is_name("not") && peek().kind == TokenKind::kName && peek().text == "in") {
      advance();
      advance();
      return CompareOp::kNotIn;
    }
    return std::nullopt;
  }

  Result<ExpressionPtr> parse_compare() {
    const int line = current().line;
    auto first = parse_sum();
    if (!first) return first;
    CompareExpr compare{std::move(*first), {}};
    while (auto op = comparison()) {
      auto operand = parse_sum();
      if (!operand) return operand;
      compare.rest.emplace_back(*op, std::move(*operand));
    }
    if (compare.rest.empty()) return std::move(compare.first);
    return make(std::move(compare), line);
  }

  // Left-associative binary operators of one precedence level.
  template <class ParseOperand>
  Result<ExpressionPtr> parse_arithmetic(std::vector<std::pair<std::string_view, ArithmeticOp>> operators,
                                         ParseOperand parse_operand) {
    const int line = current().line;
    auto left = (this->*parse_operand)();
    if (!left) return left;
    ExpressionPtr expression = std::move(*left);
    while (true) {
      const auto found =
          std::find_if(operators.begin(), operators.end(), [&](const auto& entry) { return is_operator(entry.first); });
      if (found == operators.end()) return expression;
      advance();
      auto right = (this->*parse_operand)();
      if (!right) return right;
      expression = make(ArithmeticExpr{found->second, std::move(expression), std::move(*right)}, line);
    }
  }

  Result<ExpressionPtr> parse_sum() {
    return parse_arithmetic({{"+", ArithmeticOp::kAdd}, {"-", ArithmeticOp::kSubtract}}, &Parser::parse_concat);
  }

  Result<ExpressionPtr> parse_concat() {
    const int line = current().line;
    auto first = parse_product();
    if (!first) return first;
    if (!is_operator("~")) return first;
    ConcatExpr concat;
    concat.parts.push_back(std::move(*first));
    while (skip_operator("~")) {
      auto part = parse_product();
      if (!part) return part;
      concat.parts.push_back(std::move(*part));
    }
    return make(std::move(concat), line);
  }

  Result<ExpressionPtr> parse_product() {
    return parse_arithmetic({{"*", ArithmeticOp::kMultiply},
                             {"/", ArithmeticOp::kDivide},
                             {"//", ArithmeticOp::kFloorDivide},
                             {"%", ArithmeticOp::kModulo}},
                            &Parser::parse_power);
  }

  Result<ExpressionPtr> parse_power() {
    return parse_arithmetic({{"**", ArithmeticOp::kPower}}, &Parser::parse_filtered_unary);
  }

  Result<ExpressionPtr> parse_filtered_unary() { return parse_unary(true); }

  // -x and +x apply before filters: `-x | abs` is abs(-x).
  Result<ExpressionPtr> parse_unary(bool with_filters) {
    Nested nested(depth_);
    if (depth_ > kMaxNesting) return fail("expression nested too deeply");
    auto operand = parse_signed_or_primary();
    if (!operand) return operand;
    auto postfixed = parse_postfix(std::move(*operand));
    if (!postfixed || !with_filters) return postfixed;
    return parse_filters_and_tests(std::move(*postfixed));
  }

  Result<ExpressionPtr> parse_signed_or_primary() {
    if (!is_operator("-") && !is_operator("+")) return parse_primary();
    const int line = current().line;
    const bool negate = is_operator("-");
    advance();
    auto operand = parse_unary(false);
    if (!operand) return operand;
    return make(SignExpr{negate, std::move(*operand)}, line);
  }

  Result<ExpressionPtr> parse_primary() {
    const Token& token = current();
    const int line = token.line;
    switch (token.kind) {
      case TokenKind::kName: {
        advance();
        if (token.text == "true" || token.text == "True") return make(LiteralExpr{Value(true)}, line);
        if (token.text == "false" || token.text == "False") return make(LiteralExpr{Value(false)}, line);
        if (token.text == "none" || token.text == "None") return make(LiteralExpr{Value(nullptr)}, line);
        return make(NameExpr{token.text}, line);
      }
      case TokenKind::kString: {
        std::string text;
        while (current().kind == TokenKind::kString) {  // adjacent literals join, as in Python
          text += current().text;
          advance();
        }
        return make(LiteralExpr{Value(std::move(text))}, line);
      }
      case TokenKind::kInteger:
        advance();
        return make(LiteralExpr{Value(token.integer)}, line);
      case TokenKind::kFloat:
        advance();
        return make(LiteralExpr{Value(token.number)}, line);
      default:
        break;
    }
    if (skip_operator("(")) {
      auto inner = parse_tuple(true, true, {});
      if (!inner) return inner;
      if (auto closed = expect_operator(")"); !closed) return closed.error();
      return inner;
    }
    if (skip_operator("[")) {
      ListExpr list;
      while (!is_operator("]")) {
        if (!list.items.empty()) {
          if (auto comma = expect_operator(","); !comma) return comma.error();
          if (is_operator("]")) break;
        }
        auto item = parse_expression(true);
        if (!item) return item;
        list.items.push_back(std::move(*item));
      }
      advance();
      return make(std::move(list), line);
    }
    if (skip_operator("{")) {
      DictExpr dict;
      while (!is_operator("}")) {
        if (!dict.entries.empty()) {
          if (auto comma = expect_operator(","); !comma) return comma.error();
          if (is_operator("}")) break;
        }
        auto key = parse_expression(true);
        if (!key) return key;
        if (auto colon = expect_operator(":"); !colon) return colon.error();
        auto value = parse_expression(true);
        if (!value) return value;
        dict.entries.emplace_back(std::move(*key), std::move(*value));
      }
      advance();
      return make(std::move(dict), line);
    }
    return fail("unexpected " + describe(token));
  }

  Result<ExpressionPtr> parse_postfix(ExpressionPtr expression) {
    while (is_operator(".") || is_operator("[") || is_operator("(")) {
      auto next = is_operator("(") ? parse_call(std::move(expression)) : parse_subscript(std::move(expression));
      if (!next) return next;
      expression = std::move(*next);
    }
    return expression;
  }

  Result<ExpressionPtr> parse_filters_and_tests(ExpressionPtr expression) {
    while (is_operator("|") || is_name("is") || is_operator("(")) {
      auto next = is_operator("|") ? parse_filter(std::move(expression))
                  : is_name("is")  ? parse_test(std::move(expression))
                                   : parse_call(std::move(expression));
      if (!next) return next;
      expression = std::move(*next);
    }
    return expression;
  }

  Result<ExpressionPtr> parse_filter(ExpressionPtr input) {
    const int line = current().line;
    advance();  // '|'
    auto step = parse_filter_step();
    if (!step) return step.error();
    return make(FilterExpr{std::move(input), std::move(step->name), std::move(step->arguments)}, line);
  }

  Result<ExpressionPtr> parse_subscript(ExpressionPtr object) {
    const int line = current().line;
    if (skip_operator(".")) {
      const Token& token = current();
      if (token.kind == TokenKind::kName) {
        advance();
        return make(AttributeExpr{std::move(object), token.text}, line);
      }
      if (token.kind == TokenKind::kInteger) {
        advance();
        return make(ItemExpr{std::move(object), make(LiteralExpr{Value(token.integer)}, line)}, line);
      }
      return fail("expected a name or a number after '.', got " + describe(token));
    }
    advance();                           // '['
    std::array<ExpressionPtr, 3> parts;  // the key, or a slice's start, stop and step
    size_t colons = 0;
    while (!is_operator("]")) {
      if (is_operator(":")) {
        if (++colons > 2) return fail("a slice takes at most two ':'");
        advance();
        continue;
      }
      if (parts[colons]) return fail("expected ':' or ']', got " + describe(current()));
      auto part = parse_expression(true);
      if (!part) return part;
      parts[colons] = std::move(*part);
    }
    advance();  // ']'
    if (colons > 0) {
      return make(SliceExpr{std::move(object), std::move(parts[0]), std::move(parts[1]), std::move(parts[2])}, line);
    }
    if (!parts[0]) return fail("expected a subscript, got ']'");
    return make(ItemExpr{std::move(object), std::move(parts[0])}, line);
  }

  Result<ArgumentList> parse_arguments() {
    ArgumentList arguments;
    advance();  // '('
    bool first = true;
    while (!is_operator(")")) {
      if (!first) {
        if (auto comma = expect_operator(","); !comma) return comma.error();
        if (is_operator(")")) break;
      }
      first = false;
      if (is_operator("*") || is_operator("**")) return fail("*args and **kwargs in calls are not supported");
      if (current().kind == TokenKind::kName && peek().kind == TokenKind::kOperator && peek().text == "=") {
        std::string keyword = current().text;
        advance();
        advance();
        auto value = parse_expression(true);
        if (!value) return value.error();
        arguments.keyword.emplace_back(std::move(keyword), std::move(*value));
        continue;
      }
      if (!arguments.keyword.empty()) return fail("a positional argument follows a keyword argument");
      auto value = parse_expression(true);
      if (!value) return value.error();
      arguments.positional.push_back(std::move(*value));
    }
    advance();  // ')'
    return arguments;
  }

  Result<ExpressionPtr> parse_call(ExpressionPtr callee) {
    const int line = current().line;
    if (const auto* name = std::get_if<NameExpr>(&callee->node)) {
      called_names_.emplace_back(name->name, line);
    } else if (const auto* attribute = std::get_if<AttributeExpr>(&callee->node);
               attribute && !is_method_name(attribute->name)) {
      return fail("the method '" + attribute->name + "' is not supported");
    }
    auto arguments = parse_arguments();
    if (!arguments) return arguments.error();
    return make(CallExpr{std::move(callee), std::move(*arguments)}, line);
  }

  // A filter's name and arguments, after its '|'.
  Result<FilterStep> parse_filter_step() {
    auto name = expect_name();
    if (!name) return name.error();
    if (!is_filter_name(*name)) return fail("no filter named '" + *name + "'");
    FilterStep step{*name, {}};
    if (is_operator("(")) {
      auto arguments = parse_arguments();
      if (!arguments) return arguments.error();
      step.arguments = std::move(*arguments);
    }
    return step;
  }

  Result<ExpressionPtr> parse_test(ExpressionPtr input) {
    const int line = current().line;
    advance();  // 'is'
    const bool negated = skip_name("not");
    auto name = expect_name();
    if (!name) return name.error();
    if (!is_test_name(*name)) return fail("no test named '" + *name + "'");
    TestExpr test{std::move(input), *name, {}, negated};
    const TokenKind kind = current().kind;
    const bool argument_follows = kind == TokenKind::kString || kind == TokenKind::kInteger ||
                                  kind == TokenKind::kFloat || is_operator("[") || is_operator("{") ||
                                  (kind == TokenKind::kName && !is_name("else") && !is_name("or") && !is_name("and"));
    if (is_operator("(")) {
      auto arguments = parse_arguments();
      if (!arguments) return arguments.error();
      test.arguments = std::move(*arguments);
    } else if (argument_follows) {  // `x is divisibleby 3`, `x is sameas false`
      if (is_name("is")) return fail("tests cannot be chained with 'is'");
      auto argument = parse_primary();
      if (!argument) return argument;
      auto postfixed = parse_postfix(std::move(*argument));
      if (!postfixed) return postfixed;
      test.arguments.positional.push_back(std::move(*postfixed));
    }
    return make(std::move(test), line);
  }

  const std::vector<Token>& tokens_;
  size_t at_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<std::pair<std::string, int>> called_names_;
  std::set<std::string> macro_names_;
};

}  // namespace

Result<Body> parse_template(const std::vector<Token>& tokens) { return Parser(tokens).run(); }

}  // namespace tpustack::inferd::jinja
