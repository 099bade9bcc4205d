#include "inferd/jinja/lookup.h"

#include "inferd/jinja/methods.h"
#include "inferd/jinja/python_string.h"
#include "inferd/jinja/python_text.h"

namespace tpustack::inferd::jinja {

namespace {

// jinja2's words: "'dict object' has no attribute 'x'", "'None' has no attribute 'x'".
Value missing_attribute(const Value& object, std::string_view name) {
  const std::string described = object.is_none() ? "None" : type_name(object) + " object";
  return Undefined{"'" + described + "' has no attribute '" + std::string(name) + "'"};
}

}  // namespace

Result<Value> attribute_of(const Value& object, std::string_view name) {
  if (object.is_undefined()) return undefined_error(object);
  if (auto method = bound_method(object, name)) return *method;
  if (const Mapping* mapping = object.mapping()) {
    if (const Value* found = mapping->find(name)) return *found;
  } else if (const auto* ns = object.get_if<Value::NamespacePtr>()) {
    if (const Value* found = (*ns)->attributes.find(name)) return *found;
  }
  return missing_attribute(object, name);
}

Result<Value> item_of(const Value& object, const Value& key) {
  if (object.is_undefined()) return undefined_error(object);
  const auto index = key.integer();
  if (const Sequence* sequence = object.sequence(); sequence && index && sequence->kind != Sequence::Kind::kIterator) {
    const auto size = static_cast<int64_t>(sequence->items.size());
    const int64_t at = *index < 0 ? *index + size : *index;
    if (at >= 0 && at < size) return sequence->items[static_cast<size_t>(at)];
    return Value(Undefined{"'" + type_name(object) + " object' has no element " + std::to_string(*index)});
  }
  if (const std::string* text = object.string(); text && index) {
    std::string character = python_substring(*text, *index, *index == -1 ? std::nullopt : std::optional(*index + 1), 1);
    if (!character.empty()) return Value(std::move(character));
    return Value(Undefined{"'str object' has no element " + std::to_string(*index)});
  }
  if (const std::string* name = key.string()) {
    if (const Mapping* mapping = object.mapping()) {
      if (const Value* found = mapping->find(*name)) return *found;
    }
    return attribute_of(object, *name);
  }
  return Value(Undefined{"'" + type_name(object) + " object' has no element " + python_repr(key)});
}

Result<Value> slice_of(const Value& object, std::optional<int64_t> start, std::optional<int64_t> stop,
                       std::optional<int64_t> step) {
  if (object.is_undefined()) return undefined_error(object);
  if (step && *step == 0) return Error{"slice step cannot be zero"};
  if (const std::string* text = object.string()) return Value(python_substring(*text, start, stop, step.value_or(1)));
  // jinja2 compiles a slice to Python's own subscript, which raises for whatever is not a sequence.
  const Sequence* sequence = object.sequence();
  if (object.mapping()) return Error{"unhashable type: 'slice'"};
  if (!sequence || sequence->kind == Sequence::Kind::kIterator) {
    return Error{"'" + type_name(object) + "' object is not subscriptable"};
  }
  Sequence out{{}, sequence->kind};
  for (size_t i : slice_indices(sequence->items.size(), start, stop, step.value_or(1))) {
    out.items.push_back(sequence->items[i]);
  }
  return Value(std::move(out));
}

}  // namespace tpustack::inferd::jinja
