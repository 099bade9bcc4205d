#include "inferd/jinja/renderer.h"

#include <algorithm>
#include <array>
#include <memory>

#include "inferd/jinja/filters.h"
#include "inferd/jinja/globals.h"
#include "inferd/jinja/is_tests.h"
#include "inferd/jinja/lookup.h"
#include "inferd/jinja/python_text.h"

namespace tpustack::inferd::jinja {

namespace {

// Macro calls within macro calls beyond this are refused (Python's own recursion limit stops jinja2 near here).
constexpr int kMaxCallDepth = 100;
// A chat template renders a long conversation in some ten thousand statements and expressions; one that runs this
// many is looping without end (range loops inside range loops), and one whose output or a string of it passes
// this size is doubling text: an Error instead of a hang or exhausted memory.
constexpr uint64_t kMaxSteps = 2'000'000;
constexpr size_t kMaxText = size_t{1} << 26;

// Variables of the template, a loop iteration, a macro call or a generation block; a name not found here is
// looked up in the enclosing scope.
struct Scope {
  Mapping variables;
  std::shared_ptr<Scope> parent;

  const Value* find(std::string_view name) const {
    for (const Scope* scope = this; scope != nullptr; scope = scope->parent.get()) {
      if (const Value* found = scope->variables.find(name)) return found;
    }
    return nullptr;
  }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_of(const ScopePtr& parent) { return std::make_shared<Scope>(Scope{{}, parent}); }

enum class Flow { kNext, kBreak, kContinue };

// loop.index, loop.first, loop.previtem... for item `index` of `items`.
Value loop_variable(const std::vector<Value>& items, size_t index) {
  const auto length = static_cast<int64_t>(items.size());
  const auto at = static_cast<int64_t>(index);
  Mapping loop;
  loop.entries = {{"index", at + 1},
                  {"index0", at},
                  {"revindex", length - at},
                  {"revindex0", length - at - 1},
                  {"first", index == 0},
                  {"last", at == length - 1},
                  {"length", length},
                  {"depth", 1},
                  {"depth0", 0}};
  if (index > 0) loop.entries.emplace_back("previtem", items[index - 1]);
  if (at + 1 < length) loop.entries.emplace_back("nextitem", items[index + 1]);
  return loop;
}

Result<bool> compare(CompareOp op, const Value& left, const Value& right) {
  switch (op) {
    case CompareOp::kEqual:
      return equals(left, right);
    case CompareOp::kNotEqual:
      return !equals(left, right);
    case CompareOp::kIn:
      return contains(right, left);
    case CompareOp::kNotIn: {
      auto in = contains(right, left);
      if (!in) return in;
      return !*in;
    }
    default:
      break;
  }
  const bool greater = op == CompareOp::kGreater || op == CompareOp::kGreaterEqual;
  auto strictly = greater ? less(right, left) : less(left, right);
  if (!strictly) return strictly;
  const bool or_equal = op == CompareOp::kLessEqual || op == CompareOp::kGreaterEqual;
  return *strictly || (or_equal && equals(left, right));
}

class Renderer {
 public:
  explicit Renderer(const std::tm& now) { environment_.now = now; }

  Result<std::string> render(const Body& body, Mapping variables) {
    const auto root = std::make_shared<Scope>(Scope{std::move(variables), nullptr});
    std::string out;
    auto flow = execute(body, root, out);
    if (flow) return out;
    if (environment_.exception_raised) return flow.error();
    return Error{"line " + std::to_string(error_line_) + ": " + flow.error().message};
  }

 private:
  // The line of the innermost statement or expression that failed, for the error message.
  template <class T>
  Result<T> located(Result<T> result, int line) {
    if (!result && error_line_ == 0) error_line_ = line;
    return result;
  }

  Result<Flow> execute(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const Statement& statement : body) {
      auto flow = located(execute(statement, scope, out), statement.line);
      if (!flow || *flow != Flow::kNext) return flow;
    }
    return Flow::kNext;
  }

  Result<Flow> execute(const Statement& statement, const ScopePtr& scope, std::string& out) {
    if (auto within = within_budget(out.size()); !within) return within.error();
    return std::visit([&](const auto& node) { return execute_node(node, scope, out); }, statement.node);
  }

  Result<void> within_budget(size_t text_bytes) {
    if (++steps_ > kMaxSteps) {
      return Error{"the template ran more than " + std::to_string(kMaxSteps) + " statements and expressions"};
    }
    if (text_bytes > kMaxText) return Error{"the template's text passed " + std::to_string(kMaxText) + " bytes"};
    return {};
  }

  Result<Flow> execute_node(const TextStatement& node, const ScopePtr&, std::string& out) {
    out += node.text;
    return Flow::kNext;
  }

  Result<Flow> execute_node(const PrintStatement& node, const ScopePtr& scope, std::string& out) {
    auto value = evaluate(*node.value, scope);
    if (!value) return value.error();
    out += python_str(*value);
    return Flow::kNext;
  }

  Result<Flow> execute_node(const IfStatement& node, const ScopePtr& scope, std::string& out) {
    for (const auto& [condition, body] : node.branches) {
      auto value = evaluate(*condition, scope);
      if (!value) return value.error();
      if (truthy(*value)) return execute(body, scope, out);
    }
    return execute(node.otherwise, scope, out);
  }

  Result<Flow> execute_node(const ForStatement& node, const ScopePtr& scope, std::string& out) {
    auto iterable = evaluate(*node.iterable, scope);
    if (!iterable) return iterable.error();
    auto items = iterate(*iterable);
    if (!items) return items.error();
    if (node.condition) {  // `for x in xs if cond`: the loop counts only the items that pass
      std::vector<Value> passing;
      for (const Value& item : *items) {
        const ScopePtr iteration = child_of(scope);
        if (auto assigned = assign(node.target, item, iteration); !assigned) return assigned.error();
        auto keep = evaluate(*node.condition, iteration);
        if (!keep) return keep.error();
        if (truthy(*keep)) passing.push_back(item);
      }
      *items = std::move(passing);
    }
    if (items->empty()) return execute(node.otherwise, child_of(scope), out);
    for (size_t i = 0; i < items->size(); ++i) {
      if (auto within = within_budget(out.size()); !within) return within.error();  // an empty body counts too
      const ScopePtr iteration = child_of(scope);
      if (auto assigned = assign(node.target, (*items)[i], iteration); !assigned) return assigned.error();
      iteration->variables.set("loop", loop_variable(*items, i));
      auto flow = execute(node.body, iteration, out);
      if (!flow) return flow;
      if (*flow == Flow::kBreak) break;
    }
    return Flow::kNext;
  }

  Result<Flow> execute_node(const SetStatement& node, const ScopePtr& scope, std::string&) {
    auto value = evaluate(*node.value, scope);
    if (!value) return value.error();
    if (auto assigned = assign(node.target, *value, scope); !assigned) return assigned.error();
    return Flow::kNext;
  }

  Result<Flow> execute_node(const SetBlockStatement& node, const ScopePtr& scope, std::string&) {
    std::string captured;
    if (auto flow = execute(node.body, scope, captured); !flow) return flow;
    Value value(std::move(captured));
    for (const FilterStep& step : node.filters) {
      auto filtered = apply_filter_step(step, value, scope);
      if (!filtered) return filtered.error();
      value = std::move(*filtered);
    }
    if (auto assigned = assign(node.target, value, scope); !assigned) return assigned.error();
    return Flow::kNext;
  }

  Result<Flow> execute_node(const MacroStatement& node, const ScopePtr& scope, std::string&) {
    // The macro sees the variables of the scope it is defined in, as they are when it is called. It holds that
    // scope weakly: the scope holds the macro.
    std::weak_ptr<Scope> defined_in = scope;
    std::shared_ptr<const Macro> macro = node.macro;
    scope->variables.set(macro->name, Callable{macro->name, [this, defined_in, macro](const CallArguments& arguments) {
                                                 return call_macro(*macro, defined_in.lock(), arguments);
                                               }});
    return Flow::kNext;
  }

  Result<Flow> execute_node(const BreakStatement&, const ScopePtr&, std::string&) { return Flow::kBreak; }
  Result<Flow> execute_node(const ContinueStatement&, const ScopePtr&, std::string&) { return Flow::kContinue; }

  Result<Flow> execute_node(const ScopedStatement& node, const ScopePtr& scope, std::string& out) {
    return execute(node.body, child_of(scope), out);
  }

  Result<Value> call_macro(const Macro& macro, const ScopePtr& defined_in, const CallArguments& arguments) {
    if (!defined_in) return Error{"macro '" + macro.name + "' was called after the block that defined it ended"};
    if (call_depth_ >= kMaxCallDepth) {
      return Error{"macro calls nested deeper than " + std::to_string(kMaxCallDepth) + " (endless recursion?)"};
    }
    if (arguments.positional.size() > macro.parameters.size()) {
      return Error{"macro '" + macro.name + "' takes not more than " + std::to_string(macro.parameters.size()) +
                   " argument(s)"};
    }
    const ScopePtr call = child_of(defined_in);
    for (size_t i = 0; i < macro.parameters.size(); ++i) {
      const MacroParameter& parameter = macro.parameters[i];
      std::optional<Value> given;
      if (i < arguments.positional.size()) given = arguments.positional[i];
      for (const auto& [keyword, value] : arguments.keyword) {
        if (keyword == parameter.name) given = value;
      }
      if (!given && parameter.fallback) {  // defaults see the parameters before them
        auto fallback = evaluate(*parameter.fallback, call);
        if (!fallback) return fallback.error();
        given = std::move(*fallback);
      }
      call->variables.set(parameter.name, given ? *given : Value(Undefined{"'" + parameter.name + "' is undefined"}));
    }
    for (const auto& keyword : arguments.keyword) {
      const bool known = std::any_of(macro.parameters.begin(), macro.parameters.end(),
                                     [&](const MacroParameter& parameter) { return parameter.name == keyword.first; });
      if (!known) return Error{"macro '" + macro.name + "' takes no keyword argument '" + keyword.first + "'"};
    }
    ++call_depth_;
    std::string out;
    auto flow = execute(macro.body, call, out);
    --call_depth_;
    if (!flow) return flow.error();
    return Value(out);
  }

  // `set` and `for` targets: a name, names unpacked from an iterable, or a namespace's attribute.
  Result<void> assign(const AssignTarget& target, const Value& value, const ScopePtr& scope) {
    if (target.attribute) {
      const Value* found = scope->find(target.names.front());
      const auto* ns = found ? found->get_if<Value::NamespacePtr>() : nullptr;
      if (!ns) return Error{"cannot assign attribute on non-namespace object '" + target.names.front() + "'"};
      (*ns)->attributes.set(*target.attribute, value);
      return {};
    }
    if (!target.unpack) {
      scope->variables.set(target.names.front(), value);
      return {};
    }
    auto items = iterate(value);
    if (!items) return Error{"cannot unpack non-iterable " + type_name(value) + " object"};
    const size_t expected = target.names.size();
    if (items->size() > expected) return Error{"too many values to unpack (expected " + std::to_string(expected) + ")"};
    if (items->size() < expected) {
      return Error{"not enough values to unpack (expected " + std::to_string(expected) + ", got " +
                   std::to_string(items->size()) + ")"};
    }
    for (size_t i = 0; i < expected; ++i) scope->variables.set(target.names[i], (*items)[i]);
    return {};
  }

  Result<Value> evaluate(const Expression& expression, const ScopePtr& scope) {
    if (auto within = within_budget(0); !within) return located(Result<Value>(within.error()), expression.line);
    return located(std::visit([&](const auto& node) { return evaluate_node(node, scope); }, expression.node),
                   expression.line);
  }

  Result<CallArguments> evaluate_arguments(const ArgumentList& list, const ScopePtr& scope) {
    CallArguments arguments;
    for (const ExpressionPtr& expression : list.positional) {
      auto value = evaluate(*expression, scope);
      if (!value) return value.error();
      arguments.positional.push_back(std::move(*value));
    }
    for (const auto& [keyword, expression] : list.keyword) {
      auto value = evaluate(*expression, scope);
      if (!value) return value.error();
      arguments.keyword.emplace_back(keyword, std::move(*value));
    }
    return arguments;
  }

  Result<Value> apply_filter_step(const FilterStep& step, const Value& input, const ScopePtr& scope) {
    auto arguments = evaluate_arguments(step.arguments, scope);
    if (!arguments) return arguments.error();
    return apply_filter(step.name, input, *arguments);
  }

  Result<Value> evaluate_node(const LiteralExpr& node, const ScopePtr&) { return node.value; }

  Result<Value> evaluate_node(const NameExpr& node, const ScopePtr& scope) {
    if (const Value* found = scope->find(node.name)) return *found;
    if (auto function = global_function(node.name, environment_)) return *function;
    return Value(Undefined{"'" + node.name + "' is undefined"});
  }

  Result<Value> evaluate_node(const ListExpr& node, const ScopePtr& scope) {
    std::vector<Value> items;
    for (const ExpressionPtr& item : node.items) {
      auto value = evaluate(*item, scope);
      if (!value) return value;
      items.push_back(std::move(*value));
    }
    return Value::list(std::move(items), node.tuple ? Sequence::Kind::kTuple : Sequence::Kind::kList);
  }

  Result<Value> evaluate_node(const DictExpr& node, const ScopePtr& scope) {
    Mapping mapping;
    for (const auto& [key_expression, value_expression] : node.entries) {
      auto key = evaluate(*key_expression, scope);
      if (!key) return key;
      if (!key->is_string()) return Error{"dict keys must be strings here, not " + type_name(*key)};
      auto value = evaluate(*value_expression, scope);
      if (!value) return value;
      mapping.set(*key->string(), std::move(*value));
    }
    return Value(mapping);
  }

  Result<Value> evaluate_node(const AttributeExpr& node, const ScopePtr& scope) {
    auto object = evaluate(*node.object, scope);
    if (!object) return object;
    return attribute_of(*object, node.name);
  }

  Result<Value> evaluate_node(const ItemExpr& node, const ScopePtr& scope) {
    auto object = evaluate(*node.object, scope);
    if (!object) return object;
    auto key = evaluate(*node.key, scope);
    if (!key) return key;
    return item_of(*object, *key);
  }

  Result<Value> evaluate_node(const SliceExpr& node, const ScopePtr& scope) {
    auto object = evaluate(*node.object, scope);
    if (!object) return object;
    std::array<std::optional<int64_t>, 3> bounds;
    const std::array<const ExpressionPtr*, 3> parts = {&node.start, &node.stop, &node.step};
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!*parts[i]) continue;
      auto bound = evaluate(**parts[i], scope);
      if (!bound) return bound;
      if (bound->is_none()) continue;
      bounds[i] = bound->integer();
      if (!bounds[i]) return Error{"slice indices must be integers or None, not " + type_name(*bound)};
    }
    return slice_of(*object, bounds[0], bounds[1], bounds[2]);
  }

  Result<Value> evaluate_node(const CallExpr& node, const ScopePtr& scope) {
    auto callee = evaluate(*node.callee, scope);
    if (!callee) return callee;
    auto arguments = evaluate_arguments(node.arguments, scope);
    if (!arguments) return arguments.error();
    if (const auto* function = callee->get_if<Value::CallablePtr>()) return (*function)->call(*arguments);
    if (callee->is_undefined()) return undefined_error(*callee);
    return Error{"'" + type_name(*callee) + "' object is not callable"};
  }

  Result<Value> evaluate_node(const FilterExpr& node, const ScopePtr& scope) {
    auto input = evaluate(*node.input, scope);
    if (!input) return input;
    auto arguments = evaluate_arguments(node.arguments, scope);
    if (!arguments) return arguments.error();
    return apply_filter(node.name, *input, *arguments);
  }

  Result<Value> evaluate_node(const TestExpr& node, const ScopePtr& scope) {
    auto input = evaluate(*node.input, scope);
    if (!input) return input;
    auto arguments = evaluate_arguments(node.arguments, scope);
    if (!arguments) return arguments.error();
    auto passed = apply_test(node.name, *input, *arguments);
    if (!passed) return passed.error();
    return Value(*passed != node.negated);
  }

  Result<Value> evaluate_node(const LogicalExpr& node, const ScopePtr& scope) {
    auto left = evaluate(*node.left, scope);
    if (!left) return left;
    // Python's `and`/`or` give an operand, not a bool, and skip the right one when the left decides.
    if (truthy(*left) == (node.op == LogicalOp::kOr)) return left;
    return evaluate(*node.right, scope);
  }

  Result<Value> evaluate_node(const NotExpr& node, const ScopePtr& scope) {
    auto operand = evaluate(*node.operand, scope);
    if (!operand) return operand;
    return Value(!truthy(*operand));
  }

  Result<Value> evaluate_node(const SignExpr& node, const ScopePtr& scope) {
    auto operand = evaluate(*node.operand, scope);
    if (!operand) return operand;
    return unary_sign(*operand, node.negate);
  }

  Result<Value> evaluate_node(const ArithmeticExpr& node, const ScopePtr& scope) {
    auto left = evaluate(*node.left, scope);
    if (!left) return left;
    auto right = evaluate(*node.right, scope);
    if (!right) return right;
    return arithmetic(node.op, *left, *right);
  }

  Result<Value> evaluate_node(const ConcatExpr& node, const ScopePtr& scope) {
    std::string out;
    for (const ExpressionPtr& part : node.parts) {
      auto value = evaluate(*part, scope);
      if (!value) return value;
      out += python_str(*value);
      if (auto within = within_budget(out.size()); !within) return within.error();
    }
    return Value(out);
  }

  Result<Value> evaluate_node(const CompareExpr& node, const ScopePtr& scope) {
    auto left = evaluate(*node.first, scope);
    if (!left) return left;
    for (const auto& [op, operand] : node.rest) {
      auto right = evaluate(*operand, scope);
      if (!right) return right;
      auto holds = compare(op, *left, *right);
      if (!holds) return holds.error();
      if (!*holds) return Value(false);
      left = std::move(right);
    }
    return Value(true);
  }

  Result<Value> evaluate_node(const ConditionalExpr& node, const ScopePtr& scope) {
    auto condition = evaluate(*node.condition, scope);
    if (!condition) return condition;
    if (truthy(*condition)) return evaluate(*node.then, scope);
    if (node.otherwise) return evaluate(*node.otherwise, scope);
    return Value(Undefined{"the inline if-expression evaluated to false and has no else"});
  }

  RenderEnvironment environment_;
  int error_line_ = 0;
  int call_depth_ = 0;
  uint64_t steps_ = 0;
};

}  // namespace

Result<std::string> render_template(const Body& body, Mapping variables, const std::tm& now) {
  return Renderer(now).render(body, std::move(variables));
}

}  // namespace tpustack::inferd::jinja
