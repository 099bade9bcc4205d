#include "inferd/jinja/value.h"

#include <algorithm>
#include <limits>

#include "inferd/jinja/python_string.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::jinja {

const Value* Mapping::find(std::string_view key) const {
  for (const auto& [name, value] : entries) {
    if (name == key) return &value;
  }
  return nullptr;
}

void Mapping::set(std::string key, Value value) {
  for (auto& [name, existing] : entries) {
    if (name == key) {
      existing = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

const Sequence* Value::sequence() const {
  const SequencePtr* sequence = get_if<SequencePtr>();
  return sequence ? sequence->get() : nullptr;
}

const Mapping* Value::mapping() const {
  const MappingPtr* mapping = get_if<MappingPtr>();
  return mapping ? mapping->get() : nullptr;
}

std::optional<int64_t> Value::integer() const {
  if (const int64_t* i = get_if<int64_t>()) return *i;
  if (const bool* b = get_if<bool>()) return *b ? 1 : 0;
  return std::nullopt;
}

std::optional<double> Value::number() const {
  if (const double* d = get_if<double>()) return *d;
  if (auto i = integer()) return static_cast<double>(*i);
  return std::nullopt;
}

Value from_json(const nlohmann::ordered_json& json) {
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return nullptr;
    case nlohmann::ordered_json::value_t::boolean:
      return json.get<bool>();
    case nlohmann::ordered_json::value_t::number_integer:
      return json.get<int64_t>();
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = json.get<uint64_t>();
      // Beyond int64 only as a float: Python's ints are unbounded, these numbers never reach a chat template.
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<double>(u);
      return static_cast<int64_t>(u);
    }
    case nlohmann::ordered_json::value_t::number_float:
      return json.get<double>();
    case nlohmann::ordered_json::value_t::string:
      return json.get<std::string>();
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Mapping mapping;
      mapping.entries.reserve(json.size());
      for (const auto& [key, item] : json.items()) mapping.entries.emplace_back(key, from_json(item));
      return mapping;
    }
    default:  // binary and discarded never come from parsed JSON
      return nullptr;
  }
}

bool truthy(const Value& value) {
  return std::visit(
      [](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Undefined> || std::is_same_v<T, std::nullptr_t>) {
          return false;
        } else if constexpr (std::is_same_v<T, bool>) {
          return v;
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
          return v != 0;
        } else if constexpr (std::is_same_v<T, std::string>) {
          return !v.empty();
        } else if constexpr (std::is_same_v<T, Value::SequencePtr>) {
          return v->kind == Sequence::Kind::kIterator || !v->items.empty();
        } else if constexpr (std::is_same_v<T, Value::MappingPtr>) {
          return !v->entries.empty();
        } else {
          return true;  // namespaces and functions
        }
      },
      value.storage());
}

std::string type_name(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Undefined>) return "Undefined";
        if constexpr (std::is_same_v<T, std::nullptr_t>) return "NoneType";
        if constexpr (std::is_same_v<T, bool>) return "bool";
        if constexpr (std::is_same_v<T, int64_t>) return "int";
        if constexpr (std::is_same_v<T, double>) return "float";
        if constexpr (std::is_same_v<T, std::string>) return "str";
        if constexpr (std::is_same_v<T, Value::SequencePtr>) {
          switch (v->kind) {
            case Sequence::Kind::kTuple:
              return "tuple";
            case Sequence::Kind::kIterator:
              return "generator";
            default:
              return "list";
          }
        }
        if constexpr (std::is_same_v<T, Value::MappingPtr>) return "dict";
        if constexpr (std::is_same_v<T, Value::NamespacePtr>) return "Namespace";
        if constexpr (std::is_same_v<T, Value::CallablePtr>) return "function";
      },
      value.storage());
}

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integer() && b.is_integer()) return *a.integer() == *b.integer();
    return *a.number() == *b.number();
  }
  if (a.storage().index() != b.storage().index()) return false;
  if (a.is_undefined() || a.is_none()) return true;
  if (const std::string* s = a.string()) return *s == *b.string();
  if (const Sequence* x = a.sequence()) {
    const Sequence* y = b.sequence();
    // A list never equals a tuple in Python; iterators compare by identity.
    if (x->kind != y->kind || x->kind == Sequence::Kind::kIterator) return x == y;
    return std::equal(x->items.begin(), x->items.end(), y->items.begin(), y->items.end(), equals);
  }
  if (const Mapping* x = a.mapping()) {
    const Mapping* y = b.mapping();
    if (x->entries.size() != y->entries.size()) return false;
    return std::all_of(x->entries.begin(), x->entries.end(), [&](const auto& entry) {
      const Value* other = y->find(entry.first);
      return other != nullptr && equals(entry.second, *other);
    });
  }
  if (const auto* ns = a.get_if<Value::NamespacePtr>()) return *ns == *b.get_if<Value::NamespacePtr>();
  return *a.get_if<Value::CallablePtr>() == *b.get_if<Value::CallablePtr>();
}

Error undefined_error(const Value& value) {
  const Undefined* undefined = value.get_if<Undefined>();
  return Error{undefined && !undefined->hint.empty() ? undefined->hint : "a value is undefined"};
}

Result<bool> less(const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_integer() && b.is_integer()) return *a.integer() < *b.integer();
    return *a.number() < *b.number();
  }
  if (a.is_string() && b.is_string()) return *a.string() < *b.string();  // UTF-8 bytes sort as code points
  const Sequence* x = a.sequence();
  const Sequence* y = b.sequence();
  if (x && y && x->kind == y->kind && x->kind != Sequence::Kind::kIterator) {
    for (size_t i = 0; i < x->items.size() && i < y->items.size(); ++i) {
      if (equals(x->items[i], y->items[i])) continue;
      return less(x->items[i], y->items[i]);
    }
    return x->items.size() < y->items.size();
  }
  return Error{"'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'"};
}

Result<std::vector<Value>> iterate(const Value& value) {
  if (value.is_undefined()) return std::vector<Value>{};
  if (const Sequence* sequence = value.sequence()) return sequence->items;
  if (const Mapping* mapping = value.mapping()) {
    std::vector<Value> keys;
    keys.reserve(mapping->entries.size());
    for (const auto& entry : mapping->entries) keys.emplace_back(entry.first);
    return keys;
  }
  if (const std::string* text = value.string()) {
    std::vector<Value> characters;
    for (char32_t c : code_points_of(*text)) {
      std::string character;
      tokenizer::append_utf8(character, c);
      characters.emplace_back(std::move(character));
    }
    return characters;
  }
  return Error{"'" + type_name(value) + "' object is not iterable"};
}

}  // namespace tpustack::inferd::jinja
