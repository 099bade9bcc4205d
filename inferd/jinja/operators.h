#pragma once

#include "common/result/result.h"
#include "inferd/jinja/value.h"

// Python's arithmetic and membership operators on template values.
namespace tpustack::inferd::jinja {

enum class ArithmeticOp { kAdd, kSubtract, kMultiply, kDivide, kFloorDivide, kModulo, kPower };

// a <op> b as Python computes it: int with int stays int (an Error where int64 overflows, where Python's ints
// would grow), `/` gives a float, `//` and `%` round toward negative infinity; `+` also joins strings and lists,
// `*` repeats them.
Result<Value> arithmetic(ArithmeticOp op, const Value& a, const Value& b);
// -value (negate) or +value.
Result<Value> unary_sign(const Value& value, bool negate);
// Python's `item in container`: a substring, an element, or a key.
Result<bool> contains(const Value& container, const Value& item);

}  // namespace tpustack::inferd::jinja
