#include "inferd/jinja/python_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <utf8proc.h>

#include "inferd/jinja/python_string.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::jinja {

namespace {

// Python's str.isprintable for one non-ASCII code point: not a control, format, surrogate, private-use,
// unassigned or separator character.
bool is_printable(char32_t c) {
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

void append_hex(std::string& out, const char* prefix, char32_t c, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%s%0*x", prefix, digits, static_cast<unsigned>(c));
  out += buffer;
}

std::string string_repr(const std::string& text) {
  const bool has_single = text.find('\'') != std::string::npos;
  const char quote = has_single && text.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : code_points_of(text)) {
    if (c == static_cast<char32_t>(quote) || c == U'\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == U'\t') {
      out += "\\t";
    } else if (c == U'\n') {
      out += "\\n";
    } else if (c == U'\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex(out, "\\x", c, 2);
    } else if (c < 0x7F || is_printable(c)) {
      tokenizer::append_utf8(out, c);
    } else if (c <= 0xFF) {
      append_hex(out, "\\x", c, 2);
    } else if (c <= 0xFFFF) {
      append_hex(out, "\\u", c, 4);
    } else {
      append_hex(out, "\\U", c, 8);
    }
  }
  out += quote;
  return out;
}

std::string sequence_text(const Sequence& sequence) {
  if (sequence.kind == Sequence::Kind::kIterator) return "<generator object>";
  const bool tuple = sequence.kind == Sequence::Kind::kTuple;
  std::string out = tuple ? "(" : "[";
  for (size_t i = 0; i < sequence.items.size(); ++i) {
    if (i > 0) out += ", ";
    out += python_repr(sequence.items[i]);
  }
  if (tuple && sequence.items.size() == 1) out += ',';
  out += tuple ? ")" : "]";
  return out;
}

std::string mapping_text(const Mapping& mapping) {
  std::string out = "{";
  for (size_t i = 0; i < mapping.entries.size(); ++i) {
    if (i > 0) out += ", ";
    out += string_repr(mapping.entries[i].first) + ": " + python_repr(mapping.entries[i].second);
  }
  return out + "}";
}

void append_json_string(std::string& out, const std::string& text, bool ensure_ascii) {
  out += '"';
  for (char32_t c : code_points_of(text)) {
    switch (c) {
      case U'"':
        out += "\\\"";
        break;
      case U'\\':
        out += "\\\\";
        break;
      case U'\n':
        out += "\\n";
        break;
      case U'\r':
        out += "\\r";
        break;
      case U'\t':
        out += "\\t";
        break;
      case U'\b':
        out += "\\b";
        break;
      case U'\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
          if (c > 0xFFFF) {  // as a UTF-16 surrogate pair
            const char32_t v = c - 0x10000;
            append_hex(out, "\\u", 0xD800 + (v >> 10), 4);
            append_hex(out, "\\u", 0xDC00 + (v & 0x3FF), 4);
          } else {
            append_hex(out, "\\u", c, 4);
          }
        } else {
          tokenizer::append_utf8(out, c);
        }
    }
  }
  out += '"';
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonFormat& format) : format_(format) {}

  Result<void> write(const Value& value, size_t level) {
    if (value.is_none()) {
      out_ += "null";
    } else if (const bool* b = value.get_if<bool>()) {
      out_ += *b ? "true" : "false";
    } else if (const int64_t* i = value.get_if<int64_t>()) {
      out_ += std::to_string(*i);
    } else if (const double* d = value.get_if<double>()) {
      out_ += std::isnan(*d) ? "NaN" : std::isinf(*d) ? (*d > 0 ? "Infinity" : "-Infinity") : float_repr(*d);
    } else if (const std::string* s = value.string()) {
      append_json_string(out_, *s, format_.ensure_ascii);
    } else if (const Sequence* sequence = value.sequence(); sequence && sequence->kind != Sequence::Kind::kIterator) {
      return write_container('[', ']', sequence->items.size(), level,
                             [&](size_t i) { return write(sequence->items[i], level + 1); });
    } else if (const Mapping* mapping = value.mapping()) {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : mapping->entries) entries.push_back(&entry);
      if (format_.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
      }
      return write_container('{', '}', entries.size(), level, [&](size_t i) {
        append_json_string(out_, entries[i]->first, format_.ensure_ascii);
        out_ += format_.key_separator;
        return write(entries[i]->second, level + 1);
      });
    } else {
      return Error{"Object of type " + type_name(value) + " is not JSON serializable"};
    }
    return {};
  }

  std::string take() { return std::move(out_); }

 private:
  // json.dumps's layout: items on one line, or each on its own line indented one level deeper than the brackets.
  template <class WriteItem>
  Result<void> write_container(char open, char close, size_t count, size_t level, WriteItem write_item) {
    out_ += open;
    if (count == 0) {
      out_ += close;
      return {};
    }
    const auto newline = [&](size_t depth) {
      if (!format_.indent) return;
      out_ += '\n';
      for (size_t i = 0; i < depth; ++i) out_ += *format_.indent;
    };
    newline(level + 1);
    for (size_t i = 0; i < count; ++i) {
      if (i > 0) {
        out_ += format_.item_separator;
        newline(level + 1);
      }
      if (auto written = write_item(i); !written) return written;
    }
    newline(level);
    out_ += close;
    return {};
  }

  const JsonFormat& format_;
  std::string out_;
};

}  // namespace

std::string float_repr(double number) {
  if (std::isnan(number)) return "nan";
  if (std::isinf(number)) return number > 0 ? "inf" : "-inf";
  // The shortest round-trip digits, then Python's layout: positional for exponents -4..15, scientific otherwise.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
  const std::string scientific(buffer, result.ptr);
  const size_t e = scientific.find('e');
  const int exponent = std::stoi(scientific.substr(e + 1));
  std::string digits;
  bool negative = false;
  for (char c : std::string_view(scientific).substr(0, e)) {
    if (c == '-') negative = true;
    if (c >= '0' && c <= '9') digits += c;
  }
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof exponent_text, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exponent_text;
  }
  if (exponent < 0) return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  const size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) return out + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return out + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string python_str(const Value& value) {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Undefined>) return "";
        if constexpr (std::is_same_v<T, std::nullptr_t>) return "None";
        if constexpr (std::is_same_v<T, bool>) return v ? "True" : "False";
        if constexpr (std::is_same_v<T, int64_t>) return std::to_string(v);
        if constexpr (std::is_same_v<T, double>) return float_repr(v);
        if constexpr (std::is_same_v<T, std::string>) return v;
        if constexpr (std::is_same_v<T, Value::SequencePtr>) return sequence_text(*v);
        if constexpr (std::is_same_v<T, Value::MappingPtr>) return mapping_text(*v);
        if constexpr (std::is_same_v<T, Value::NamespacePtr>) return "<Namespace " + mapping_text(v->attributes) + ">";
        if constexpr (std::is_same_v<T, Value::CallablePtr>) return "<function " + v->name + ">";
      },
      value.storage());
}

std::string python_repr(const Value& value) {
  if (const std::string* s = value.string()) return string_repr(*s);
  if (value.is_undefined()) return "Undefined";
  return python_str(value);
}

Result<std::string> python_json(const Value& value, const JsonFormat& format) {
  JsonWriter writer(format);
  if (auto written = writer.write(value, 0); !written) return written.error();
  return writer.take();
}

}  // namespace tpustack::inferd::jinja
