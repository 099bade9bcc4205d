#include "inferd/jinja/operators.h"

#include <cmath>

namespace tpustack::inferd::jinja {

namespace {

// `'ab' * n`, `[x] * n` and `a + b` beyond this many bytes or items: a template that would exhaust memory.
constexpr int64_t kRepeatLimit = int64_t{1} << 26;

const char* symbol(ArithmeticOp op) {
  switch (op) {
    case ArithmeticOp::kAdd:
      return "+";
    case ArithmeticOp::kSubtract:
      return "-";
    case ArithmeticOp::kMultiply:
      return "*";
    case ArithmeticOp::kDivide:
      return "/";
    case ArithmeticOp::kFloorDivide:
      return "//";
    case ArithmeticOp::kModulo:
      return "%";
    case ArithmeticOp::kPower:
      return "**";
  }
  return "?";
}

Error unsupported(ArithmeticOp op, const Value& a, const Value& b) {
  return Error{std::string("unsupported operand type(s) for ") + symbol(op) + ": '" + type_name(a) + "' and '" +
               type_name(b) + "'"};
}

Error overflow() { return Error{"integer overflow (beyond 64 bits)"}; }

// Python's float divmod: the remainder takes the divisor's sign.
std::pair<double, double> float_divmod(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0) {
    if ((y < 0) != (mod < 0)) {
      mod += y;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, y);
  }
  double floor_div = 0;
  if (div != 0) {
    floor_div = std::floor(div);
    if (div - floor_div > 0.5) floor_div += 1.0;
  } else {
    floor_div = std::copysign(0.0, x / y);
  }
  return {floor_div, mod};
}

Result<Value> integer_arithmetic(ArithmeticOp op, int64_t x, int64_t y) {
  int64_t out = 0;
  switch (op) {
    case ArithmeticOp::kAdd:
      if (__builtin_add_overflow(x, y, &out)) return overflow();
      return Value(out);
    case ArithmeticOp::kSubtract:
      if (__builtin_sub_overflow(x, y, &out)) return overflow();
      return Value(out);
    case ArithmeticOp::kMultiply:
      if (__builtin_mul_overflow(x, y, &out)) return overflow();
      return Value(out);
    case ArithmeticOp::kDivide:
      if (y == 0) return Error{"division by zero"};
      return Value(static_cast<double>(x) / static_cast<double>(y));
    case ArithmeticOp::kFloorDivide:
    case ArithmeticOp::kModulo: {
      if (y == 0) return Error{"integer division or modulo by zero"};
      if (x == INT64_MIN && y == -1) return overflow();
      int64_t quotient = x / y;
      int64_t remainder = x % y;
      if (remainder != 0 && ((remainder < 0) != (y < 0))) {
        --quotient;
        remainder += y;
      }
      return Value(op == ArithmeticOp::kFloorDivide ? quotient : remainder);
    }
    case ArithmeticOp::kPower: {
      if (y < 0) {
        if (x == 0) return Error{"0.0 cannot be raised to a negative power"};
        return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
      }
      int64_t result = 1;
      for (int64_t i = 0; i < y && result != 0; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) return overflow();
        if (result == 1 && x == 1) break;
        if (x == -1) {  // alternates forever; settle by parity
          result = y % 2 == 0 ? 1 : -1;
          break;
        }
      }
      return Value(result);
    }
  }
  return overflow();
}

Result<Value> float_arithmetic(ArithmeticOp op, double x, double y) {
  switch (op) {
    case ArithmeticOp::kAdd:
      return Value(x + y);
    case ArithmeticOp::kSubtract:
      return Value(x - y);
    case ArithmeticOp::kMultiply:
      return Value(x * y);
    case ArithmeticOp::kDivide:
      if (y == 0) return Error{"float division by zero"};
      return Value(x / y);
    case ArithmeticOp::kFloorDivide:
      if (y == 0) return Error{"float floor division by zero"};
      return Value(float_divmod(x, y).first);
    case ArithmeticOp::kModulo:
      if (y == 0) return Error{"float modulo"};
      return Value(float_divmod(x, y).second);
    case ArithmeticOp::kPower:
      if (x == 0 && y < 0) return Error{"0.0 cannot be raised to a negative power"};
      return Value(std::pow(x, y));
  }
  return Value(0.0);
}

Result<Value> repeat(const Value& repeated, int64_t times) {
  times = std::max<int64_t>(times, 0);
  if (const std::string* s = repeated.string()) {
    if (!s->empty() && times > kRepeatLimit / static_cast<int64_t>(s->size())) return Error{"repetition too large"};
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += *s;
    return Value(std::move(out));
  }
  const Sequence* sequence = repeated.sequence();
  if (!sequence->items.empty() && times > kRepeatLimit / static_cast<int64_t>(sequence->items.size())) {
    return Error{"repetition too large"};
  }
  Sequence out{{}, sequence->kind};
  for (int64_t i = 0; i < times; ++i) out.items.insert(out.items.end(), sequence->items.begin(), sequence->items.end());
  return Value(std::move(out));
}

bool repeatable(const Value& value) {
  const Sequence* sequence = value.sequence();
  return value.is_string() || (sequence && sequence->kind != Sequence::Kind::kIterator);
}

}  // namespace

Result<Value> arithmetic(ArithmeticOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_integer() && b.is_integer()) return integer_arithmetic(op, *a.integer(), *b.integer());
  if (a.is_number() && b.is_number()) return float_arithmetic(op, *a.number(), *b.number());
  if (op == ArithmeticOp::kAdd) {
    if (const std::string* x = a.string()) {
      const std::string* y = b.string();
      if (!y) return Error{"can only concatenate str (not \"" + type_name(b) + "\") to str"};
      if (static_cast<int64_t>(x->size() + y->size()) > kRepeatLimit) return Error{"concatenation too large"};
      return Value(*x + *y);
    }
    const Sequence* x = a.sequence();
    const Sequence* y = b.sequence();
    if (x && x->kind != Sequence::Kind::kIterator) {
      if (!y || y->kind != x->kind) {
        return Error{"can only concatenate " + type_name(a) + " (not \"" + type_name(b) + "\") to " + type_name(a)};
      }
      if (static_cast<int64_t>(x->items.size() + y->items.size()) > kRepeatLimit) {
        return Error{"concatenation too large"};
      }
      Sequence joined = *x;
      joined.items.insert(joined.items.end(), y->items.begin(), y->items.end());
      return Value(std::move(joined));
    }
  }
  if (op == ArithmeticOp::kMultiply) {
    if (repeatable(a) && b.is_integer()) return repeat(a, *b.integer());
    if (a.is_integer() && repeatable(b)) return repeat(b, *a.integer());
  }
  if (op == ArithmeticOp::kModulo && a.is_string()) {
    return Error{"printf-style formatting (string % values) is not supported"};
  }
  return unsupported(op, a, b);
}

Result<Value> unary_sign(const Value& value, bool negate) {
  if (value.is_undefined()) return undefined_error(value);
  if (auto i = value.integer()) {
    if (!negate) return Value(*i);
    if (*i == INT64_MIN) return overflow();
    return Value(-*i);
  }
  if (const double* d = value.get_if<double>()) return Value(negate ? -*d : *d);
  return Error{std::string("bad operand type for unary ") + (negate ? "-" : "+") + ": '" + type_name(value) + "'"};
}

Result<bool> contains(const Value& container, const Value& item) {
  if (container.is_undefined()) return false;  // undefined iterates as empty
  if (const std::string* text = container.string()) {
    const std::string* needle = item.string();
    if (!needle) return Error{"'in <string>' requires string as left operand, not " + type_name(item)};
    return text->find(*needle) != std::string::npos;
  }
  if (const Sequence* sequence = container.sequence()) {
    for (const Value& element : sequence->items) {
      if (equals(element, item)) return true;
    }
    return false;
  }
  if (const Mapping* mapping = container.mapping()) {
    const Sequence* sequence = item.sequence();
    if (item.mapping() || (sequence && sequence->kind == Sequence::Kind::kList)) {
      return Error{"unhashable type: '" + type_name(item) + "'"};
    }
    const std::string* key = item.string();
    return key != nullptr && mapping->find(*key) != nullptr;
  }
  return Error{"argument of type '" + type_name(container) + "' is not iterable"};
}

}  // namespace tpustack::inferd::jinja
