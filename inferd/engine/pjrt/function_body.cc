#include "inferd/engine/pjrt/function_body.h"

#include <algorithm>

#include <fmt/format.h>

namespace tpustack::inferd::engine::pjrt::stablehlo {

namespace {

std::string_view element_text(Element element) {
  switch (element) {
    case Element::f32:
      return "f32";
    case Element::bf16:
      return "bf16";
    case Element::i32:
      return "i32";
    case Element::i1:
      break;
  }
  return "i1";
}

// Whether `dimensions` lists `dimension`.
bool names(const std::vector<int64_t>& dimensions, size_t dimension) {
  return std::find(dimensions.begin(), dimensions.end(), static_cast<int64_t>(dimension)) != dimensions.end();
}

// Nine significant digits: every float32 reads back as itself.
std::string float_text(float value) { return fmt::format("{:.8e}", value); }

}  // namespace

std::string type_text(const std::vector<int64_t>& dims, Element element) {
  std::string text = "tensor<";
  for (int64_t dimension : dims) text += std::to_string(dimension) + "x";
  return text + std::string(element_text(element)) + ">";
}

std::string type_text(const Value& value) { return type_text(value.dims, value.element); }

std::string list_text(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i == 0 ? "" : ", ") + std::to_string(values[i]);
  return text + "]";
}

Value FunctionBody::constant(float value, const std::vector<int64_t>& dims) {
  return splat(float_text(value), dims, Element::f32);
}

Value FunctionBody::integer_constant(int64_t value, const std::vector<int64_t>& dims) {
  return splat(std::to_string(value), dims, Element::i32);
}

Value FunctionBody::minus_infinity() { return splat("0xFF800000", {}, Element::f32); }  // how MLIR prints -inf

Value FunctionBody::binary(std::string_view op, const Value& a, const Value& b) {
  return emit(fmt::format("stablehlo.{} {}, {}", op, a.name, b.name), a.dims, a.element, "");
}

Value FunctionBody::unary(std::string_view op, const Value& a) {
  return emit(fmt::format("stablehlo.{} {}", op, a.name), a.dims, a.element, "");
}

Value FunctionBody::with_scalar(std::string_view op, const Value& a, float value) {
  return binary(op, a, constant(value, a.dims));
}

Value FunctionBody::broadcast(const Value& a, const std::vector<int64_t>& dims_map, const std::vector<int64_t>& dims) {
  return emit(fmt::format("stablehlo.broadcast_in_dim {}, dims = {}", a.name, list_text(dims_map)), dims, a.element,
              signature({a}));
}

Value FunctionBody::reshape(const Value& a, const std::vector<int64_t>& dims) {
  return emit("stablehlo.reshape " + a.name, dims, a.element, signature({a}));
}

Value FunctionBody::transpose(const Value& a, const std::vector<int64_t>& permutation) {
  std::vector<int64_t> dims;
  for (int64_t dimension : permutation) dims.push_back(a.dims[dimension]);
  return emit(fmt::format("stablehlo.transpose {}, dims = {}", a.name, list_text(permutation)), dims, a.element,
              signature({a}));
}

Value FunctionBody::convert(const Value& a, Element element) {
  if (a.element == element) return a;
  return emit("stablehlo.convert " + a.name, a.dims, element, signature({a}));
}

Value FunctionBody::slice(const Value& a, const std::vector<int64_t>& start, const std::vector<int64_t>& limit) {
  std::string ranges;
  std::vector<int64_t> dims;
  for (size_t d = 0; d < start.size(); ++d) {
    ranges += fmt::format("{}{}:{}", d == 0 ? "" : ", ", start[d], limit[d]);
    dims.push_back(limit[d] - start[d]);
  }
  return emit(fmt::format("stablehlo.slice {} [{}]", a.name, ranges), dims, a.element, signature({a}));
}

Value FunctionBody::concatenate(const std::vector<Value>& parts, int64_t dimension) {
  std::string op = "stablehlo.concatenate ";
  std::vector<int64_t> dims = parts.front().dims;
  dims[dimension] = 0;
  for (const Value& part : parts) {
    op += part.name + ", ";
    dims[dimension] += part.dims[dimension];
  }
  return emit(op + fmt::format("dim = {}", dimension), dims, parts.front().element, signature(parts));
}

Value FunctionBody::clamp(float low, const Value& a, float high) {
  const Value lower = constant(low, {});
  const Value upper = constant(high, {});
  return emit(fmt::format("stablehlo.clamp {}, {}, {}", lower.name, a.name, upper.name), a.dims, a.element,
              signature({lower, a, upper}));
}

Value FunctionBody::iota(const std::vector<int64_t>& dims, int64_t dimension) {
  return emit(fmt::format("stablehlo.iota dim = {}", dimension), dims, Element::i32, "");
}

Value FunctionBody::compare(std::string_view direction, const Value& a, const Value& b) {
  const std::string_view type = a.element == Element::i32 ? "SIGNED" : "FLOAT";
  return emit(fmt::format("stablehlo.compare  {}, {}, {},  {}", direction, a.name, b.name, type), a.dims, Element::i1,
              signature({a, b}));
}

Value FunctionBody::select(const Value& predicate, const Value& on_true, const Value& on_false) {
  return emit(fmt::format("stablehlo.select {}, {}, {}", predicate.name, on_true.name, on_false.name), on_true.dims,
              on_true.element, signature({predicate, on_true, on_false}));
}

Value FunctionBody::dot(const Value& a, const Value& b, const std::vector<int64_t>& a_batching,
                        const std::vector<int64_t>& b_batching, const std::vector<int64_t>& a_contracting,
                        const std::vector<int64_t>& b_contracting, std::string_view precision) {
  std::vector<int64_t> dims;
  for (int64_t dimension : a_batching) dims.push_back(a.dims[dimension]);
  auto add_free = [&dims](const Value& v, const std::vector<int64_t>& batching, const std::vector<int64_t>& used) {
    for (size_t d = 0; d < v.dims.size(); ++d) {
      if (!names(batching, d) && !names(used, d)) dims.push_back(v.dims[d]);
    }
  };
  add_free(a, a_batching, a_contracting);
  add_free(b, b_batching, b_contracting);
  std::string op = fmt::format("stablehlo.dot_general {}, {}, ", a.name, b.name);
  if (!a_batching.empty()) op += fmt::format("batching_dims = {} x {}, ", list_text(a_batching), list_text(b_batching));
  op += fmt::format("contracting_dims = {} x {}, precision = [{}, {}]", list_text(a_contracting),
                    list_text(b_contracting), precision, precision);
  return emit(op, dims, Element::f32, signature({a, b}));
}

Value FunctionBody::reduce(std::string_view op, const Value& a, const std::vector<int64_t>& dimensions) {
  const Value init = op == "maximum" ? minus_infinity() : constant(0.0f, {});
  std::vector<int64_t> dims;
  for (size_t d = 0; d < a.dims.size(); ++d) {
    if (!names(dimensions, d)) dims.push_back(a.dims[d]);
  }
  return emit(fmt::format("stablehlo.reduce({} init: {}) applies stablehlo.{} across dimensions = {}", a.name,
                          init.name, op, list_text(dimensions)),
              dims, a.element, signature({a, init}));
}

Value FunctionBody::gather_rows(const Value& table, const Value& indices) {
  std::vector<int64_t> dims(indices.dims.begin(), indices.dims.end() - 1);
  dims.push_back(table.dims[1]);
  const auto index_dim = static_cast<int64_t>(indices.dims.size()) - 1;
  return emit(fmt::format("\"stablehlo.gather\"({}, {}) <{{dimension_numbers = #stablehlo.gather<offset_dims = "
                          "[{}], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = {}>, "
                          "indices_are_sorted = false, slice_sizes = array<i64: 1, {}>}}>",
                          table.name, indices.name, index_dim, index_dim, table.dims[1]),
              dims, table.element, signature({table, indices}));
}

Value FunctionBody::scatter_rows(const Value& table, const Value& indices, const Value& rows) {
  // The region's arguments are named after the result, so that no two regions of the text name a value alike.
  const std::string scalar = type_text({}, table.element), number = std::to_string(next_);
  return emit(fmt::format("\"stablehlo.scatter\"({}, {}, {}) <{{indices_are_sorted = false, scatter_dimension_numbers "
                          "= #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], "
                          "scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}}> ({{\n"
                          "    ^bb0(%old{}: {}, %new{}: {}):\n      stablehlo.return %new{} : {}\n    }})",
                          table.name, indices.name, rows.name, number, scalar, number, scalar, number, scalar),
              table.dims, table.element, signature({table, indices, rows}));
}

std::string FunctionBody::signature(const std::vector<Value>& operands) {
  std::string text = "(";
  for (const Value& operand : operands) text += (text.size() == 1 ? "" : ", ") + type_text(operand);
  return text + ") -> ";
}

Value FunctionBody::splat(const std::string& number, const std::vector<int64_t>& dims, Element element) {
  const std::string op = "stablehlo.constant dense<" + number + ">";
  const std::string key = op + " : " + type_text(dims, element);
  auto found = constants_.find(key);
  if (found == constants_.end()) found = constants_.emplace(key, emit(op, dims, element, "")).first;
  return found->second;
}

Value FunctionBody::emit(const std::string& op, const std::vector<int64_t>& dims, Element element,
                         const std::string& signature) {
  Value value{"%" + std::to_string(next_++), dims, element};
  text_ += "    " + value.name + " = " + op + " : " + signature + type_text(value) + "\n";
  return value;
}

}  // namespace tpustack::inferd::engine::pjrt::stablehlo
