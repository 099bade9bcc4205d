#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

// The values a chat template computes with, and the Python semantics jinja2 gives them: Hugging Face renders
// chat templates with jinja2, so `1 == 1.0`, `true + 1`, `'a' * 3` and what `{{ x }}` prints follow Python.
namespace tpustack::inferd::jinja {

class Value;

// What a missing variable, attribute or item evaluates to: printed as nothing, false, empty when iterated, and an
// Error (its hint, "'x' is undefined") when used any other way, as jinja2's default Undefined.
struct Undefined {
  std::string hint;
};

// A list, a tuple, or what Python's map/select/reverse return (a one-pass iterator: always true, without len()).
struct Sequence {
  enum class Kind { kList, kTuple, kIterator };
  std::vector<Value> items;
  Kind kind = Kind::kList;
};

// A dict with string keys, in insertion order as Python's (json.dumps and `for key in d` keep it).
struct Mapping {
  std::vector<std::pair<std::string, Value>> entries;

  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
};

// namespace(...): the one mutable value, shared by every copy, so that a loop body can change what outlives it.
struct Namespace {
  Mapping attributes;
};

// Positional then keyword arguments of a call, a filter or a test.
struct CallArguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A macro, a global function (range, namespace, raise_exception...) or a method bound to its object. Values live
// only while one template renders, so `call` may refer to that render's state.
struct Callable {
  std::string name;
  std::function<Result<Value>(const CallArguments&)> call;
};

class Value {
 public:
  using SequencePtr = std::shared_ptr<const Sequence>;
  using MappingPtr = std::shared_ptr<const Mapping>;
  using NamespacePtr = std::shared_ptr<Namespace>;
  using CallablePtr = std::shared_ptr<const Callable>;
  using Storage = std::variant<Undefined, std::nullptr_t, bool, int64_t, double, std::string, SequencePtr, MappingPtr,
                               NamespacePtr, CallablePtr>;

  Value() : storage_(Undefined{}) {}
  Value(Undefined undefined) : storage_(std::move(undefined)) {}
  Value(std::nullptr_t) : storage_(nullptr) {}
  Value(bool b) : storage_(b) {}
  Value(int64_t i) : storage_(i) {}
  Value(int i) : storage_(int64_t{i}) {}
  Value(double d) : storage_(d) {}
  Value(std::string s) : storage_(std::move(s)) {}
  Value(const char* s) : storage_(std::string(s)) {}
  Value(Sequence sequence) : storage_(std::make_shared<const Sequence>(std::move(sequence))) {}
  Value(Mapping mapping) : storage_(std::make_shared<const Mapping>(std::move(mapping))) {}
  Value(NamespacePtr ns) : storage_(std::move(ns)) {}
  Value(Callable callable) : storage_(std::make_shared<const Callable>(std::move(callable))) {}

  static Value list(std::vector<Value> items, Sequence::Kind kind = Sequence::Kind::kList) {
    return Value(Sequence{std::move(items), kind});
  }

  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&storage_);
  }
  const Storage& storage() const { return storage_; }

  bool is_undefined() const { return std::holds_alternative<Undefined>(storage_); }
  bool is_none() const { return std::holds_alternative<std::nullptr_t>(storage_); }
  bool is_string() const { return std::holds_alternative<std::string>(storage_); }
  // int or bool, which Python counts as an int
  bool is_integer() const {
    return std::holds_alternative<int64_t>(storage_) || std::holds_alternative<bool>(storage_);
  }
  bool is_number() const { return is_integer() || std::holds_alternative<double>(storage_); }

  const std::string* string() const { return get_if<std::string>(); }
  const Sequence* sequence() const;
  const Mapping* mapping() const;
  // An int or bool as int64.
  std::optional<int64_t> integer() const;
  // Any number as double.
  std::optional<double> number() const;

 private:
  Storage storage_;
};

// JSON as Python's json.loads gives it to jinja2: objects keep their key order.
Value from_json(const nlohmann::ordered_json& json);

// Python's bool(value).
bool truthy(const Value& value);
// Python's type(value).__name__, as its error messages name types: 'str', 'NoneType', 'dict'...
std::string type_name(const Value& value);

// Python's ==: numbers by value (True == 1), containers element by element; undefined equals only undefined.
bool equals(const Value& a, const Value& b);
// Python's <: numbers, strings (by code point), lists and tuples element by element; an Error for anything else.
Result<bool> less(const Value& a, const Value& b);

// The Error that using `value` (undefined) in an operation gives.
Error undefined_error(const Value& value);

// The items Python's iter(value) gives: a string's characters, a list's items, a dict's keys; none for undefined.
// An Error for values that are not iterable.
Result<std::vector<Value>> iterate(const Value& value);

}  // namespace tpustack::inferd::jinja
