#include "inferd/jinja/lexer.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "inferd/jinja/python_string.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::jinja {

namespace {

constexpr std::string_view kTwoCharOperators[] = {"//", "**", "==", "!=", ">=", "<="};
constexpr std::string_view kOneCharOperators = "+-/*%~[](){}><=.:|,;";

bool is_decimal(char c) { return c >= '0' && c <= '9'; }
bool is_binary(char c) { return c == '0' || c == '1'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_decimal(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_decimal(c); }

// "\r\n" and "\r" become "\n", and one final newline goes (jinja2 without keep_trailing_newline).
std::string normalized_newlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::optional<uint32_t> hex_value(std::string_view digits) {
  uint32_t value = 0;
  for (char c : digits) {
    if (!is_hex(c)) return std::nullopt;
    value = value * 16 + static_cast<uint32_t>(is_decimal(c) ? c - '0' : (c | 0x20) - 'a' + 10);
  }
  return value;
}

// A string literal's escapes as Python's unicode-escape codec reads them; unknown ones stay as written.
Result<std::string> unescaped(std::string_view body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 == body.size()) {
      out += body[i];
      continue;
    }
    const char escape = body[++i];
    const auto code_point = [&](size_t digits, const char* form) -> Result<void> {
      auto value = i + digits < body.size() ? hex_value(body.substr(i + 1, digits)) : std::nullopt;
      if (!value) return Error{std::string("truncated ") + form + " escape"};
      if (*value > 0x10FFFF || (*value >= 0xD800 && *value <= 0xDFFF)) {
        return Error{std::string(body.substr(i - 1, digits + 2)) + " is not a character"};
      }
      tokenizer::append_utf8(out, static_cast<char32_t>(*value));
      i += digits;
      return {};
    };
    switch (escape) {
      case '\n':  // a line continuation
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        if (auto done = code_point(2, "\\xXX"); !done) return done.error();
        break;
      case 'u':
        if (auto done = code_point(4, "\\uXXXX"); !done) return done.error();
        break;
      case 'U':
        if (auto done = code_point(8, "\\UXXXXXXXX"); !done) return done.error();
        break;
      case 'N':
        return Error{"\\N{...} escapes are not supported"};
      default:
        if (is_octal(escape)) {
          uint32_t value = static_cast<uint32_t>(escape - '0');
          for (int digits = 1; digits < 3 && i + 1 < body.size() && is_octal(body[i + 1]); ++digits) {
            value = value * 8 + static_cast<uint32_t>(body[++i] - '0');
          }
          tokenizer::append_utf8(out, static_cast<char32_t>(value));
        } else if (escape == '\\' || escape == '\'' || escape == '"') {
          out += escape;
        } else {
          out += '\\';
          out += escape;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : source_(std::move(source)), text_(source_) {}

  Result<std::vector<Token>> run() {
    while (pos_ < text_.size()) {
      const size_t open = find_opener(pos_);
      if (open == std::string_view::npos) {
        emit_text(text_.substr(pos_), pos_);
        break;
      }
      const char kind = text_[open + 1];
      size_t after = open + 2;
      char sign = 0;
      if (after < text_.size() && (text_[after] == '-' || text_[after] == '+')) sign = text_[after++];
      const size_t raw_body = kind == '%' ? raw_body_start(after) : std::string_view::npos;
      emit_text(controlled_text(text_.substr(pos_, open - pos_), sign, kind != '{'), pos_);
      line_starting_ = false;
      Result<void> done;
      if (raw_body != std::string_view::npos) {
        pos_ = raw_body;
        line_starting_ = text_[raw_body - 1] == '\n';
        done = lex_raw(open);
      } else if (kind == '#') {
        pos_ = after;
        done = lex_comment(open);
      } else {
        tokens_.push_back({kind == '%' ? TokenKind::kStatementBegin : TokenKind::kPrintBegin, "", 0, 0, line_at(open)});
        pos_ = after;
        done = lex_tag(kind == '%');
      }
      if (!done) return done.error();
    }
    tokens_.push_back({TokenKind::kEnd, "", 0, 0, line_at(text_.size())});
    return std::move(tokens_);
  }

 private:
  Error error_at(size_t offset, const std::string& message) {
    return Error{"line " + std::to_string(line_at(offset)) + ": " + message};
  }

  // Lines are asked for at offsets that never go back, so counting resumes where it stopped.
  int line_at(size_t offset) {
    for (; counted_ < offset && counted_ < text_.size(); ++counted_) line_ += text_[counted_] == '\n' ? 1 : 0;
    return line_;
  }

  size_t find_opener(size_t from) const {
    for (size_t at = text_.find('{', from); at != std::string_view::npos; at = text_.find('{', at + 1)) {
      if (at + 1 < text_.size() && (text_[at + 1] == '{' || text_[at + 1] == '%' || text_[at + 1] == '#')) return at;
    }
    return std::string_view::npos;
  }

  // Text before a tag after its whitespace control: `-` strips the whitespace before the tag; otherwise
  // lstrip_blocks drops the spaces between a line's start and a statement or comment tag (not `{{`, not `+`).
  std::string_view controlled_text(std::string_view text, char sign, bool may_lstrip) const {
    if (sign == '-') return text.substr(0, text.size() - python_space_suffix(text));
    if (sign == '+' || !may_lstrip) return text;
    const size_t newline = text.rfind('\n');
    const size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
    const std::string_view indent = text.substr(line_start);
    if ((line_start > 0 || line_starting_) && !indent.empty() && python_space_prefix(indent) == indent.size()) {
      return text.substr(0, line_start);
    }
    return text;
  }

  void emit_text(std::string_view text, size_t offset) {
    if (!text.empty()) tokens_.push_back({TokenKind::kText, std::string(text), 0, 0, line_at(offset)});
  }

  size_t skip_space(size_t at) const { return at + python_space_prefix(text_.substr(at)); }

  // Where the body of `{% raw %}` starts, when the tag whose name starts at `at` is one; npos otherwise.
  size_t raw_body_start(size_t at) const {
    at = skip_space(at);
    if (text_.compare(at, 3, "raw") != 0) return std::string_view::npos;
    at = skip_space(at + 3);
    if (text_.compare(at, 3, "-%}") == 0) return skip_space(at + 3);
    if (text_.compare(at, 2, "%}") == 0) return at + 2;
    return std::string_view::npos;
  }

  // Where a statement tag's end starts at `at`: the offset after it (with the whitespace its control takes), or
  // nullopt. `+%}` keeps the newline after it that trim_blocks would take.
  std::optional<size_t> tag_end(size_t at, bool statement) const {
    const std::string_view close = statement ? "%}" : "}}";
    if (text_.compare(at, 1, "-") == 0 && text_.compare(at + 1, 2, close) == 0) return skip_space(at + 3);
    if (statement && text_.compare(at, 3, "+%}") == 0) return at + 3;
    if (text_.compare(at, 2, close) != 0) return std::nullopt;
    return at + 2 + (statement && at + 2 < text_.size() && text_[at + 2] == '\n' ? 1 : 0);
  }

  Result<void> lex_raw(size_t open) {
    if (pos_ == text_.size()) return {};  // as an empty comment at the end
    for (size_t at = text_.find("{%", pos_); at != std::string_view::npos; at = text_.find("{%", at + 1)) {
      size_t name = at + 2;
      const char sign = name < text_.size() && (text_[name] == '-' || text_[name] == '+') ? text_[name++] : 0;
      name = skip_space(name);
      if (text_.compare(name, 6, "endraw") != 0) continue;
      const auto end = tag_end(skip_space(name + 6), true);
      if (!end) continue;
      emit_text(controlled_text(text_.substr(pos_, at - pos_), sign, true), pos_);
      pos_ = *end;
      line_starting_ = text_[pos_ - 1] == '\n';
      return {};
    }
    return error_at(open, "missing end of raw directive ({% endraw %})");
  }

  Result<void> lex_comment(size_t open) {
    if (pos_ == text_.size()) return {};  // jinja2 drops an opener that ends the template without a word
    const size_t close = text_.find("#}", pos_);
    if (close == std::string_view::npos) return error_at(open, "missing end of comment tag ('#}')");
    const char sign = close > pos_ && (text_[close - 1] == '-' || text_[close - 1] == '+') ? text_[close - 1] : 0;
    pos_ = close + 2;
    if (sign == '-') {
      pos_ = skip_space(pos_);
    } else if (sign == 0 && pos_ < text_.size() && text_[pos_] == '\n') {
      ++pos_;
    }
    line_starting_ = text_[pos_ - 1] == '\n';
    return {};
  }

  Result<void> lex_tag(bool statement) {
    std::string closers;  // the brackets open inside the tag, innermost last
    while (true) {
      if (pos_ >= text_.size()) {
        return error_at(pos_, std::string("unexpected end of template, expected '") + (statement ? "%}" : "}}") + "'");
      }
      if (closers.empty()) {
        if (auto end = tag_end(pos_, statement)) {
          tokens_.push_back({statement ? TokenKind::kStatementEnd : TokenKind::kPrintEnd, "", 0, 0, line_at(pos_)});
          pos_ = *end;
          line_starting_ = text_[pos_ - 1] == '\n';
          return {};
        }
      }
      if (const size_t space = python_space_prefix(text_.substr(pos_)); space > 0) {
        pos_ += space;
        continue;
      }
      const char c = text_[pos_];
      Result<void> done;
      if (is_decimal(c)) {
        done = lex_number();
      } else if (is_name_start(c)) {
        const size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        tokens_.push_back({TokenKind::kName, std::string(text_.substr(start, pos_ - start)), 0, 0, line_at(start)});
      } else if (c == '\'' || c == '"') {
        done = lex_string();
      } else {
        done = lex_operator(closers);
      }
      if (!done) return done;
    }
  }

  // How many bytes of d(_?d)* start at `at`.
  size_t digit_run(size_t at, bool (*is_digit)(char)) const {
    if (at >= text_.size() || !is_digit(text_[at])) return 0;
    size_t end = at + 1;
    while (end < text_.size()) {
      if (is_digit(text_[end])) {
        ++end;
      } else if (text_[end] == '_' && end + 1 < text_.size() && is_digit(text_[end + 1])) {
        end += 2;
      } else {
        break;
      }
    }
    return end - at;
  }

  // Where a float literal that starts at pos_ ends, or npos: digits with a fraction, an exponent, or both; never
  // right after a '.' (so that `messages.0` is an item lookup).
  size_t float_end() const {
    if (pos_ > 0 && text_[pos_ - 1] == '.') return std::string_view::npos;
    const size_t integer_end = pos_ + digit_run(pos_, is_decimal);
    size_t fraction_end = integer_end;
    if (fraction_end < text_.size() && text_[fraction_end] == '.') {
      const size_t digits = digit_run(fraction_end + 1, is_decimal);
      if (digits > 0) fraction_end += 1 + digits;
    }
    if (fraction_end < text_.size() && (text_[fraction_end] == 'e' || text_[fraction_end] == 'E')) {
      size_t exponent = fraction_end + 1;
      if (exponent < text_.size() && (text_[exponent] == '+' || text_[exponent] == '-')) ++exponent;
      const size_t digits = digit_run(exponent, is_decimal);
      if (digits > 0) return exponent + digits;
    }
    return fraction_end > integer_end ? fraction_end : std::string_view::npos;
  }

  Result<void> lex_number() {
    const size_t start = pos_;
    std::string digits;
    const auto without_underscores = [](std::string_view text) {
      std::string out(text);
      std::erase(out, '_');
      return out;
    };
    if (const size_t end = float_end(); end != std::string_view::npos) {
      digits = without_underscores(text_.substr(start, end - start));
      double value = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      tokens_.push_back({TokenKind::kFloat, digits, 0, value, line_at(start)});
      pos_ = end;
      return {};
    }
    int base = 10;
    size_t end = pos_;
    const char prefix = pos_ + 1 < text_.size() ? static_cast<char>(text_[pos_ + 1] | 0x20) : 0;
    if (text_[pos_] == '0' && (prefix == 'b' || prefix == 'o' || prefix == 'x')) {
      base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : 16;
      auto* is_digit = base == 2 ? is_binary : base == 8 ? is_octal : is_hex;
      size_t digits_start = pos_ + 2;
      if (digits_start < text_.size() && text_[digits_start] == '_') ++digits_start;
      const size_t run = digit_run(digits_start, is_digit);
      if (run == 0) return error_at(start, "invalid number literal");
      digits = without_underscores(text_.substr(digits_start, run));
      end = digits_start + run;
    } else if (text_[pos_] == '0') {  // 0(_?0)*: "007" is a zero followed by another number
      end = pos_ + digit_run(pos_, [](char c) { return c == '0'; });
      digits = "0";
    } else {
      end = pos_ + digit_run(pos_, is_decimal);
      digits = without_underscores(text_.substr(pos_, end - pos_));
    }
    int64_t value = 0;
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (parsed.ec != std::errc()) return error_at(start, "integer literal too large for 64 bits");
    tokens_.push_back({TokenKind::kInteger, std::string(text_.substr(start, end - start)), value, 0, line_at(start)});
    pos_ = end;
    return {};
  }

  Result<void> lex_string() {
    const size_t start = pos_;
    const char quote = text_[pos_];
    size_t at = pos_ + 1;
    while (at < text_.size() && text_[at] != quote) at += text_[at] == '\\' ? 2 : 1;
    if (at >= text_.size()) return error_at(start, std::string("unterminated string starting with ") + quote);
    auto value = unescaped(text_.substr(start + 1, at - start - 1));
    if (!value) return error_at(start, value.error().message);
    tokens_.push_back({TokenKind::kString, std::move(*value), 0, 0, line_at(start)});
    pos_ = at + 1;
    return {};
  }

  Result<void> lex_operator(std::string& closers) {
    const size_t start = pos_;
    std::string_view op;
    for (std::string_view two : kTwoCharOperators) {
      if (text_.compare(pos_, 2, two) == 0) op = two;
    }
    if (op.empty() && kOneCharOperators.find(text_[pos_]) != std::string_view::npos) op = text_.substr(pos_, 1);
    if (op.empty()) {
      const size_t length =
          std::max<size_t>(1, tokenizer::utf8_sequence_length(static_cast<unsigned char>(text_[pos_])));
      return error_at(start, "unexpected character '" + std::string(text_.substr(pos_, length)) + "'");
    }
    if (op == "(" || op == "[" || op == "{") {
      closers += op == "(" ? ')' : op == "[" ? ']' : '}';
    } else if (op == ")" || op == "]" || op == "}") {
      if (closers.empty()) return error_at(start, "unexpected '" + std::string(op) + "'");
      if (closers.back() != op[0]) {
        return error_at(start, "unexpected '" + std::string(op) + "', expected '" + closers.back() + "'");
      }
      closers.pop_back();
    }
    tokens_.push_back({TokenKind::kOperator, std::string(op), 0, 0, line_at(start)});
    pos_ += op.size();
    return {};
  }

  const std::string source_;
  const std::string_view text_;
  size_t pos_ = 0;
  bool line_starting_ = true;  // whether pos_ starts a line, for lstrip_blocks
  std::vector<Token> tokens_;
  size_t counted_ = 0;
  int line_ = 1;
};

}  // namespace

Result<std::vector<Token>> lex_template(std::string_view source) {
  if (auto valid = tokenizer::decode_utf8(source); !valid) return Error{"template " + valid.error().message};
  return Lexer(normalized_newlines(source)).run();
}

}  // namespace tpustack::inferd::jinja
