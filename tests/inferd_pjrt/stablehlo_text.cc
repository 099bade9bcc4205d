#include "tests/inferd_pjrt/stablehlo_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/inferd_pjrt/bfloat16.h"

namespace tpustack::stablehlo_reference {

namespace {

// ---------------------------------------------------------------------------------------------------- tokens

enum class TokenKind {
  kIdentifier,  // func.func, stablehlo.add, dense, x, #stablehlo.dot
  kValue,       // %0, %arg1, %cst_2
  kSymbol,      // @main
  kBlockLabel,  // ^bb0
  kString,      // "stablehlo.add" (text without the quotes)
  kNumber,      // 1, -2.5e+00, 0xFF800000
  kAngle,       // tensor<2x3xf32>, dense<1.0>, array<i64: 1, 0>: the identifier, and the body between the brackets
  kPunct,       // ( ) [ ] { } < > , : = -> and any other single character
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  std::string body;
  int line = 0;
};

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '$';
}

// From the opening quote at `position`, past the closing one; false when it never closes.
bool skip_string(std::string_view text, size_t& position) {
  for (++position; position < text.size(); ++position) {
    if (text[position] == '\\') {
      ++position;
    } else if (text[position] == '"') {
      ++position;
      return true;
    }
  }
  return false;
}

// From the opening bracket at `position`, past its closing one, stepping over strings; false when it never closes.
bool skip_balanced(std::string_view text, size_t& position, char open, char close, int& line) {
  int depth = 0;
  while (position < text.size()) {
    const char c = text[position];
    if (c == '"') {
      if (!skip_string(text, position)) return false;
      continue;
    }
    if (c == '\n') ++line;
    if (c == open) {
      ++depth;
    } else if (c == close && !(close == '>' && text[position - 1] == '-') && --depth == 0) {
      ++position;
      return true;
    }
    ++position;
  }
  return false;
}

Result<std::vector<Token>> tokenize(std::string_view text) {
  std::vector<Token> tokens;
  int line = 1;
  size_t i = 0;
  auto failure = [&line](const std::string& message) { return Error{"line " + std::to_string(line) + ": " + message}; };
  while (true) {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) != 0 || text.substr(i, 2) == "//")) {
      if (text[i] == '/') {
        while (i < text.size() && text[i] != '\n') ++i;
      } else {
        line += text[i++] == '\n' ? 1 : 0;
      }
    }
    if (i >= text.size()) {
      tokens.push_back({TokenKind::kEnd, "", "", line});
      return tokens;
    }
    const size_t start = i;
    const int start_line = line;
    const char c = text[i];
    const char following = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '"') {
      if (!skip_string(text, i)) return failure("a string is not closed");
      tokens.push_back({TokenKind::kString, std::string(text.substr(start + 1, i - start - 2)), "", start_line});
    } else if (c == '%' || c == '@' || c == '^') {
      for (++i; i < text.size() && (is_identifier_char(text[i]) || text[i] == '-'); ++i) {
      }
      const TokenKind kind = c == '%' ? TokenKind::kValue : c == '@' ? TokenKind::kSymbol : TokenKind::kBlockLabel;
      tokens.push_back({kind, std::string(text.substr(start, i - start)), "", start_line});
    } else if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '#') {
      for (++i; i < text.size() && is_identifier_char(text[i]); ++i) {
      }
      std::string word(text.substr(start, i - start));
      if (word == "loc" && i < text.size() && text[i] == '(') {
        if (!skip_balanced(text, i, '(', ')', line)) return failure("loc( is not closed");
      } else if (i < text.size() && text[i] == '<') {
        const size_t open = i;
        if (!skip_balanced(text, i, '<', '>', line)) return failure(word + "< is not closed");
        tokens.push_back(
            {TokenKind::kAngle, std::move(word), std::string(text.substr(open + 1, i - open - 2)), start_line});
      } else {
        tokens.push_back({TokenKind::kIdentifier, std::move(word), "", start_line});
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
               (c == '-' && std::isdigit(static_cast<unsigned char>(following)) != 0)) {
      const bool hex = text.substr(c == '-' ? i + 1 : i, 2) == "0x";
      for (++i; i < text.size(); ++i) {
        const char d = text[i];
        const bool exponent_sign = (d == '+' || d == '-') && !hex && (text[i - 1] == 'e' || text[i - 1] == 'E');
        if (std::isalnum(static_cast<unsigned char>(d)) == 0 && d != '.' && !exponent_sign) break;
      }
      tokens.push_back({TokenKind::kNumber, std::string(text.substr(start, i - start)), "", start_line});
    } else {
      i += c == '-' && following == '>' ? 2 : 1;
      tokens.push_back({TokenKind::kPunct, std::string(text.substr(start, i - start)), "", start_line});
    }
  }
}

// ---------------------------------------------------------------------------------------------------- numbers

// The numbers in a list such as "[[1.0, 2.0], [3.0, 4.0]]" or "i64: 1, 0", as written.
std::vector<std::string> number_texts(std::string_view text) {
  std::vector<std::string> numbers;
  std::string current;
  for (char c : text) {
    if (c == '[' || c == ']' || c == ',' || std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (!current.empty()) numbers.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) numbers.push_back(std::move(current));
  return numbers;
}

std::optional<int64_t> integer_of(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A float as MLIR prints one: decimal, or the element type's bit pattern in hex (how it writes inf and NaN).
std::optional<float> float_of(std::string_view text, ElementType element) {
  if (text.starts_with("0x")) {
    uint64_t bits = 0;
    const auto [end, error] = std::from_chars(text.data() + 2, text.data() + text.size(), bits, 16);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (element == ElementType::kBF16) return bf16_to_float(static_cast<uint16_t>(bits));
    const auto bits32 = static_cast<uint32_t>(bits);
    float value;
    std::memcpy(&value, &bits32, sizeof(value));
    return value;
  }
  const std::string copy(text);
  char* end = nullptr;
  const float value = std::strtof(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || copy.empty()) return std::nullopt;
  return value;
}

// compare's direction as MLIR writes it: LT, or #stablehlo<comparison_direction LT>'s last word.
std::optional<Comparison> comparison_of(std::string_view text) {
  text = text.substr(text.find_last_of(' ') == std::string_view::npos ? 0 : text.find_last_of(' ') + 1);
  constexpr std::array<std::pair<std::string_view, Comparison>, 6> kDirections = {{{"EQ", Comparison::kEQ},
                                                                                   {"NE", Comparison::kNE},
                                                                                   {"LT", Comparison::kLT},
                                                                                   {"LE", Comparison::kLE},
                                                                                   {"GT", Comparison::kGT},
                                                                                   {"GE", Comparison::kGE}}};
  for (const auto& [name, direction] : kDirections) {
    if (name == text) return direction;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------- parser

// The values a function body or an operation's region can name, and the program it builds.
struct Scope {
  Program program;
  std::map<std::string, size_t> values;
};

// An operation's region of one block, as a program whose parameters are the block's arguments; `start` is where it
// opens, for errors.
struct Region {
  Token start;
  Program body;
};

using Attributes = std::map<std::string, std::vector<Token>>;
using Signature = std::pair<std::vector<TensorType>, std::vector<TensorType>>;

std::string describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "the end of the text";
  if (token.kind == TokenKind::kAngle) return "'" + token.text + "<" + token.body + ">'";
  return "'" + token.text + "'";
}

// A recursive-descent parser over the tokens. Its parts return false or nullopt on the first error, which `error_`
// keeps.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Program> parse() {
    while (peek().kind != TokenKind::kEnd && !at_function()) next();
    if (peek().kind == TokenKind::kEnd) return Error{"line " + std::to_string(peek().line) + ": no func.func @main"};
    Scope scope;
    if (peek().kind == TokenKind::kString ? parse_generic_function(scope) : parse_function(scope)) {
      for (; peek().kind != TokenKind::kEnd; next()) {
        if (at_function()) {
          fail(peek(), "a second function; the fake PJRT plugin runs programs of one function, func.func @main");
          break;
        }
      }
    }
    if (error_) return *error_;
    return std::move(scope.program);
  }

 private:
  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(position_ + ahead, tokens_.size() - 1)]; }
  const Token& next() {
    const Token& token = peek();
    if (position_ + 1 < tokens_.size()) ++position_;
    return token;
  }
  bool at_punct(std::string_view punct, size_t ahead = 0) const {
    return peek(ahead).kind == TokenKind::kPunct && peek(ahead).text == punct;
  }
  bool at_word(std::string_view word) const { return peek().kind == TokenKind::kIdentifier && peek().text == word; }
  // func.func, or "func.func" in the generic form.
  bool at_function() const {
    return (peek().kind == TokenKind::kIdentifier || peek().kind == TokenKind::kString) && peek().text == "func.func";
  }
  bool accept_punct(std::string_view punct) {
    if (!at_punct(punct)) return false;
    next();
    return true;
  }
  bool expect_punct(std::string_view punct, std::string_view where) {
    if (accept_punct(punct)) return true;
    return fail(peek(), "expected '" + std::string(punct) + "' " + std::string(where) + ", found " + describe(peek()));
  }
  bool expect_word(std::string_view word, std::string_view where) {
    if (at_word(word)) {
      next();
      return true;
    }
    return fail(peek(), "expected '" + std::string(word) + "' " + std::string(where) + ", found " + describe(peek()));
  }
  bool fail(const Token& at, const std::string& message) {
    if (!error_) error_ = Error{"line " + std::to_string(at.line) + ": " + message};
    return false;
  }

  // ------------------------------------------------------------------------------------------------ types

  std::optional<TensorType> parse_type(const Token& token) {
    if (token.kind != TokenKind::kAngle || token.text != "tensor") {
      fail(token, "expected a tensor type, found " + describe(token));
      return std::nullopt;
    }
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t x = token.body.find('x'); x != std::string::npos; x = token.body.find('x', start)) {
      parts.push_back(token.body.substr(start, x - start));
      start = x + 1;
    }
    const std::string element = token.body.substr(start);
    TensorType type;
    for (const std::string& part : parts) {
      const auto dimension = integer_of(part);
      if (!dimension || *dimension < 0) {
        fail(token, describe(token) + " is not a static shape; the fake PJRT plugin runs static shapes only");
        return std::nullopt;
      }
      type.dims.push_back(*dimension);
    }
    if (element == "f32") {
      type.element = ElementType::kF32;
    } else if (element == "bf16") {
      type.element = ElementType::kBF16;
    } else if (element == "i32") {
      type.element = ElementType::kI32;
    } else if (element == "i1") {
      type.element = ElementType::kI1;
    } else {
      fail(token, describe(token) + ": element type " + element + " is not supported (f32, bf16, i32 and i1 are)");
      return std::nullopt;
    }
    return type;
  }

  // "(T, T) -> T", "(T) -> (T, T)", "() -> ()".
  std::optional<Signature> parse_signature() {
    Signature signature;
    if (!expect_punct("(", "to open the operand types")) return std::nullopt;
    while (!accept_punct(")")) {
      auto type = parse_type(next());
      if (!type) return std::nullopt;
      signature.first.push_back(std::move(*type));
      if (!at_punct(")") && !expect_punct(",", "between types")) return std::nullopt;
    }
    if (!expect_punct("->", "before the result types")) return std::nullopt;
    const bool listed = accept_punct("(");
    while (!(listed && accept_punct(")"))) {
      auto type = parse_type(next());
      if (!type) return std::nullopt;
      signature.second.push_back(std::move(*type));
      if (!listed) break;
      if (!at_punct(")") && !expect_punct(",", "between types")) return std::nullopt;
    }
    return signature;
  }

  // ------------------------------------------------------------------------------------------------ attributes

  // The tokens of one attribute's value, up to one of `stops` outside brackets.
  std::optional<std::vector<Token>> collect_value(std::initializer_list<std::string_view> stops) {
    std::vector<Token> value;
    int depth = 0;
    while (true) {
      const Token& token = peek();
      if (token.kind == TokenKind::kEnd) {
        fail(token, "an attribute's value runs to the end of the text");
        return std::nullopt;
      }
      if (token.kind == TokenKind::kPunct) {
        if (depth == 0 && std::find(stops.begin(), stops.end(), token.text) != stops.end()) return value;
        if (token.text == "(" || token.text == "[" || token.text == "{" || token.text == "<") ++depth;
        if (token.text == ")" || token.text == "]" || token.text == "}" || token.text == ">") --depth;
      }
      value.push_back(next());
    }
  }

  // "{name = value, unit_name, ...}", from its opening brace.
  bool parse_attribute_dictionary(Attributes& attributes) {
    if (!expect_punct("{", "to open attributes")) return false;
    while (!accept_punct("}")) {
      const Token& name = next();
      if (name.kind != TokenKind::kIdentifier && name.kind != TokenKind::kString) {
        return fail(name, "expected an attribute name, found " + describe(name));
      }
      std::vector<Token> value;
      if (accept_punct("=")) {
        auto collected = collect_value({",", "}"});
        if (!collected) return false;
        value = std::move(*collected);
      }
      attributes[name.text] = std::move(value);
      if (!at_punct("}") && !expect_punct(",", "between attributes")) return false;
    }
    return true;
  }

  // A list of dimension numbers: [1, 0], array<i64: 1, 0>, dense<[1, 0]> : tensor<2xi64>, dense<1> : tensor<1xi64>;
  // or one: 3, 3 : i64.
  std::optional<std::vector<int64_t>> integer_list(const std::vector<Token>& value, const Token& at) {
    std::vector<std::string> texts;
    if (!value.empty() && value[0].kind == TokenKind::kAngle && value[0].text == "array") {
      const size_t colon = value[0].body.find(':');
      if (colon != std::string::npos) texts = number_texts(value[0].body.substr(colon + 1));
    } else if (!value.empty() && value[0].kind == TokenKind::kAngle && value[0].text == "dense") {
      texts = number_texts(value[0].body);
      // A splat: MLIR writes [1] as dense<1> : tensor<1xi64>.
      if (texts.size() == 1 && value.size() == 3 && value[2].kind == TokenKind::kAngle) {
        const auto count = integer_of(value[2].body.substr(0, value[2].body.find('x')));
        if (count && *count > 1) texts.assign(*count, texts[0]);
      }
    } else if (!value.empty() && value[0].kind == TokenKind::kPunct && value[0].text == "[") {
      for (const Token& token : value) {
        if (token.kind == TokenKind::kNumber) texts.push_back(token.text);
      }
    } else if (!value.empty() && value[0].kind == TokenKind::kNumber) {
      texts.push_back(value[0].text);
    } else {
      fail(at, "cannot read a list of dimensions from " + (value.empty() ? "nothing" : describe(value[0])));
      return std::nullopt;
    }
    std::vector<int64_t> numbers;
    for (const std::string& text : texts) {
      const auto number = integer_of(text);
      if (!number) {
        fail(at, "'" + text + "' is not a dimension number");
        return std::nullopt;
      }
      numbers.push_back(*number);
    }
    return numbers;
  }

  // dense<...> for a tensor of `type`: one value (a splat) or all of them.
  bool parse_dense(const Token& dense, const TensorType& type, std::vector<float>& values) {
    if (dense.kind != TokenKind::kAngle || dense.text != "dense") {
      return fail(dense, "expected a dense<...> constant, found " + describe(dense));
    }
    if (dense.body.starts_with("\"")) {
      return fail(dense, "hex-string dense constants are not supported; the fake reads constants written as numbers");
    }
    for (const std::string& text : number_texts(dense.body)) {
      const auto value = float_of(text, type.element);
      if (!value) return fail(dense, "'" + text + "' is not a floating-point constant");
      values.push_back(*value);
    }
    return true;
  }

  // The lists `keys` name in the body of an attribute such as #stablehlo.dot<lhs_batching_dimensions = [0], ...>;
  // MLIR leaves out empty lists.
  bool parse_keyed_lists(const std::string& body, const Token& at,
                         std::initializer_list<std::pair<const char*, std::vector<int64_t>*>> keys) {
    for (auto [key, list] : keys) {
      const size_t found = body.find(std::string(key) + " = [");
      if (found == std::string::npos) continue;
      const size_t open = body.find('[', found);
      const size_t close = body.find(']', open);
      for (const std::string& text : number_texts(body.substr(open, close - open))) {
        const auto number = integer_of(text);
        if (!number) return fail(at, "'" + text + "' in " + key + " is not a dimension number");
        list->push_back(*number);
      }
    }
    return true;
  }

  // #stablehlo.dot<lhs_batching_dimensions = [0], ..., rhs_contracting_dimensions = [1]>.
  bool parse_dot_attribute(const std::vector<Token>& value, const Token& at, DotDimensions& dot) {
    if (value.empty() || value[0].kind != TokenKind::kAngle || value[0].text != "#stablehlo.dot") {
      return fail(at, "dot_dimension_numbers is not a #stablehlo.dot<...>");
    }
    return parse_keyed_lists(value[0].body, at,
                             {{"lhs_batching_dimensions", &dot.lhs_batching},
                              {"rhs_batching_dimensions", &dot.rhs_batching},
                              {"lhs_contracting_dimensions", &dot.lhs_contracting},
                              {"rhs_contracting_dimensions", &dot.rhs_contracting}});
  }

  // A gather's or scatter's dimension numbers: the attribute `name` holds `kind`<list = [2], ...,
  // index_vector_dim = 2>, whose lists go to `lists`.
  bool parse_index_dimensions(const Attributes& attributes, const std::string& name, const std::string& kind,
                              const Token& at,
                              std::initializer_list<std::pair<const char*, std::vector<int64_t>*>> lists,
                              int64_t& index_vector_dim) {
    const auto* numbers = required(attributes, name, at);
    if (numbers == nullptr) return false;
    if (numbers->empty() || (*numbers)[0].kind != TokenKind::kAngle || (*numbers)[0].text != kind) {
      return fail(at, name + " is not a " + kind + "<...>");
    }
    const std::string& body = (*numbers)[0].body;
    if (!parse_keyed_lists(body, at, lists)) return false;
    const std::string_view key = "index_vector_dim = ";
    const size_t found = body.find(key);
    const auto texts =
        found == std::string::npos ? std::vector<std::string>{} : number_texts(body.substr(found + key.size()));
    const auto number = texts.empty() ? std::nullopt : integer_of(texts[0]);
    if (!number) return fail(at, kind + "<...> lacks a number for index_vector_dim");
    index_vector_dim = *number;
    return true;
  }

  // The generic gather's dimension_numbers = #stablehlo.gather<offset_dims = [2], ..., index_vector_dim = 2> and
  // slice_sizes = array<i64: 1, 384>.
  bool parse_gather_attributes(const Attributes& attributes, const Token& at, GatherDimensions& gather) {
    return parse_index_dimensions(attributes, "dimension_numbers", "#stablehlo.gather", at,
                                  {{"offset_dims", &gather.offset_dims},
                                   {"collapsed_slice_dims", &gather.collapsed_slice_dims},
                                   {"operand_batching_dims", &gather.operand_batching_dims},
                                   {"start_indices_batching_dims", &gather.start_indices_batching_dims},
                                   {"start_index_map", &gather.start_index_map}},
                                  gather.index_vector_dim) &&
           required_list(attributes, "slice_sizes", at, gather.slice_sizes);
  }

  // The generic scatter's scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], ...,
  // index_vector_dim = 1>.
  bool parse_scatter_attributes(const Attributes& attributes, const Token& at, ScatterDimensions& scatter) {
    return parse_index_dimensions(attributes, "scatter_dimension_numbers", "#stablehlo.scatter", at,
                                  {{"update_window_dims", &scatter.update_window_dims},
                                   {"inserted_window_dims", &scatter.inserted_window_dims},
                                   {"input_batching_dims", &scatter.input_batching_dims},
                                   {"scatter_indices_batching_dims", &scatter.scatter_indices_batching_dims},
                                   {"scatter_dims_to_operand_dims", &scatter.scatter_dims_to_operand_dims}},
                                  scatter.index_vector_dim);
  }

  // The generic slice's start_indices, limit_indices and strides.
  bool parse_slice_attributes(const Attributes& attributes, const Token& at, SliceBounds& slice) {
    return required_list(attributes, "start_indices", at, slice.start) &&
           required_list(attributes, "limit_indices", at, slice.limit) &&
           required_list(attributes, "strides", at, slice.stride);
  }

  // The pretty slice's "[1:3, 4:8:2]": start:limit[:stride] for each dimension.
  bool parse_slice_ranges(const Token& at, SliceBounds& slice) {
    if (!expect_punct("[", "to open stablehlo.slice's ranges")) return false;
    while (!accept_punct("]")) {
      std::vector<int64_t> parts;
      while (true) {
        const Token& token = next();
        const auto number = token.kind == TokenKind::kNumber ? integer_of(token.text) : std::nullopt;
        if (!number) return fail(at, "expected an index in stablehlo.slice's ranges, found " + describe(token));
        parts.push_back(*number);
        if (!accept_punct(":")) break;
      }
      if (parts.size() != 2 && parts.size() != 3) return fail(at, "a slice range is start:limit or start:limit:stride");
      slice.start.push_back(parts[0]);
      slice.limit.push_back(parts[1]);
      slice.stride.push_back(parts.size() == 3 ? parts[2] : 1);
      if (!at_punct("]") && !expect_punct(",", "between slice ranges")) return false;
    }
    return true;
  }

  // The pretty form's "[0] x [1]": a list for each side.
  bool parse_dot_pair(const std::vector<Token>& value, const Token& at, std::vector<int64_t>& lhs,
                      std::vector<int64_t>& rhs) {
    auto x = std::find_if(value.begin(), value.end(),
                          [](const Token& token) { return token.kind == TokenKind::kIdentifier && token.text == "x"; });
    if (x == value.end()) return fail(at, "expected '[...] x [...]' in stablehlo.dot_general");
    auto left = integer_list(std::vector<Token>(value.begin(), x), at);
    auto right = integer_list(std::vector<Token>(x + 1, value.end()), at);
    if (!left || !right) return false;
    lhs = std::move(*left);
    rhs = std::move(*right);
    return true;
  }

  // ------------------------------------------------------------------------------------------------ operations

  std::optional<size_t> parse_value_use(const Scope& scope) {
    const Token& token = next();
    if (token.kind != TokenKind::kValue) {
      fail(token, "expected a value (%name), found " + describe(token));
      return std::nullopt;
    }
    auto found = scope.values.find(token.text);
    if (found == scope.values.end()) {
      fail(token, token.text + " is not defined before its use");
      return std::nullopt;
    }
    return found->second;
  }

  // The attribute `name` of a generic operation, which must be there.
  const std::vector<Token>* required(const Attributes& attributes, const std::string& name, const Token& at) {
    auto found = attributes.find(name);
    if (found != attributes.end()) return &found->second;
    fail(at, at.text + " lacks its " + name + " attribute");
    return nullptr;
  }

  // The list of dimension numbers the attribute `name` holds, which must be there, into `dimensions`.
  bool required_list(const Attributes& attributes, const std::string& name, const Token& at,
                     std::vector<int64_t>& dimensions) {
    const auto* value = required(attributes, name, at);
    if (value == nullptr) return false;
    auto numbers = integer_list(*value, at);
    if (!numbers) return false;
    dimensions = std::move(*numbers);
    return true;
  }

  // "stablehlo.op"(%a, %b) <{properties}> ({region}) {attributes} : (T, T) -> T
  bool parse_generic(Scope& scope, const Token& name, Operation& operation, std::vector<TensorType>& stated) {
    if (!expect_punct("(", "to open the operands")) return false;
    while (!accept_punct(")")) {
      auto operand = parse_value_use(scope);
      if (!operand) return false;
      operation.operands.push_back(*operand);
      if (!at_punct(")") && !expect_punct(",", "between operands")) return false;
    }
    Attributes attributes;
    if (at_punct("<") && at_punct("{", 1)) {
      next();
      if (!parse_attribute_dictionary(attributes) || !expect_punct(">", "to close the properties")) return false;
    }
    std::optional<Region> region;
    if (at_punct("(") && at_punct("{", 1)) {
      next();
      region = parse_region({});
      if (!region || !expect_punct(")", "after the region")) return false;
    }
    if (at_punct("{") && !parse_attribute_dictionary(attributes)) return false;
    if (!expect_punct(":", "before the operation's type")) return false;
    auto signature = parse_signature();
    if (!signature) return false;
    if (signature->second.size() != 1) return fail(name, name.text + " must have one result");
    stated = std::move(signature->first);
    operation.result = std::move(signature->second[0]);

    switch (operation.code) {
      case OpCode::kConstant: {
        const auto* value = required(attributes, "value", name);
        return value != nullptr && !value->empty() && parse_dense((*value)[0], operation.result, operation.constant);
      }
      case OpCode::kBroadcastInDim:
      case OpCode::kTranspose:
      case OpCode::kReduce: {
        const std::string key = operation.code == OpCode::kBroadcastInDim ? "broadcast_dimensions"
                                : operation.code == OpCode::kTranspose    ? "permutation"
                                                                          : "dimensions";
        if (!required_list(attributes, key, name, operation.dimensions)) return false;
        if (operation.code == OpCode::kReduce) {
          if (!region) return fail(name, "stablehlo.reduce has no region");
          const auto reducer = reducer_of(*region);
          if (!reducer) return false;
          operation.reducer = *reducer;
        }
        return true;
      }
      case OpCode::kDotGeneral: {
        const auto* value = required(attributes, "dot_dimension_numbers", name);
        return value != nullptr && parse_dot_attribute(*value, name, operation.dot);
      }
      case OpCode::kSlice:
        return parse_slice_attributes(attributes, name, operation.slice);
      case OpCode::kGather:
        return parse_gather_attributes(attributes, name, operation.gather);
      case OpCode::kScatter:
        if (!region) return fail(name, "stablehlo.scatter has no region");
        return check_replaces(*region) && parse_scatter_attributes(attributes, name, operation.scatter);
      case OpCode::kIota:
        return required_list(attributes, "iota_dimension", name, operation.dimensions);
      case OpCode::kConcatenate:
        return required_list(attributes, "dimension", name, operation.dimensions);
      case OpCode::kCompare: {
        const auto* value = required(attributes, "comparison_direction", name);
        return value != nullptr && parse_comparison(*value, name, operation.comparison);
      }
      default:
        return true;
    }
  }

  // LT, or #stablehlo<comparison_direction LT>.
  bool parse_comparison(const std::vector<Token>& value, const Token& at, Comparison& comparison) {
    const auto direction = value.empty()                        ? std::nullopt
                           : value[0].kind == TokenKind::kAngle ? comparison_of(value[0].body)
                                                                : comparison_of(value[0].text);
    if (!direction) {
      return fail(at, "expected a comparison direction (EQ, NE, LT, LE, GT, GE), found " +
                          (value.empty() ? std::string("nothing") : describe(value[0])));
    }
    comparison = *direction;
    return true;
  }

  // stablehlo.iota dim = 0 : T
  bool parse_pretty_iota(const Token& name, Operation& operation) {
    if (!expect_word("dim", "in stablehlo.iota") || !expect_punct("=", "after dim")) return false;
    const Token& number = next();
    const auto dimension = number.kind == TokenKind::kNumber ? integer_of(number.text) : std::nullopt;
    if (!dimension) return fail(name, "expected stablehlo.iota's dimension, found " + describe(number));
    operation.dimensions = {*dimension};
    if (!expect_punct(":", "before the operation's type")) return false;
    auto type = parse_type(next());
    if (!type) return false;
    operation.result = std::move(*type);
    return true;
  }

  // stablehlo.compare  LT, %a, %b[,  SIGNED] : (T, T) -> U
  bool parse_pretty_compare(Scope& scope, const Token& name, Operation& operation, std::vector<TensorType>& stated) {
    if (!parse_comparison({next()}, name, operation.comparison)) return false;
    for (int i = 0; i < 2; ++i) {
      if (!expect_punct(",", "in stablehlo.compare")) return false;
      auto operand = parse_value_use(scope);
      if (!operand) return false;
      operation.operands.push_back(*operand);
    }
    if (accept_punct(",") && peek().kind == TokenKind::kIdentifier) next();  // the comparison type: it adds nothing
    if (!expect_punct(":", "before the operation's type")) return false;
    auto signature = parse_signature();
    if (!signature) return false;
    if (signature->second.size() != 1) return fail(name, "stablehlo.compare must have one result");
    stated = std::move(signature->first);
    operation.result = std::move(signature->second[0]);
    return true;
  }

  // stablehlo.reduce(%x init: %zero) applies stablehlo.add across dimensions = [1] : (T, T) -> T, or the same with
  // "reducer(%a: T, %b: T) { ... }" after the type in place of "applies ...".
  bool parse_pretty_reduce(Scope& scope, const Token& name, Operation& operation, std::vector<TensorType>& stated) {
    if (!expect_punct("(", "after stablehlo.reduce")) return false;
    auto input = parse_value_use(scope);
    if (!input || !expect_word("init", "in stablehlo.reduce") || !expect_punct(":", "after init")) return false;
    auto init = parse_value_use(scope);
    if (!init || !expect_punct(")", "after the initial value")) return false;
    if (at_punct(",")) return fail(peek(), "stablehlo.reduce of several inputs is not supported");
    operation.operands = {*input, *init};

    std::optional<OpCode> reducer;
    if (at_word("applies")) {
      next();
      const Token& body = next();
      reducer = op_code(body.text);
      if (reducer != OpCode::kAdd && reducer != OpCode::kMaximum) {
        return fail(body, "stablehlo.reduce applies " + body.text + "; the fake reduces with stablehlo.add or maximum");
      }
    }
    if (!expect_word("across", "in stablehlo.reduce") || !expect_word("dimensions", "in stablehlo.reduce") ||
        !expect_punct("=", "after dimensions")) {
      return false;
    }
    auto value = collect_value({":"});
    if (!value) return false;
    auto dimensions = integer_list(*value, name);
    if (!dimensions || !expect_punct(":", "before the operation's type")) return false;
    operation.dimensions = std::move(*dimensions);
    auto signature = parse_signature();
    if (!signature) return false;
    if (signature->second.size() != 1) return fail(name, "stablehlo.reduce must have one result");
    stated = std::move(signature->first);
    operation.result = std::move(signature->second[0]);

    if (!reducer) {
      if (!expect_word("reducer", "after stablehlo.reduce's type")) return false;
      auto arguments = parse_block_arguments();
      if (!arguments) return false;
      const auto region = parse_region(std::move(*arguments));
      if (!region) return false;
      reducer = reducer_of(*region);
      if (!reducer) return false;
    }
    operation.reducer = *reducer;
    return true;
  }

  // stablehlo.op %a, %b, name = value : T   or   : (T, T) -> T
  bool parse_pretty(Scope& scope, const Token& name, Operation& operation, std::vector<TensorType>& stated) {
    if (operation.code == OpCode::kReduce) return parse_pretty_reduce(scope, name, operation, stated);
    if (operation.code == OpCode::kConstant) {
      const Token& dense = next();
      if (!expect_punct(":", "before the constant's type")) return false;
      auto type = parse_type(next());
      if (!type) return false;
      operation.result = std::move(*type);
      return parse_dense(dense, operation.result, operation.constant);
    }

    if (operation.code == OpCode::kGather || operation.code == OpCode::kScatter) {
      return fail(name, name.text + " has no pretty form; write it as JAX prints it, \"" + name.text + "\"(...)");
    }
    if (operation.code == OpCode::kIota) return parse_pretty_iota(name, operation);
    if (operation.code == OpCode::kCompare) return parse_pretty_compare(scope, name, operation, stated);

    Attributes attributes;
    if (peek().kind == TokenKind::kValue) {
      auto operand = parse_value_use(scope);
      if (!operand) return false;
      operation.operands.push_back(*operand);
    }
    if (operation.code == OpCode::kSlice && !parse_slice_ranges(name, operation.slice)) return false;
    while (accept_punct(",")) {
      if (peek().kind == TokenKind::kValue) {
        auto operand = parse_value_use(scope);
        if (!operand) return false;
        operation.operands.push_back(*operand);
        continue;
      }
      const Token& key = next();
      if (key.kind != TokenKind::kIdentifier || !expect_punct("=", "after " + key.text)) {
        return fail(key, "expected an operand or an attribute, found " + describe(key));
      }
      auto value = collect_value({",", ":"});
      if (!value) return false;
      attributes[key.text] = std::move(*value);
    }
    if (!expect_punct(":", "before the operation's type")) return false;
    if (at_punct("(")) {
      auto signature = parse_signature();
      if (!signature) return false;
      if (signature->second.size() != 1) return fail(name, name.text + " must have one result");
      stated = std::move(signature->first);
      operation.result = std::move(signature->second[0]);
    } else {
      auto type = parse_type(next());
      if (!type) return false;
      stated.assign(operation.operands.size(), *type);
      // select's short form: the predicate's type, then that of the other operands and the result.
      if (operation.code == OpCode::kSelect && accept_punct(",")) {
        auto result = parse_type(next());
        if (!result) return false;
        stated.assign(operation.operands.size(), *result);
        stated[0] = std::move(*type);
        type = std::move(result);
      }
      operation.result = std::move(*type);
    }

    switch (operation.code) {
      case OpCode::kBroadcastInDim:
      case OpCode::kTranspose:
        return required_list(attributes, "dims", name, operation.dimensions);
      case OpCode::kConcatenate:
        return required_list(attributes, "dim", name, operation.dimensions);
      case OpCode::kDotGeneral: {
        if (auto batching = attributes.find("batching_dims");
            batching != attributes.end() &&
            !parse_dot_pair(batching->second, name, operation.dot.lhs_batching, operation.dot.rhs_batching)) {
          return false;
        }
        const auto* contracting = required(attributes, "contracting_dims", name);
        return contracting != nullptr &&
               parse_dot_pair(*contracting, name, operation.dot.lhs_contracting, operation.dot.rhs_contracting);
      }
      default:
        return true;
    }
  }

  std::optional<Operation> parse_operation(Scope& scope) {
    const Token& name = next();
    const auto code = op_code(name.text);
    if ((name.kind != TokenKind::kString && name.kind != TokenKind::kIdentifier) || !code) {
      fail(name,
           name.text + " is not supported by the fake PJRT plugin, whose interpreter runs " + supported_op_names());
      return std::nullopt;
    }
    Operation operation;
    operation.code = *code;
    operation.line = name.line;
    std::vector<TensorType> stated;
    const bool parsed = name.kind == TokenKind::kString ? parse_generic(scope, name, operation, stated)
                                                        : parse_pretty(scope, name, operation, stated);
    if (!parsed) return std::nullopt;

    std::vector<TensorType> actual;
    for (size_t operand : operation.operands) actual.push_back(scope.program.value_type(operand));
    for (size_t i = 0; i < actual.size() && i < stated.size(); ++i) {
      if (actual[i] != stated[i]) {
        fail(name, name.text + ": operand " + std::to_string(i) + " is " + type_text(actual[i]) +
                       ", but the operation's type says " + type_text(stated[i]));
        return std::nullopt;
      }
    }
    if (auto checked = check_operation(operation, actual); !checked) {
      fail(name, name.text + ": " + checked.error().message);
      return std::nullopt;
    }
    return operation;
  }

  // ------------------------------------------------------------------------------------------------ blocks

  // "(%a: T, %b: T)": a block's arguments, named.
  std::optional<std::vector<std::pair<std::string, TensorType>>> parse_block_arguments() {
    std::vector<std::pair<std::string, TensorType>> arguments;
    if (!expect_punct("(", "to open the arguments")) return std::nullopt;
    while (!accept_punct(")")) {
      const Token& name = next();
      if (name.kind != TokenKind::kValue) {
        fail(name, "expected an argument (%name), found " + describe(name));
        return std::nullopt;
      }
      if (!expect_punct(":", "after " + name.text)) return std::nullopt;
      auto type = parse_type(next());
      if (!type) return std::nullopt;
      arguments.emplace_back(name.text, std::move(*type));
      if (at_punct("{")) {
        Attributes ignored;
        if (!parse_attribute_dictionary(ignored)) return std::nullopt;
      }
      if (!at_punct(")") && !expect_punct(",", "between arguments")) return std::nullopt;
    }
    return arguments;
  }

  // return %a, %b : T, T   |   "func.return"(%a) : (T) -> ()   (and stablehlo.return alike)
  bool parse_return(Scope& scope) {
    const Token& keyword = next();
    std::vector<size_t>& results = scope.program.results;
    if (keyword.kind == TokenKind::kString) {
      if (!expect_punct("(", "after " + keyword.text)) return false;
      while (!accept_punct(")")) {
        auto value = parse_value_use(scope);
        if (!value) return false;
        results.push_back(*value);
        if (!at_punct(")") && !expect_punct(",", "between results")) return false;
      }
      return expect_punct(":", "before the return's type") && parse_signature().has_value();
    }
    while (peek().kind == TokenKind::kValue) {
      auto value = parse_value_use(scope);
      if (!value) return false;
      results.push_back(*value);
      if (!accept_punct(",")) break;
    }
    if (accept_punct(":")) {
      for (size_t i = 0; i < results.size(); ++i) {
        if ((i > 0 && !expect_punct(",", "between types")) || !parse_type(next())) return false;
      }
    }
    return true;
  }

  // { [^bb0(%a: T, ...):] operations... return ... }
  bool parse_body(Scope& scope) {
    if (!expect_punct("{", "to open the body")) return false;
    if (peek().kind == TokenKind::kBlockLabel) {
      next();
      auto arguments = parse_block_arguments();
      if (!arguments || !expect_punct(":", "after the block's arguments")) return false;
      for (auto& [name, type] : *arguments) {
        scope.values[name] = scope.program.parameters.size();
        scope.program.parameters.push_back(std::move(type));
      }
    }
    while (true) {
      const Token& token = peek();
      if (token.kind == TokenKind::kValue) {
        next();
        if (!expect_punct("=", "after " + token.text)) return false;
        auto operation = parse_operation(scope);
        if (!operation) return false;
        if (scope.values.contains(token.text)) return fail(token, token.text + " is defined twice");
        scope.values[token.text] = scope.program.parameters.size() + scope.program.operations.size();
        scope.program.operations.push_back(std::move(*operation));
      } else if (token.text == "return" || token.text == "func.return" || token.text == "stablehlo.return") {
        return parse_return(scope) && expect_punct("}", "after the return");
      } else if (token.kind == TokenKind::kIdentifier || token.kind == TokenKind::kString) {
        return fail(token, token.text + " is not supported by the fake PJRT plugin, whose interpreter runs " +
                               supported_op_names());
      } else {
        return fail(token, "expected an operation or a return, found " + describe(token));
      }
    }
  }

  // { [^bb0(%a: T, ...):] operations... return ... }, whose block's arguments are `arguments` when they are named
  // before it (the pretty reduce's "reducer(%a: T, %b: T)").
  std::optional<Region> parse_region(std::vector<std::pair<std::string, TensorType>> arguments) {
    Region region{peek(), {}};
    Scope scope;
    for (auto& [name, type] : arguments) {
      scope.values[name] = scope.program.parameters.size();
      scope.program.parameters.push_back(std::move(type));
    }
    if (!parse_body(scope)) return std::nullopt;
    region.body = std::move(scope.program);
    return region;
  }

  // What a reduction's region combines with: it must return one stablehlo.add or stablehlo.maximum of its two
  // arguments.
  std::optional<OpCode> reducer_of(const Region& region) {
    const Program& body = region.body;
    const bool combines = body.parameters.size() == 2 && body.operations.size() == 1 &&
                          (body.operations[0].code == OpCode::kAdd || body.operations[0].code == OpCode::kMaximum) &&
                          std::is_permutation(body.operations[0].operands.begin(), body.operations[0].operands.end(),
                                              std::vector<size_t>{0, 1}.begin()) &&
                          body.results == std::vector<size_t>{2};
    if (!combines) {
      fail(region.start,
           "stablehlo.reduce's region must return one stablehlo.add or stablehlo.maximum of its two arguments");
      return std::nullopt;
    }
    return body.operations[0].code;
  }

  // A scatter's region must return its second argument (the update) as it is: the fake's scatter replaces.
  bool check_replaces(const Region& region) {
    const Program& body = region.body;
    if (body.parameters.size() == 2 && body.operations.empty() && body.results == std::vector<size_t>{1}) return true;
    return fail(region.start, "the fake's stablehlo.scatter replaces rows: its region must return its second argument");
  }

  // func.func [public] @main(%arg0: T {attributes}, ...) -> (T {attributes}, ...) [attributes {...}] { ... }
  bool parse_function(Scope& scope) {
    const Token& function = next();
    if (at_word("public") || at_word("private")) next();
    const Token& symbol = next();
    if (symbol.kind != TokenKind::kSymbol || symbol.text != "@main") {
      return fail(symbol,
                  "function " + symbol.text + ": the fake PJRT plugin runs programs of one function, func.func @main");
    }
    auto parameters = parse_block_arguments();
    if (!parameters) return false;
    for (auto& [name, type] : *parameters) {
      scope.values[name] = scope.program.parameters.size();
      scope.program.parameters.push_back(std::move(type));
    }
    std::optional<std::vector<TensorType>> declared;
    if (accept_punct("->")) {
      declared.emplace();
      const bool listed = accept_punct("(");
      while (!(listed && accept_punct(")"))) {
        auto type = parse_type(next());
        if (!type) return false;
        declared->push_back(std::move(*type));
        if (!listed) break;
        Attributes ignored;
        if (at_punct("{") && !parse_attribute_dictionary(ignored)) return false;
        if (!at_punct(")") && !expect_punct(",", "between result types")) return false;
      }
    }
    if (at_word("attributes")) {
      next();
      Attributes ignored;
      if (!parse_attribute_dictionary(ignored)) return false;
    }
    if (!parse_body(scope)) return false;
    std::vector<TensorType> returned;
    for (size_t value : scope.program.results) returned.push_back(scope.program.value_type(value));
    if (declared && *declared != returned) {
      return fail(function, "@main returns other types than its signature declares");
    }
    return true;
  }

  // "func.func"() <{function_type = ..., sym_name = "main"}> ({ ^bb0(%arg0: T, ...): ... }) : () -> ()
  bool parse_generic_function(Scope& scope) {
    const Token& function = next();
    if (!expect_punct("(", "after \"func.func\"") || !expect_punct(")", "after \"func.func\"(")) return false;
    Attributes attributes;
    if (accept_punct("<") && (!parse_attribute_dictionary(attributes) || !expect_punct(">", "to close properties"))) {
      return false;
    }
    if (at_punct("{") && !parse_attribute_dictionary(attributes)) return false;
    const auto name = attributes.find("sym_name");
    const std::string symbol = name == attributes.end() || name->second.empty() ? "" : "@" + name->second[0].text;
    if (symbol != "@main") {
      return fail(function,
                  "function " + symbol + ": the fake PJRT plugin runs programs of one function, func.func @main");
    }
    return expect_punct("(", "to open the function's region") && parse_body(scope) &&
           expect_punct(")", "to close the function's region") && expect_punct(":", "before func.func's type") &&
           parse_signature().has_value();
  }

  std::vector<Token> tokens_;
  size_t position_ = 0;
  std::optional<Error> error_;
};

}  // namespace

Result<Program> parse_program(std::string_view mlir) {
  auto tokens = tokenize(mlir);
  if (!tokens) return tokens.error();
  return Parser(std::move(*tokens)).parse();
}

}  // namespace tpustack::stablehlo_reference
