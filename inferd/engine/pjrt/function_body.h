#pragma once

// The body of a StableHLO func.func @main written as MLIR text, one operation a line in the pretty form JAX prints,
// for the programs inferd emits for a PJRT plugin (encoder_program.h, decoder_program.h). Values are numbered in
// order and splat constants are defined once, so the same calls give the same bytes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tpustack::inferd::engine::pjrt::stablehlo {

enum class Element { f32, bf16, i32, i1 };

// A value of the function: its SSA name and its type.
struct Value {
  std::string name;
  std::vector<int64_t> dims;
  Element element = Element::f32;
};

// "tensor<2x3xf32>".
std::string type_text(const std::vector<int64_t>& dims, Element element);
std::string type_text(const Value& value);
// "[1, 2]".
std::string list_text(const std::vector<int64_t>& values);

class FunctionBody {
 public:
  const std::string& text() const { return text_; }

  // Splats: `value` in every element.
  Value constant(float value, const std::vector<int64_t>& dims);
  Value integer_constant(int64_t value, const std::vector<int64_t>& dims);  // i32
  Value minus_infinity();                                                   // an f32 scalar

  // add, subtract, multiply, divide, maximum: operands of one type.
  Value binary(std::string_view op, const Value& a, const Value& b);
  // exponential, tanh, sqrt, rsqrt, negate.
  Value unary(std::string_view op, const Value& a);
  // `a` with the constant `value` in every element, by `op` (f32).
  Value with_scalar(std::string_view op, const Value& a, float value);

  Value broadcast(const Value& a, const std::vector<int64_t>& dims_map, const std::vector<int64_t>& dims);
  Value reshape(const Value& a, const std::vector<int64_t>& dims);
  Value transpose(const Value& a, const std::vector<int64_t>& permutation);
  Value convert(const Value& a, Element element);
  // Rows start..limit of each dimension.
  Value slice(const Value& a, const std::vector<int64_t>& start, const std::vector<int64_t>& limit);
  // The parts joined along `dimension`.
  Value concatenate(const std::vector<Value>& parts, int64_t dimension);
  // Each element of `a` within [low, high].
  Value clamp(float low, const Value& a, float high);
  // An i32 tensor of `dims` whose elements count along `dimension`.
  Value iota(const std::vector<int64_t>& dims, int64_t dimension);
  // i1: `a` `direction` `b` element by element (EQ, NE, LT, LE, GT, GE), signed for i32, as floats for f32.
  Value compare(std::string_view direction, const Value& a, const Value& b);
  // `on_true` where `predicate` (i1 of their shape) holds, else `on_false`.
  Value select(const Value& predicate, const Value& on_true, const Value& on_false);
  // The f32 product of `a` and `b` over the dimension pairs, as dot_general orders its result: batching dimensions,
  // then a's free ones, then b's. `precision` is XLA's for both operands: DEFAULT lets a TPU multiply f32 in one
  // bf16 pass, HIGHEST keeps f32's digits (for a product that only moves values, by a one-hot operand).
  Value dot(const Value& a, const Value& b, const std::vector<int64_t>& a_batching,
            const std::vector<int64_t>& b_batching, const std::vector<int64_t>& a_contracting,
            const std::vector<int64_t>& b_contracting, std::string_view precision = "DEFAULT");
  // Sums (add) or maxima (maximum) of f32 `a` across `dimensions`.
  Value reduce(std::string_view op, const Value& a, const std::vector<int64_t>& dimensions);
  // Rows of `table` [N, H] picked by `indices` [..., 1]: table[ids] as JAX emits it (mode clip: an index out of range
  // takes the nearest row).
  Value gather_rows(const Value& table, const Value& indices);
  // `table` [N, W] with row indices[m] replaced by rows[m] for each m: `indices` [M, 1] i32, `rows` [M, W]. An
  // index outside the table writes nothing (XLA's scatter drops it).
  Value scatter_rows(const Value& table, const Value& indices, const Value& rows);

 private:
  // "(A, B) -> " for an operation whose type is written with its operands'.
  static std::string signature(const std::vector<Value>& operands);
  // A constant of `dims` whose every element is `number`, defined once: every later operation in the one block may
  // use it.
  Value splat(const std::string& number, const std::vector<int64_t>& dims, Element element);
  // Appends "%N = op : [signature]type" and returns %N.
  Value emit(const std::string& op, const std::vector<int64_t>& dims, Element element, const std::string& signature);

  std::string text_;
  int next_ = 0;
  std::map<std::string, Value> constants_;
};

}  // namespace tpustack::inferd::engine::pjrt::stablehlo
