#include "tests/inferd_pjrt/stablehlo_interpreter.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "tests/inferd_pjrt/bfloat16.h"

namespace tpustack::stablehlo_reference {

namespace {

std::vector<int64_t> index_of(int64_t linear, const std::vector<int64_t>& dims) {
  std::vector<int64_t> index(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    index[d] = linear % dims[d];
    linear /= dims[d];
  }
  return index;
}

int64_t linear_of(const std::vector<int64_t>& index, const std::vector<int64_t>& dims) {
  int64_t linear = 0;
  for (size_t d = 0; d < dims.size(); ++d) linear = linear * dims[d] + index[d];
  return linear;
}

bool contains(const std::vector<int64_t>& dimensions, size_t dimension) {
  return std::find(dimensions.begin(), dimensions.end(), static_cast<int64_t>(dimension)) != dimensions.end();
}

// The dimensions of a rank-`rank` operand that neither list names, in order.
std::vector<int64_t> free_dimensions(size_t rank, const std::vector<int64_t>& batching,
                                     const std::vector<int64_t>& contracting) {
  std::vector<int64_t> free;
  for (size_t d = 0; d < rank; ++d) {
    if (!contains(batching, d) && !contains(contracting, d)) free.push_back(static_cast<int64_t>(d));
  }
  return free;
}

float unary(OpCode code, float x) {
  switch (code) {
    case OpCode::kExponential:
      return std::exp(x);
    case OpCode::kTanh:
      return std::tanh(x);
    case OpCode::kRsqrt:
      return 1.0f / std::sqrt(x);
    case OpCode::kSqrt:
      return std::sqrt(x);
    case OpCode::kNegate:
      return -x;
    case OpCode::kCosine:
      return std::cos(x);
    case OpCode::kSine:
      return std::sin(x);
    default:  // kConvert, kReshape: the value as it is
      return x;
  }
}

float binary(OpCode code, float a, float b) {
  switch (code) {
    case OpCode::kAdd:
      return a + b;
    case OpCode::kSubtract:
      return a - b;
    case OpCode::kMultiply:
      return a * b;
    case OpCode::kDivide:
      return a / b;
    default:  // kMaximum, which propagates NaN
      return std::isnan(a) ? a : std::isnan(b) ? b : std::max(a, b);
  }
}

std::vector<float> broadcast_in_dim(const Tensor& operand, const Operation& operation) {
  const auto& dims = operation.result.dims;
  std::vector<float> values(operation.result.element_count());
  std::vector<int64_t> source(operand.type.dims.size());
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
    const auto index = index_of(i, dims);
    for (size_t d = 0; d < source.size(); ++d) {
      source[d] = operand.type.dims[d] == 1 ? 0 : index[operation.dimensions[d]];
    }
    values[i] = operand.values[linear_of(source, operand.type.dims)];
  }
  return values;
}

std::vector<float> transpose(const Tensor& operand, const Operation& operation) {
  std::vector<float> values(operation.result.element_count());
  std::vector<int64_t> source(operand.type.dims.size());
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
    const auto index = index_of(i, operation.result.dims);
    for (size_t d = 0; d < index.size(); ++d) source[operation.dimensions[d]] = index[d];
    values[i] = operand.values[linear_of(source, operand.type.dims)];
  }
  return values;
}

// Row-major strides of an array of shape `dims`.
std::vector<int64_t> strides_of(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) strides[d - 1] = strides[d] * dims[d];
  return strides;
}

// Where each of `count` row-major positions over the sizes of `dimensions` of an array lies in it.
std::vector<int64_t> offsets_over(const std::vector<int64_t>& dimensions, const std::vector<int64_t>& dims) {
  const auto strides = strides_of(dims);
  std::vector<int64_t> sizes;
  for (int64_t dimension : dimensions) sizes.push_back(dims[dimension]);
  int64_t count = 1;
  for (int64_t size : sizes) count *= size;
  std::vector<int64_t> offsets(count);
  for (int64_t i = 0; i < count; ++i) {
    const auto index = index_of(i, sizes);
    for (size_t k = 0; k < index.size(); ++k) offsets[i] += index[k] * strides[dimensions[k]];
  }
  return offsets;
}

// Result dimensions: the batching ones, then lhs's free ones, then rhs's; each element sums over the contracting
// dimensions in row-major order, in float32 whatever the operands' type.
std::vector<float> dot_general(const Tensor& lhs, const Tensor& rhs, const Operation& operation) {
  const DotDimensions& dot = operation.dot;
  const auto lhs_free = free_dimensions(lhs.type.dims.size(), dot.lhs_batching, dot.lhs_contracting);
  const auto rhs_free = free_dimensions(rhs.type.dims.size(), dot.rhs_batching, dot.rhs_contracting);
  // Each result element's start in either operand is the sum of its batch, lhs-free and rhs-free offsets.
  const auto lhs_batch = offsets_over(dot.lhs_batching, lhs.type.dims);
  const auto rhs_batch = offsets_over(dot.rhs_batching, rhs.type.dims);
  const auto lhs_rows = offsets_over(lhs_free, lhs.type.dims);
  const auto rhs_columns = offsets_over(rhs_free, rhs.type.dims);
  const auto lhs_terms = offsets_over(dot.lhs_contracting, lhs.type.dims);
  const auto rhs_terms = offsets_over(dot.rhs_contracting, rhs.type.dims);

  std::vector<float> values(operation.result.element_count());
  size_t i = 0;
  for (size_t b = 0; b < lhs_batch.size(); ++b) {
    for (int64_t row : lhs_rows) {
      for (int64_t column : rhs_columns) {
        const float* left = lhs.values.data() + lhs_batch[b] + row;
        const float* right = rhs.values.data() + rhs_batch[b] + column;
        float sum = 0.0f;
        for (size_t term = 0; term < lhs_terms.size(); ++term) sum += left[lhs_terms[term]] * right[rhs_terms[term]];
        values[i++] = sum;
      }
    }
  }
  return values;
}

std::vector<float> slice(const Tensor& operand, const Operation& operation) {
  const SliceBounds& bounds = operation.slice;
  std::vector<float> values(operation.result.element_count());
  std::vector<int64_t> source(operand.type.dims.size());
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
    const auto index = index_of(i, operation.result.dims);
    for (size_t d = 0; d < index.size(); ++d) source[d] = bounds.start[d] + index[d] * bounds.stride[d];
    values[i] = operand.values[linear_of(source, operand.type.dims)];
  }
  return values;
}

// min(max(operand, low), high), with scalar bounds standing for every element.
std::vector<float> clamp(const Tensor& low, const Tensor& operand, const Tensor& high) {
  std::vector<float> values(operand.values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const float lower = low.values[low.values.size() == 1 ? 0 : i];
    const float upper = high.values[high.values.size() == 1 ? 0 : i];
    values[i] = std::min(std::max(operand.values[i], lower), upper);
  }
  return values;
}

// A row of `table` [N, H] for each index (check_gather's form); as XLA does, an index out of range is clamped into
// it.
std::vector<float> gather_rows(const Tensor& table, const Tensor& indices) {
  const int64_t rows = table.type.dims[0], width = table.type.dims[1];
  std::vector<float> values;
  values.reserve(indices.values.size() * width);
  for (float index : indices.values) {
    const int64_t row = std::clamp(static_cast<int64_t>(index), int64_t{0}, rows - 1);
    values.insert(values.end(), table.values.begin() + row * width, table.values.begin() + (row + 1) * width);
  }
  return values;
}

// `operand` [N, W] with row indices[m] replaced by updates[m] (check_scatter's form). As XLA does, an index out of
// range drops its update; of updates to one row, whose order the spec leaves to the implementation, the last wins.
std::vector<float> scatter_rows(const Tensor& operand, const Tensor& indices, const Tensor& updates) {
  const int64_t rows = operand.type.dims[0], width = operand.type.dims[1];
  std::vector<float> values = operand.values;
  for (int64_t m = 0; m < static_cast<int64_t>(indices.values.size()); ++m) {
    const auto row = static_cast<int64_t>(indices.values[m]);
    if (row < 0 || row >= rows) continue;
    std::copy_n(updates.values.begin() + m * width, width, values.begin() + row * width);
  }
  return values;
}

std::vector<float> iota(const Operation& operation) {
  std::vector<float> values(operation.result.element_count());
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
    values[i] = static_cast<float>(index_of(i, operation.result.dims)[operation.dimensions[0]]);
  }
  return values;
}

bool holds(Comparison comparison, float a, float b) {
  switch (comparison) {
    case Comparison::kEQ:
      return a == b;
    case Comparison::kNE:
      return a != b;
    case Comparison::kLT:
      return a < b;
    case Comparison::kLE:
      return a <= b;
    case Comparison::kGT:
      return a > b;
    case Comparison::kGE:
      break;
  }
  return a >= b;
}

// 1 where the comparison holds, else 0.
std::vector<float> compare(const Tensor& lhs, const Tensor& rhs, Comparison comparison) {
  std::vector<float> values(lhs.values.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = holds(comparison, lhs.values[i], rhs.values[i]) ? 1.0f : 0.0f;
  return values;
}

// on_true's element where the predicate (a scalar standing for every element) is 1, else on_false's.
std::vector<float> select(const Tensor& predicate, const Tensor& on_true, const Tensor& on_false) {
  std::vector<float> values(on_true.values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const bool chosen = predicate.values[predicate.values.size() == 1 ? 0 : i] != 0.0f;
    values[i] = chosen ? on_true.values[i] : on_false.values[i];
  }
  return values;
}

std::vector<float> concatenate(const std::vector<const Tensor*>& operands, const Operation& operation) {
  const auto dimension = static_cast<size_t>(operation.dimensions[0]);
  std::vector<float> values(operation.result.element_count());
  for (int64_t i = 0; i < static_cast<int64_t>(values.size()); ++i) {
    auto index = index_of(i, operation.result.dims);
    size_t part = 0;
    while (index[dimension] >= operands[part]->type.dims[dimension])
      index[dimension] -= operands[part++]->type.dims[dimension];
    values[i] = operands[part]->values[linear_of(index, operands[part]->type.dims)];
  }
  return values;
}

// Folds the operand's elements into their result element in row-major order, starting from the initial value.
std::vector<float> reduce(const Tensor& operand, const Tensor& init, const Operation& operation) {
  std::vector<float> values(operation.result.element_count(), init.values[0]);
  std::vector<int64_t> target(operation.result.dims.size());
  for (int64_t i = 0; i < static_cast<int64_t>(operand.values.size()); ++i) {
    const auto index = index_of(i, operand.type.dims);
    size_t position = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      if (!contains(operation.dimensions, d)) target[position++] = index[d];
    }
    float& value = values[linear_of(target, operation.result.dims)];
    value = binary(operation.reducer, value, operand.values[i]);
  }
  return values;
}

std::vector<float> evaluate(const Operation& operation, const std::vector<const Tensor*>& operands) {
  switch (operation.code) {
    case OpCode::kConstant:
      if (operation.constant.size() == 1)
        return std::vector<float>(operation.result.element_count(), operation.constant[0]);
      return operation.constant;
    case OpCode::kAdd:
    case OpCode::kSubtract:
    case OpCode::kMultiply:
    case OpCode::kDivide:
    case OpCode::kMaximum: {
      std::vector<float> values(operands[0]->values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        values[i] = binary(operation.code, operands[0]->values[i], operands[1]->values[i]);
      }
      return values;
    }
    case OpCode::kBroadcastInDim:
      return broadcast_in_dim(*operands[0], operation);
    case OpCode::kTranspose:
      return transpose(*operands[0], operation);
    case OpCode::kDotGeneral:
      return dot_general(*operands[0], *operands[1], operation);
    case OpCode::kReduce:
      return reduce(*operands[0], *operands[1], operation);
    case OpCode::kSlice:
      return slice(*operands[0], operation);
    case OpCode::kClamp:
      return clamp(*operands[0], *operands[1], *operands[2]);
    case OpCode::kGather:
      return gather_rows(*operands[0], *operands[1]);
    case OpCode::kScatter:
      return scatter_rows(*operands[0], *operands[1], *operands[2]);
    case OpCode::kIota:
      return iota(operation);
    case OpCode::kCompare:
      return compare(*operands[0], *operands[1], operation.comparison);
    case OpCode::kSelect:
      return select(*operands[0], *operands[1], *operands[2]);
    case OpCode::kConcatenate:
      return concatenate(operands, operation);
    default: {
      std::vector<float> values = operands[0]->values;
      for (float& value : values) value = unary(operation.code, value);
      return values;
    }
  }
}

}  // namespace

Result<std::vector<Tensor>> run_program(const Program& program, std::vector<Tensor> arguments) {
  if (arguments.size() != program.parameters.size()) {
    return Error{"the program takes " + std::to_string(program.parameters.size()) + " arguments, not " +
                 std::to_string(arguments.size())};
  }
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i].type != program.parameters[i]) {
      return Error{"argument " + std::to_string(i) + " is " + type_text(arguments[i].type) + ", but the program's " +
                   "parameter " + std::to_string(i) + " is " + type_text(program.parameters[i])};
    }
    if (static_cast<int64_t>(arguments[i].values.size()) != arguments[i].type.element_count()) {
      return Error{"argument " + std::to_string(i) + " has " + std::to_string(arguments[i].values.size()) +
                   " values for " + type_text(arguments[i].type)};
    }
  }

  std::vector<Tensor> values = std::move(arguments);
  values.reserve(values.size() + program.operations.size());
  for (const Operation& operation : program.operations) {
    std::vector<const Tensor*> operands;
    for (size_t operand : operation.operands) operands.push_back(&values[operand]);
    Tensor result{operation.result, evaluate(operation, operands)};
    if (result.type.element == ElementType::kBF16) {
      for (float& value : result.values) value = bf16_to_float(float_to_bf16(value));
    } else if (result.type.element == ElementType::kI32) {
      for (float& value : result.values) value = std::trunc(value);  // a float converted rounds toward zero
    } else if (result.type.element == ElementType::kI1) {
      for (float& value : result.values) value = value != 0.0f ? 1.0f : 0.0f;
    }
    values.push_back(std::move(result));
  }

  std::vector<Tensor> results;
  for (size_t value : program.results) results.push_back(values[value]);
  return results;
}

}  // namespace tpustack::stablehlo_reference
