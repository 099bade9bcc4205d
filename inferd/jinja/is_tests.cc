#include "inferd/jinja/is_tests.h"

#include <algorithm>
#include <array>

#include "inferd/jinja/arguments.h"
#include "inferd/jinja/operators.h"

namespace tpustack::inferd::jinja {

namespace {

// Tests of the value alone, and tests that compare it with one argument.
constexpr std::array<std::string_view, 16> kValueTests = {
    "defined", "undefined", "none",    "boolean",  "true",     "false",    "integer", "float",
    "number",  "string",    "mapping", "iterable", "sequence", "callable", "odd",     "even"};
constexpr std::array<std::string_view, 18> kComparisonTests = {
    "sameas",      "divisibleby", "in", "eq", "equalto", "==",       "ne", "!=", "gt",
    "greaterthan", ">",           "ge", ">=", "lt",      "lessthan", "<",  "le", "<="};

template <size_t N>
bool listed(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Python's `value is other` where it can be told apart from ==: None, the two bools and the small ints CPython
// caches are single objects; containers are the same object when they share storage.
bool same_object(const Value& a, const Value& b) {
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (const bool* x = a.get_if<bool>()) return b.get_if<bool>() && *x == *b.get_if<bool>();
  if (const int64_t* x = a.get_if<int64_t>())
    return b.get_if<int64_t>() && *x == *b.get_if<int64_t>() && *x >= -5 && *x <= 256;
  if (a.storage().index() != b.storage().index()) return false;
  if (a.sequence()) return a.sequence() == b.sequence();
  if (a.mapping()) return a.mapping() == b.mapping();
  if (a.get_if<Value::NamespacePtr>() || a.get_if<Value::CallablePtr>()) return equals(a, b);
  return false;
}

Result<bool> remainder_is_zero(const Value& value, const Value& divisor, int64_t expected) {
  auto remainder = arithmetic(ArithmeticOp::kModulo, value, divisor);
  if (!remainder) return remainder.error();
  return equals(*remainder, Value(expected));
}

// The tests that compare value with one argument.
Result<bool> comparison_test(std::string_view name, const Value& value, const Value& other) {
  if (name == "sameas") return same_object(value, other);
  if (name == "eq" || name == "equalto" || name == "==") return equals(value, other);
  if (name == "ne" || name == "!=") return !equals(value, other);
  if (name == "in") return contains(other, value);
  if (name == "divisibleby") return remainder_is_zero(value, other, 0);
  const bool greater = name == "gt" || name == "greaterthan" || name == ">" || name == "ge" || name == ">=";
  const bool or_equal = name == "ge" || name == ">=" || name == "le" || name == "<=";
  auto strictly = greater ? less(other, value) : less(value, other);
  if (!strictly) return strictly.error();
  return *strictly || (or_equal && equals(value, other));
}

}  // namespace

bool is_test_name(std::string_view name) { return listed(kValueTests, name) || listed(kComparisonTests, name); }

Result<bool> apply_test(std::string_view name, const Value& value, const CallArguments& arguments) {
  if (!is_test_name(name)) return Error{"no test named '" + std::string(name) + "'"};
  const std::string callee = "test '" + std::string(name) + "'";
  const bool takes_argument = listed(kComparisonTests, name);
  auto bound = bind_arguments(
      arguments, takes_argument ? std::vector<std::string_view>{"other"} : std::vector<std::string_view>{}, callee);
  if (!bound) return bound.error();
  if (takes_argument) {
    if (!(*bound)[0]) return Error{callee + " takes one argument"};
    return comparison_test(name, value, *(*bound)[0]);
  }
  if (name == "defined") return !value.is_undefined();
  if (name == "undefined") return value.is_undefined();
  if (name == "none") return value.is_none();
  if (name == "boolean") return value.get_if<bool>() != nullptr;
  if (name == "true" || name == "false") return value.get_if<bool>() && *value.get_if<bool>() == (name == "true");
  if (name == "integer") return value.get_if<int64_t>() != nullptr;
  if (name == "float") return value.get_if<double>() != nullptr;
  if (name == "number") return value.is_number();
  if (name == "string") return value.is_string();
  if (name == "mapping") return value.mapping() != nullptr;
  const Sequence* sequence = value.sequence();
  // Undefined has len() and iterates (as empty) in jinja2, and is even callable (to fail when called).
  if (name == "iterable") return value.is_undefined() || value.is_string() || sequence || value.mapping();
  if (name == "sequence") {
    return value.is_undefined() || value.is_string() || value.mapping() ||
           (sequence && sequence->kind != Sequence::Kind::kIterator);
  }
  if (name == "callable") return value.is_undefined() || value.get_if<Value::CallablePtr>() != nullptr;
  return remainder_is_zero(value, Value(2), name == "odd" ? 1 : 0);
}

}  // namespace tpustack::inferd::jinja
