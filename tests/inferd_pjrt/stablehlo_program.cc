#include "tests/inferd_pjrt/stablehlo_program.h"

#include <algorithm>
#include <array>
#include <functional>
#include <numeric>
#include <utility>

namespace tpustack::stablehlo_reference {

namespace {

constexpr std::array<std::pair<std::string_view, OpCode>, 27> kOperations = {{
    {"stablehlo.constant", OpCode::kConstant},
    {"stablehlo.add", OpCode::kAdd},
    {"stablehlo.subtract", OpCode::kSubtract},
    {"stablehlo.multiply", OpCode::kMultiply},
    {"stablehlo.divide", OpCode::kDivide},
    {"stablehlo.maximum", OpCode::kMaximum},
    {"stablehlo.exponential", OpCode::kExponential},
    {"stablehlo.tanh", OpCode::kTanh},
    {"stablehlo.rsqrt", OpCode::kRsqrt},
    {"stablehlo.sqrt", OpCode::kSqrt},
    {"stablehlo.negate", OpCode::kNegate},
    {"stablehlo.broadcast_in_dim", OpCode::kBroadcastInDim},
    {"stablehlo.reshape", OpCode::kReshape},
    {"stablehlo.transpose", OpCode::kTranspose},
    {"stablehlo.dot_general", OpCode::kDotGeneral},
    {"stablehlo.reduce", OpCode::kReduce},
    {"stablehlo.convert", OpCode::kConvert},
    {"stablehlo.slice", OpCode::kSlice},
    {"stablehlo.clamp", OpCode::kClamp},
    {"stablehlo.gather", OpCode::kGather},
    {"stablehlo.cosine", OpCode::kCosine},
    {"stablehlo.sine", OpCode::kSine},
    {"stablehlo.iota", OpCode::kIota},
    {"stablehlo.compare", OpCode::kCompare},
    {"stablehlo.select", OpCode::kSelect},
    {"stablehlo.concatenate", OpCode::kConcatenate},
    {"stablehlo.scatter", OpCode::kScatter},
}};

std::string list_text(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i == 0 ? "" : ", ") + std::to_string(values[i]);
  return text + "]";
}

bool is_elementwise(OpCode code) {
  switch (code) {
    case OpCode::kAdd:
    case OpCode::kSubtract:
    case OpCode::kMultiply:
    case OpCode::kDivide:
    case OpCode::kMaximum:
    case OpCode::kExponential:
    case OpCode::kTanh:
    case OpCode::kRsqrt:
    case OpCode::kSqrt:
    case OpCode::kNegate:
    case OpCode::kCosine:
    case OpCode::kSine:
      return true;
    default:
      return false;
  }
}

// How many operands `code` takes (concatenate: any number from one, which check_operation sees to).
size_t operand_count(OpCode code) {
  switch (code) {
    case OpCode::kConstant:
    case OpCode::kIota:
      return 0;
    case OpCode::kAdd:
    case OpCode::kSubtract:
    case OpCode::kMultiply:
    case OpCode::kDivide:
    case OpCode::kMaximum:
    case OpCode::kDotGeneral:
    case OpCode::kReduce:
    case OpCode::kGather:
    case OpCode::kCompare:
      return 2;
    case OpCode::kClamp:
    case OpCode::kSelect:
    case OpCode::kScatter:
      return 3;
    default:
      return 1;
  }
}

// Each of `dimensions` names a dimension below `rank`, none twice.
Result<void> check_dimension_numbers(const std::vector<int64_t>& dimensions, size_t rank, std::string_view what) {
  std::vector<bool> seen(rank, false);
  for (int64_t dimension : dimensions) {
    if (dimension < 0 || static_cast<size_t>(dimension) >= rank || seen[dimension]) {
      return Error{std::string(what) + " " + list_text(dimensions) + " are not distinct dimensions of a rank-" +
                   std::to_string(rank) + " tensor"};
    }
    seen[dimension] = true;
  }
  return {};
}

Result<void> check_result_dims(const Operation& operation, const std::vector<int64_t>& expected) {
  if (operation.result.dims == expected) return {};
  return Error{"the result is " + type_text(operation.result) + ", but the operands give shape " + list_text(expected)};
}

Result<void> check_dot_general(const Operation& operation, const TensorType& lhs, const TensorType& rhs) {
  const DotDimensions& dot = operation.dot;
  if (dot.lhs_batching.size() != dot.rhs_batching.size() || dot.lhs_contracting.size() != dot.rhs_contracting.size()) {
    return Error{"the two sides name different numbers of batching or contracting dimensions"};
  }
  std::vector<int64_t> lhs_used = dot.lhs_batching;
  lhs_used.insert(lhs_used.end(), dot.lhs_contracting.begin(), dot.lhs_contracting.end());
  std::vector<int64_t> rhs_used = dot.rhs_batching;
  rhs_used.insert(rhs_used.end(), dot.rhs_contracting.begin(), dot.rhs_contracting.end());
  if (auto checked = check_dimension_numbers(lhs_used, lhs.dims.size(), "the lhs batching and contracting dims");
      !checked) {
    return checked;
  }
  if (auto checked = check_dimension_numbers(rhs_used, rhs.dims.size(), "the rhs batching and contracting dims");
      !checked) {
    return checked;
  }
  for (size_t i = 0; i < lhs_used.size(); ++i) {
    if (lhs.dims[lhs_used[i]] != rhs.dims[rhs_used[i]]) {
      return Error{"lhs dimension " + std::to_string(lhs_used[i]) + " (" + std::to_string(lhs.dims[lhs_used[i]]) +
                   ") and rhs dimension " + std::to_string(rhs_used[i]) + " (" + std::to_string(rhs.dims[rhs_used[i]]) +
                   ") differ in size"};
    }
  }
  std::vector<int64_t> expected;
  for (int64_t dimension : dot.lhs_batching) expected.push_back(lhs.dims[dimension]);
  for (size_t d = 0; d < lhs.dims.size(); ++d) {
    if (std::find(lhs_used.begin(), lhs_used.end(), static_cast<int64_t>(d)) == lhs_used.end()) {
      expected.push_back(lhs.dims[d]);
    }
  }
  for (size_t d = 0; d < rhs.dims.size(); ++d) {
    if (std::find(rhs_used.begin(), rhs_used.end(), static_cast<int64_t>(d)) == rhs_used.end()) {
      expected.push_back(rhs.dims[d]);
    }
  }
  return check_result_dims(operation, expected);
}

Result<void> check_slice(const Operation& operation, const TensorType& operand) {
  const SliceBounds& slice = operation.slice;
  const size_t rank = operand.dims.size();
  if (slice.start.size() != rank || slice.limit.size() != rank || slice.stride.size() != rank) {
    return Error{"the bounds do not name one range for each of " + type_text(operand) + "'s dimensions"};
  }
  std::vector<int64_t> expected;
  for (size_t d = 0; d < rank; ++d) {
    if (slice.start[d] < 0 || slice.start[d] > slice.limit[d] || slice.limit[d] > operand.dims[d] ||
        slice.stride[d] < 1) {
      return Error{"range " + std::to_string(slice.start[d]) + ":" + std::to_string(slice.limit[d]) + ":" +
                   std::to_string(slice.stride[d]) + " does not fit dimension " + std::to_string(d) + " of " +
                   type_text(operand)};
    }
    expected.push_back((slice.limit[d] - slice.start[d] + slice.stride[d] - 1) / slice.stride[d]);
  }
  return check_result_dims(operation, expected);
}

Result<void> check_clamp(const Operation& operation, const std::vector<TensorType>& operands) {
  const TensorType& operand = operands[1];
  for (size_t i : {0, 2}) {
    if (operands[i].element != operand.element || (!operands[i].dims.empty() && operands[i].dims != operand.dims)) {
      return Error{"bound " + type_text(operands[i]) + " is neither a scalar of " + type_text(operand) +
                   "'s element type nor of its type"};
    }
  }
  if (operation.result != operand) {
    return Error{"the result is " + type_text(operation.result) + ", the operand " + type_text(operand)};
  }
  return {};
}

// The one form the fake gathers in: table [N, H], indices [..., 1] of i32, each picking a whole row.
Result<void> check_gather(const Operation& operation, const TensorType& table, const TensorType& indices) {
  const GatherDimensions& gather = operation.gather;
  const auto last = static_cast<int64_t>(indices.dims.size()) - 1;
  const bool rows = table.dims.size() == 2 && last >= 0 && indices.dims.back() == 1 &&
                    gather.offset_dims == std::vector<int64_t>{last} &&
                    gather.collapsed_slice_dims == std::vector<int64_t>{0} &&
                    gather.start_index_map == std::vector<int64_t>{0} && gather.operand_batching_dims.empty() &&
                    gather.start_indices_batching_dims.empty() && gather.index_vector_dim == last &&
                    gather.slice_sizes == std::vector<int64_t>{1, table.dims[1]};
  if (!rows) {
    return Error{
        "the fake gathers whole rows of a [N, H] table by indices [..., 1] only (table[ids], as JAX emits it: "
        "offset_dims = [last], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = last, "
        "slice_sizes = [1, H]); this gathers " +
        type_text(table) + " by " + type_text(indices) + " in another form"};
  }
  if (indices.element != ElementType::kI32) return Error{"the indices are " + type_text(indices) + ", not i32"};
  std::vector<int64_t> expected(indices.dims.begin(), indices.dims.end() - 1);
  expected.push_back(table.dims[1]);
  return check_result_dims(operation, expected);
}

// The one form the fake scatters in: rows of an [N, W] operand replaced by updates [M, W] at indices [M, 1] of i32,
// as inferd writes its KV cache; the result is the operand's type.
Result<void> check_scatter(const Operation& operation, const std::vector<TensorType>& operands) {
  const TensorType& operand = operands[0];
  const TensorType& indices = operands[1];
  const TensorType& updates = operands[2];
  const ScatterDimensions& scatter = operation.scatter;
  const bool rows = operand.dims.size() == 2 && indices.dims.size() == 2 && indices.dims[1] == 1 &&
                    updates.dims == std::vector<int64_t>{indices.dims[0], operand.dims[1]} &&
                    scatter.update_window_dims == std::vector<int64_t>{1} &&
                    scatter.inserted_window_dims == std::vector<int64_t>{0} &&
                    scatter.scatter_dims_to_operand_dims == std::vector<int64_t>{0} &&
                    scatter.input_batching_dims.empty() && scatter.scatter_indices_batching_dims.empty() &&
                    scatter.index_vector_dim == 1;
  if (!rows) {
    return Error{
        "the fake scatters whole rows into an [N, W] operand only, updates [M, W] at indices [M, 1] "
        "(update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], "
        "index_vector_dim = 1); this scatters " +
        type_text(updates) + " into " + type_text(operand) + " at " + type_text(indices) + " in another form"};
  }
  if (indices.element != ElementType::kI32) return Error{"the indices are " + type_text(indices) + ", not i32"};
  if (updates.element != operand.element) {
    return Error{"the updates are " + type_text(updates) + ", the operand " + type_text(operand) +
                 "; they must have one element type"};
  }
  if (operation.result != operand) {
    return Error{"the result is " + type_text(operation.result) + ", the operand " + type_text(operand)};
  }
  return {};
}

// Operands of one type; an i1 result of their shape.
Result<void> check_compare(const Operation& operation, const std::vector<TensorType>& operands) {
  if (operands[0] != operands[1]) {
    return Error{"the operands are " + type_text(operands[0]) + " and " + type_text(operands[1]) + ", not one type"};
  }
  if (operation.result != TensorType{ElementType::kI1, operands[0].dims}) {
    return Error{"the result is " + type_text(operation.result) + ", not i1 of the operands' shape"};
  }
  return {};
}

// An i1 predicate, scalar or of the operands' shape; two operands of the result's type.
Result<void> check_select(const Operation& operation, const std::vector<TensorType>& operands) {
  const TensorType& predicate = operands[0];
  if (predicate.element != ElementType::kI1 || (!predicate.dims.empty() && predicate.dims != operation.result.dims)) {
    return Error{"the predicate " + type_text(predicate) + " is neither an i1 scalar nor i1 of the result's shape"};
  }
  for (size_t i : {1, 2}) {
    if (operands[i] != operation.result) {
      return Error{"operand " + std::to_string(i) + " is " + type_text(operands[i]) + ", the result " +
                   type_text(operation.result)};
    }
  }
  return {};
}

Result<void> check_iota(const Operation& operation) {
  if (operation.dimensions.size() != 1 || operation.dimensions[0] < 0 ||
      static_cast<size_t>(operation.dimensions[0]) >= operation.result.dims.size()) {
    return Error{"dim " + list_text(operation.dimensions) + " is not one dimension of " + type_text(operation.result)};
  }
  return {};
}

// Operands of one element type and rank that differ in size along the dimension only, which the result sums.
Result<void> check_concatenate(const Operation& operation, const std::vector<TensorType>& operands) {
  const size_t rank = operands[0].dims.size();
  if (operation.dimensions.size() != 1 || operation.dimensions[0] < 0 ||
      static_cast<size_t>(operation.dimensions[0]) >= rank) {
    return Error{"dim " + list_text(operation.dimensions) + " is not one dimension of " + type_text(operands[0])};
  }
  const auto dimension = static_cast<size_t>(operation.dimensions[0]);
  std::vector<int64_t> expected = operands[0].dims;
  expected[dimension] = 0;
  for (const TensorType& operand : operands) {
    bool fits = operand.element == operands[0].element && operand.dims.size() == rank;
    for (size_t d = 0; fits && d < rank; ++d) fits = d == dimension || operand.dims[d] == operands[0].dims[d];
    if (!fits) {
      return Error{type_text(operand) + " and " + type_text(operands[0]) + " cannot be joined along dimension " +
                   std::to_string(dimension)};
    }
    expected[dimension] += operand.dims[dimension];
  }
  return check_result_dims(operation, expected);
}

Result<void> check_shapes(const Operation& operation, const std::vector<TensorType>& operands) {
  const TensorType& result = operation.result;
  if (is_elementwise(operation.code)) {
    for (size_t i = 0; i < operands.size(); ++i) {
      if (operands[i] != result) {
        return Error{"operand " + std::to_string(i) + " is " + type_text(operands[i]) + ", the result " +
                     type_text(result) + "; element-wise operations keep their operands' type"};
      }
    }
    return {};
  }
  switch (operation.code) {
    case OpCode::kCompare:
      return check_compare(operation, operands);
    case OpCode::kSelect:
      return check_select(operation, operands);
    case OpCode::kIota:
      return check_iota(operation);
    default:
      break;
  }
  const bool keeps_element = operation.code != OpCode::kConstant && operation.code != OpCode::kConvert &&
                             operation.code != OpCode::kDotGeneral;
  if (keeps_element && operands[0].element != result.element) {
    return Error{"the operand is " + type_text(operands[0]) + ", the result " + type_text(result) +
                 "; only stablehlo.convert changes the element type"};
  }
  switch (operation.code) {
    case OpCode::kConstant:
      if (operation.constant.size() == 1 || static_cast<int64_t>(operation.constant.size()) == result.element_count()) {
        return {};
      }
      return Error{std::to_string(operation.constant.size()) + " values for " + type_text(result)};
    case OpCode::kConvert:
      return check_result_dims(operation, operands[0].dims);
    case OpCode::kReshape:
      if (operands[0].element_count() == result.element_count()) return {};
      return Error{type_text(operands[0]) + " cannot be reshaped to " + type_text(result)};
    case OpCode::kBroadcastInDim: {
      const TensorType& operand = operands[0];
      if (operation.dimensions.size() != operand.dims.size()) {
        return Error{"dims " + list_text(operation.dimensions) + " do not name one result dimension for each of " +
                     type_text(operand) + "'s"};
      }
      if (auto checked = check_dimension_numbers(operation.dimensions, result.dims.size(), "dims"); !checked) {
        return checked;
      }
      for (size_t i = 0; i < operand.dims.size(); ++i) {
        if (operand.dims[i] != 1 && operand.dims[i] != result.dims[operation.dimensions[i]]) {
          return Error{type_text(operand) + " cannot be broadcast to " + type_text(result) + " along dims " +
                       list_text(operation.dimensions)};
        }
      }
      return {};
    }
    case OpCode::kTranspose: {
      const TensorType& operand = operands[0];
      if (operation.dimensions.size() != operand.dims.size()) {
        return Error{"permutation " + list_text(operation.dimensions) + " does not fit " + type_text(operand)};
      }
      if (auto checked = check_dimension_numbers(operation.dimensions, operand.dims.size(), "permutation"); !checked) {
        return checked;
      }
      std::vector<int64_t> expected;
      for (int64_t dimension : operation.dimensions) expected.push_back(operand.dims[dimension]);
      return check_result_dims(operation, expected);
    }
    case OpCode::kDotGeneral:
      return check_dot_general(operation, operands[0], operands[1]);
    case OpCode::kSlice:
      return check_slice(operation, operands[0]);
    case OpCode::kClamp:
      return check_clamp(operation, operands);
    case OpCode::kGather:
      return check_gather(operation, operands[0], operands[1]);
    case OpCode::kScatter:
      return check_scatter(operation, operands);
    case OpCode::kConcatenate:
      return check_concatenate(operation, operands);
    case OpCode::kReduce: {
      const TensorType& operand = operands[0];
      if (!operands[1].dims.empty() || operands[1].element != operand.element) {
        return Error{"the initial value is " + type_text(operands[1]) + ", not a scalar of the operand's type"};
      }
      if (auto checked = check_dimension_numbers(operation.dimensions, operand.dims.size(), "dimensions"); !checked) {
        return checked;
      }
      std::vector<int64_t> expected;
      for (size_t d = 0; d < operand.dims.size(); ++d) {
        if (std::find(operation.dimensions.begin(), operation.dimensions.end(), static_cast<int64_t>(d)) ==
            operation.dimensions.end()) {
          expected.push_back(operand.dims[d]);
        }
      }
      return check_result_dims(operation, expected);
    }
    default:
      return {};
  }
}

}  // namespace

int64_t TensorType::element_count() const {
  return std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
}

std::string type_text(const TensorType& type) {
  std::string text = "tensor<";
  for (int64_t dimension : type.dims) text += std::to_string(dimension) + "x";
  switch (type.element) {
    case ElementType::kF32:
      return text + "f32>";
    case ElementType::kBF16:
      return text + "bf16>";
    case ElementType::kI32:
      return text + "i32>";
    case ElementType::kI1:
      break;
  }
  return text + "i1>";
}

std::string_view op_name(OpCode code) {
  for (const auto& [name, known] : kOperations) {
    if (known == code) return name;
  }
  return "?";
}

std::optional<OpCode> op_code(std::string_view name) {
  for (const auto& [known, code] : kOperations) {
    if (known == name) return code;
  }
  return std::nullopt;
}

std::string supported_op_names() {
  std::string names;
  for (const auto& [name, code] : kOperations) names += (names.empty() ? "" : ", ") + std::string(name);
  return names;
}

const TensorType& Program::value_type(size_t value) const {
  return value < parameters.size() ? parameters[value] : operations[value - parameters.size()].result;
}

Result<void> check_operation(const Operation& operation, const std::vector<TensorType>& operand_types) {
  if (operation.code == OpCode::kConcatenate) {
    if (operand_types.empty()) return Error{"takes one operand or more, not 0"};
  } else if (operand_types.size() != operand_count(operation.code)) {
    return Error{"takes " + std::to_string(operand_count(operation.code)) + " operands, not " +
                 std::to_string(operand_types.size())};
  }
  return check_shapes(operation, operand_types);
}

}  // namespace tpustack::stablehlo_reference
