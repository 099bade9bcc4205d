#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "inferd/jinja/operators.h"
#include "inferd/jinja/value.h"

// A parsed template: expressions and statements, each with the line it starts on for error messages.
namespace tpustack::inferd::jinja {

struct Expression;
using ExpressionPtr = std::unique_ptr<const Expression>;

struct ArgumentList {
  std::vector<ExpressionPtr> positional;
  std::vector<std::pair<std::string, ExpressionPtr>> keyword;
};

struct LiteralExpr {
  Value value;
};
struct NameExpr {
  std::string name;
};
struct ListExpr {  // [a, b] or (a, b)
  std::vector<ExpressionPtr> items;
  bool tuple = false;
};
struct DictExpr {
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> entries;
};
struct AttributeExpr {  // object.name
  ExpressionPtr object;
  std::string name;
};
struct ItemExpr {  // object[key]
  ExpressionPtr object;
  ExpressionPtr key;
};
struct SliceExpr {  // object[start:stop:step], each part optional
  ExpressionPtr object;
  ExpressionPtr start, stop, step;
};
struct CallExpr {
  ExpressionPtr callee;
  ArgumentList arguments;
};
struct FilterExpr {  // input | name(arguments)
  ExpressionPtr input;
  std::string name;
  ArgumentList arguments;
};
struct TestExpr {  // input is [not] name(arguments)
  ExpressionPtr input;
  std::string name;
  ArgumentList arguments;
  bool negated = false;
};
enum class LogicalOp { kAnd, kOr };
struct LogicalExpr {
  LogicalOp op;
  ExpressionPtr left, right;
};
struct NotExpr {
  ExpressionPtr operand;
};
struct SignExpr {  // -x or +x
  bool negate;
  ExpressionPtr operand;
};
struct ArithmeticExpr {
  ArithmeticOp op;
  ExpressionPtr left, right;
};
struct ConcatExpr {  // a ~ b ~ c
  std::vector<ExpressionPtr> parts;
};
enum class CompareOp { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual, kIn, kNotIn };
struct CompareExpr {  // a < b <= c, chained as Python chains it
  ExpressionPtr first;
  std::vector<std::pair<CompareOp, ExpressionPtr>> rest;
};
struct ConditionalExpr {  // then if condition else otherwise; without else, undefined
  ExpressionPtr then, condition, otherwise;
};

struct Expression {
  std::variant<LiteralExpr, NameExpr, ListExpr, DictExpr, AttributeExpr, ItemExpr, SliceExpr, CallExpr, FilterExpr,
               TestExpr, LogicalExpr, NotExpr, SignExpr, ArithmeticExpr, ConcatExpr, CompareExpr, ConditionalExpr>
      node;
  int line = 1;
};

struct Statement;
using Body = std::vector<Statement>;

// What `set` and `for` assign to: one name, several unpacked from a sequence, or an attribute of a namespace.
struct AssignTarget {
  std::vector<std::string> names;
  bool unpack = false;                   // `a, b = ...`, even with one name (`a, = ...`)
  std::optional<std::string> attribute;  // `ns.attribute = ...`: names holds the namespace's name
};

struct TextStatement {
  std::string text;
};
struct PrintStatement {  // {{ value }}
  ExpressionPtr value;
};
struct IfStatement {
  std::vector<std::pair<ExpressionPtr, Body>> branches;  // if, then each elif
  Body otherwise;
};
struct ForStatement {
  AssignTarget target;
  ExpressionPtr iterable;
  ExpressionPtr condition;  // `for x in xs if condition`, or null
  Body body;
  Body otherwise;  // when no item passed
};
struct SetStatement {
  AssignTarget target;
  ExpressionPtr value;
};
struct FilterStep {
  std::string name;
  ArgumentList arguments;
};
struct SetBlockStatement {  // {% set x | filters %}body{% endset %}
  AssignTarget target;
  std::vector<FilterStep> filters;
  Body body;
};
struct MacroParameter {
  std::string name;
  ExpressionPtr fallback;  // null: undefined when the caller passes none
};
struct Macro {
  std::string name;
  std::vector<MacroParameter> parameters;
  Body body;
};
struct MacroStatement {
  std::shared_ptr<const Macro> macro;
};
struct BreakStatement {};
struct ContinueStatement {};
struct ScopedStatement {  // {% generation %}body{% endgeneration %}: rendered as is, its assignments kept inside
  Body body;
};

struct Statement {
  std::variant<TextStatement, PrintStatement, IfStatement, ForStatement, SetStatement, SetBlockStatement,
               MacroStatement, BreakStatement, ContinueStatement, ScopedStatement>
      node;
  int line = 1;
};

}  // namespace tpustack::inferd::jinja
