#pragma once

// A StableHLO program as the fake PJRT plugin runs it: one function's operations in order, each naming its operands
// by value number (the function's parameters first, then each operation's result).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::stablehlo_reference {

// i32 holds token ids and positions, i1 what compare finds (0 or 1); the interpreter keeps its values as floats,
// exact below 2^24.
enum class ElementType { kF32, kBF16, kI32, kI1 };

struct TensorType {
  ElementType element = ElementType::kF32;
  std::vector<int64_t> dims;

  int64_t element_count() const;
  bool operator==(const TensorType&) const = default;
};

// "tensor<2x3xf32>", as MLIR writes it.
std::string type_text(const TensorType& type);

enum class OpCode {
  kConstant,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kMaximum,
  kExponential,
  kTanh,
  kRsqrt,
  kSqrt,
  kNegate,
  kBroadcastInDim,
  kReshape,
  kTranspose,
  kDotGeneral,
  kReduce,
  kConvert,
  kSlice,
  kClamp,
  kGather,
  kCosine,
  kSine,
  kIota,
  kCompare,
  kSelect,
  kConcatenate,
  kScatter,
};

// compare's comparison_direction.
enum class Comparison { kEQ, kNE, kLT, kLE, kGT, kGE };

// "stablehlo.add" for kAdd; nullopt for a name outside the subset.
std::string_view op_name(OpCode code);
std::optional<OpCode> op_code(std::string_view name);
// The names of the subset, for messages: "stablehlo.constant, stablehlo.add, ...".
std::string supported_op_names();

struct DotDimensions {
  std::vector<int64_t> lhs_batching;
  std::vector<int64_t> rhs_batching;
  std::vector<int64_t> lhs_contracting;
  std::vector<int64_t> rhs_contracting;
};

// slice: the first index, one past the last and the step, for each dimension.
struct SliceBounds {
  std::vector<int64_t> start;
  std::vector<int64_t> limit;
  std::vector<int64_t> stride;
};

// gather's dimension numbers (https://openxla.org/stablehlo/spec#gather). The fake runs one form of them: whole rows
// of a table picked by an index per row, as JAX emits table[ids] (check_operation refuses the others).
struct GatherDimensions {
  std::vector<int64_t> offset_dims;
  std::vector<int64_t> collapsed_slice_dims;
  std::vector<int64_t> operand_batching_dims;
  std::vector<int64_t> start_indices_batching_dims;
  std::vector<int64_t> start_index_map;
  int64_t index_vector_dim = 0;
  std::vector<int64_t> slice_sizes;
};

// scatter's dimension numbers (https://openxla.org/stablehlo/spec#scatter). The fake runs one form of them: whole
// rows of a table replaced at an index per row, as inferd writes its KV cache (check_operation refuses the others).
struct ScatterDimensions {
  std::vector<int64_t> update_window_dims;
  std::vector<int64_t> inserted_window_dims;
  std::vector<int64_t> input_batching_dims;
  std::vector<int64_t> scatter_indices_batching_dims;
  std::vector<int64_t> scatter_dims_to_operand_dims;
  int64_t index_vector_dim = 0;
};

struct Operation {
  OpCode code = OpCode::kAdd;
  int line = 0;  // in the program's text, for errors
  std::vector<size_t> operands;
  TensorType result;
  // broadcast_in_dim: the result dimension of each operand dimension; transpose: the permutation; reduce: the
  // dimensions reduced; iota: the one it counts along; concatenate: the one it joins along.
  std::vector<int64_t> dimensions;
  DotDimensions dot;
  SliceBounds slice;
  GatherDimensions gather;
  ScatterDimensions scatter;
  OpCode reducer = OpCode::kAdd;  // reduce: kAdd or kMaximum
  Comparison comparison = Comparison::kEQ;
  std::vector<float> constant;  // constant: one value (a splat) or one per element, row-major
};

struct Program {
  std::vector<TensorType> parameters;
  std::vector<Operation> operations;
  std::vector<size_t> results;

  // The type of value number `value`.
  const TensorType& value_type(size_t value) const;
};

// Whether `operation` is well formed given its operands' types: counts, shapes, dimension numbers, as the StableHLO
// specification constrains them. The Error says what is wrong, without the operation's name or line.
Result<void> check_operation(const Operation& operation, const std::vector<TensorType>& operand_types);

}  // namespace tpustack::stablehlo_reference
