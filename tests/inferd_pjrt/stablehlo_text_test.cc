#include "tests/inferd_pjrt/stablehlo_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "tests/inferd_pjrt/cache_write_mlir.h"
#include "tests/inferd_pjrt/dense_layer_mlir.h"
#include "tests/support/result_matchers.h"

namespace tpustack::stablehlo_reference {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

const TensorType kF32_2x3{ElementType::kF32, {2, 3}};
const TensorType kF32_3x4{ElementType::kF32, {3, 4}};
const TensorType kF32_2x4{ElementType::kF32, {2, 4}};
const TensorType kF32_4{ElementType::kF32, {4}};
const TensorType kF32_2{ElementType::kF32, {2}};
const TensorType kF32_scalar{ElementType::kF32, {}};

// kDenseLayerMlir in the generic form, with properties and locations, as mlir-opt --mlir-print-op-generic
// --mlir-print-debuginfo writes it.
constexpr std::string_view kGeneric = R"mlir(#loc1 = loc("x")
"builtin.module"() <{sym_name = "jit_dense"}> ({
  "func.func"() <{function_type = (tensor<2x3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<2xf32>), sym_name = "main"}> ({
  ^bb0(%arg0: tensor<2x3xf32> loc("x"), %arg1: tensor<3x4xf32>, %arg2: tensor<4xf32>):
    %0 = "stablehlo.dot_general"(%arg0, %arg1) <{dot_dimension_numbers = #stablehlo.dot<lhs_contracting_dimensions = [1], rhs_contracting_dimensions = [0]>, precision_config = [#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]}> : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32> loc(#loc1)
    %1 = "stablehlo.broadcast_in_dim"(%arg2) <{broadcast_dimensions = array<i64: 1>}> : (tensor<4xf32>) -> tensor<2x4xf32>
    %2 = "stablehlo.add"(%0, %1) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    %3 = "stablehlo.tanh"(%2) : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %4 = "stablehlo.constant"() <{value = dense<0.000000e+00> : tensor<f32>}> : () -> tensor<f32>
    %5 = "stablehlo.reduce"(%3, %4) <{dimensions = array<i64: 1>}> ({
    ^bb0(%arg3: tensor<f32>, %arg4: tensor<f32>):
      %6 = "stablehlo.add"(%arg3, %arg4) : (tensor<f32>, tensor<f32>) -> tensor<f32>
      "stablehlo.return"(%6) : (tensor<f32>) -> ()
    }) : (tensor<2x4xf32>, tensor<f32>) -> tensor<2xf32>
    "func.return"(%3, %5) : (tensor<2x4xf32>, tensor<2xf32>) -> ()
  }) : () -> ()
}) : () -> ()
)mlir";

void expect_dense_layer(const Program& program) {
  EXPECT_THAT(program.parameters, ElementsAre(kF32_2x3, kF32_3x4, kF32_4));
  ASSERT_EQ(program.operations.size(), 6u);
  const auto& ops = program.operations;
  EXPECT_EQ(ops[0].code, OpCode::kDotGeneral);
  EXPECT_THAT(ops[0].operands, ElementsAre(0, 1));
  EXPECT_THAT(ops[0].dot.lhs_contracting, ElementsAre(1));
  EXPECT_THAT(ops[0].dot.rhs_contracting, ElementsAre(0));
  EXPECT_TRUE(ops[0].dot.lhs_batching.empty() && ops[0].dot.rhs_batching.empty());
  EXPECT_EQ(ops[0].result, kF32_2x4);
  EXPECT_EQ(ops[1].code, OpCode::kBroadcastInDim);
  EXPECT_THAT(ops[1].operands, ElementsAre(2));
  EXPECT_THAT(ops[1].dimensions, ElementsAre(1));
  EXPECT_EQ(ops[2].code, OpCode::kAdd);
  EXPECT_THAT(ops[2].operands, ElementsAre(3, 4));
  EXPECT_EQ(ops[3].code, OpCode::kTanh);
  EXPECT_EQ(ops[4].code, OpCode::kConstant);
  EXPECT_EQ(ops[4].result, kF32_scalar);
  EXPECT_THAT(ops[4].constant, ElementsAre(0.0f));
  EXPECT_EQ(ops[5].code, OpCode::kReduce);
  EXPECT_THAT(ops[5].operands, ElementsAre(6, 7));
  EXPECT_THAT(ops[5].dimensions, ElementsAre(1));
  EXPECT_EQ(ops[5].reducer, OpCode::kAdd);
  EXPECT_EQ(ops[5].result, kF32_2);
  EXPECT_THAT(program.results, ElementsAre(6, 8));
}

TEST(StablehloText, ReadsThePrettyFormJaxPrints) {
  const Program program = value_of(parse_program(kDenseLayerMlir));
  expect_dense_layer(program);
  EXPECT_EQ(program.operations[5].line, 8);
}

TEST(StablehloText, ReadsTheGenericFormToTheSameProgram) { expect_dense_layer(value_of(parse_program(kGeneric))); }

TEST(StablehloText, ReadsOlderAttributesReducerRegionsAndHexConstants) {
  const Program program = value_of(parse_program(R"mlir(func.func @main(%x: tensor<3x2xf32>) -> tensor<2xf32> {
  %ninf = stablehlo.constant dense<0xFF800000> : tensor<f32>
  %m = stablehlo.reduce(%x init: %ninf) across dimensions = [0] : (tensor<3x2xf32>, tensor<f32>) -> tensor<2xf32>
   reducer(%a: tensor<f32>, %b: tensor<f32>)  {
    %r = stablehlo.maximum %a, %b : tensor<f32>
    stablehlo.return %r : tensor<f32>
  }
  %w = "stablehlo.broadcast_in_dim"(%m) {broadcast_dimensions = dense<1> : tensor<1xi64>} : (tensor<2xf32>) -> tensor<3x2xf32>
  %k = "stablehlo.constant"() {value = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>} : () -> tensor<3x2xf32>
  %s = "stablehlo.transpose"(%k) {permutation = dense<[1, 0]> : tensor<2xi64>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  func.return %m : tensor<2xf32>
})mlir"));
  const auto& ops = program.operations;
  ASSERT_EQ(ops.size(), 5u);
  EXPECT_EQ(ops[0].constant[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(ops[1].reducer, OpCode::kMaximum);
  EXPECT_THAT(ops[1].dimensions, ElementsAre(0));
  EXPECT_THAT(ops[2].dimensions, ElementsAre(1));
  EXPECT_THAT(ops[3].constant, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(ops[4].dimensions, ElementsAre(1, 0));
}

TEST(StablehloText, ReadsBatchedDotsReshapesConvertsAndTheRestOfTheSubset) {
  const Program program = value_of(
      parse_program(R"mlir(func.func @main(%q: tensor<2x4x8xbf16>, %k: tensor<2x8x4xf32>) -> (tensor<2x4x4xf32>) {
  %qf = stablehlo.convert %q : (tensor<2x4x8xbf16>) -> tensor<2x4x8xf32>
  %s = stablehlo.dot_general %qf, %k, batching_dims = [0] x [0], contracting_dims = [2] x [1] : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %e = stablehlo.exponential %s : tensor<2x4x4xf32>
  %n = stablehlo.negate %e : tensor<2x4x4xf32>
  %d = stablehlo.divide %e, %n : tensor<2x4x4xf32>
  %m = stablehlo.multiply %d, %d : tensor<2x4x4xf32>
  %u = stablehlo.subtract %m, %d : tensor<2x4x4xf32>
  %r = stablehlo.rsqrt %u : tensor<2x4x4xf32>
  %t = stablehlo.sqrt %r : tensor<2x4x4xf32>
  %f = stablehlo.reshape %t : (tensor<2x4x4xf32>) -> tensor<32xf32>
  %b = stablehlo.reshape %f : (tensor<32xf32>) -> tensor<2x4x4xf32>
  return %b : tensor<2x4x4xf32>
})mlir"));
  EXPECT_EQ(program.parameters[0].element, ElementType::kBF16);
  const Operation& dot = program.operations[1];
  EXPECT_THAT(dot.dot.lhs_batching, ElementsAre(0));
  EXPECT_THAT(dot.dot.rhs_batching, ElementsAre(0));
  EXPECT_THAT(dot.dot.lhs_contracting, ElementsAre(2));
  EXPECT_THAT(dot.dot.rhs_contracting, ElementsAre(1));
  EXPECT_EQ(program.operations.size(), 11u);
}

TEST(StablehloText, ReadsSlicesClampsAndTheGatherJaxEmitsForTableLookups) {
  const Program program = value_of(parse_program(
      R"mlir(func.func @main(%t: tensor<8x4xbf16>, %ids: tensor<2x3xi32>) -> (tensor<2x3x4xbf16>) {
  %i = stablehlo.reshape %ids : (tensor<2x3xi32>) -> tensor<2x3x1xi32>
  %g = "stablehlo.gather"(%t, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = [2], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 2>, indices_are_sorted = false, slice_sizes = array<i64: 1, 4>}> : (tensor<8x4xbf16>, tensor<2x3x1xi32>) -> tensor<2x3x4xbf16>
  %s = stablehlo.slice %t [0:3, 1:4:2] : (tensor<8x4xbf16>) -> tensor<3x2xbf16>
  %r = "stablehlo.slice"(%t) <{limit_indices = array<i64: 3, 4>, start_indices = array<i64: 0, 1>, strides = array<i64: 1, 2>}> : (tensor<8x4xbf16>) -> tensor<3x2xbf16>
  %lo = stablehlo.constant dense<-4.0> : tensor<bf16>
  %c = stablehlo.clamp %lo, %s, %r : (tensor<bf16>, tensor<3x2xbf16>, tensor<3x2xbf16>) -> tensor<3x2xbf16>
  return %g : tensor<2x3x4xbf16>
})mlir"));
  EXPECT_EQ(program.parameters[1], (TensorType{ElementType::kI32, {2, 3}}));
  const auto& ops = program.operations;
  ASSERT_EQ(ops.size(), 6u);
  EXPECT_EQ(ops[1].code, OpCode::kGather);
  EXPECT_THAT(ops[1].gather.offset_dims, ElementsAre(2));
  EXPECT_THAT(ops[1].gather.collapsed_slice_dims, ElementsAre(0));
  EXPECT_THAT(ops[1].gather.start_index_map, ElementsAre(0));
  EXPECT_EQ(ops[1].gather.index_vector_dim, 2);
  EXPECT_THAT(ops[1].gather.slice_sizes, ElementsAre(1, 4));
  for (const Operation* slice : {&ops[2], &ops[3]}) {
    EXPECT_EQ(slice->code, OpCode::kSlice);
    EXPECT_THAT(slice->slice.start, ElementsAre(0, 1));
    EXPECT_THAT(slice->slice.limit, ElementsAre(3, 4));
    EXPECT_THAT(slice->slice.stride, ElementsAre(1, 2));
  }
  EXPECT_EQ(ops[5].code, OpCode::kClamp);
  EXPECT_THAT(ops[5].operands, ElementsAre(6, 4, 5));
}

TEST(StablehloText, GathersOtherThanRowLookupsAndBadSlicesOrClampsAreRefused) {
  // A gather of single elements (slice_sizes 1, 1) rather than rows.
  EXPECT_THAT(parse_program("func.func @main(%t: tensor<8x4xf32>, %i: tensor<2x1xi32>) -> tensor<2x1xf32> {\n"
                            "  %g = \"stablehlo.gather\"(%t, %i) <{dimension_numbers = #stablehlo.gather<offset_dims = "
                            "[1], collapsed_slice_dims = [0], start_index_map = [0], index_vector_dim = 1>, "
                            "slice_sizes = array<i64: 1, 1>}> : (tensor<8x4xf32>, tensor<2x1xi32>) -> "
                            "tensor<2x1xf32>\n  return %g : tensor<2x1xf32>\n}"),
              FailsWith(AllOf(StartsWith("line 2: stablehlo.gather: the fake gathers whole rows of a [N, H] table"),
                              HasSubstr("this gathers tensor<8x4xf32> by tensor<2x1xi32> in another form"))));
  EXPECT_THAT(parse_program("func.func @main(%t: tensor<8x4xf32>, %i: tensor<2x1xi32>) -> tensor<2x4xf32> {\n"
                            "  %g = stablehlo.gather %t, %i : tensor<2x4xf32>\n  return %g : tensor<2x4xf32>\n}"),
              FailsWith(StartsWith("line 2: stablehlo.gather has no pretty form")));
  EXPECT_THAT(parse_program("func.func @main(%t: tensor<8x4xf32>) -> tensor<9x4xf32> {\n"
                            "  %s = stablehlo.slice %t [0:9, 0:4] : (tensor<8x4xf32>) -> tensor<9x4xf32>\n"
                            "  return %s : tensor<9x4xf32>\n}"),
              FailsWith("line 2: stablehlo.slice: range 0:9:1 does not fit dimension 0 of tensor<8x4xf32>"));
  EXPECT_THAT(parse_program("func.func @main(%t: tensor<4xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {\n"
                            "  %c = stablehlo.clamp %b, %t, %b : (tensor<2xf32>, tensor<4xf32>, tensor<2xf32>) -> "
                            "tensor<4xf32>\n  return %c : tensor<4xf32>\n}"),
              FailsWith("line 2: stablehlo.clamp: bound tensor<2xf32> is neither a scalar of tensor<4xf32>'s element "
                        "type nor of its type"));
}

TEST(StablehloText, ReadsTheScatterInferdEmitsForKvCacheWrites) {
  const Program program =
      value_of(parse_program(cache_write_mlir("tensor<97x192xf32>", "tensor<32x1xi32>", "tensor<32x192xf32>")));
  ASSERT_EQ(program.operations.size(), 1u);
  const Operation& write = program.operations[0];
  EXPECT_EQ(write.code, OpCode::kScatter);
  EXPECT_THAT(write.operands, ElementsAre(0, 1, 2));
  EXPECT_THAT(write.scatter.update_window_dims, ElementsAre(1));
  EXPECT_THAT(write.scatter.inserted_window_dims, ElementsAre(0));
  EXPECT_THAT(write.scatter.scatter_dims_to_operand_dims, ElementsAre(0));
  EXPECT_TRUE(write.scatter.input_batching_dims.empty() && write.scatter.scatter_indices_batching_dims.empty());
  EXPECT_EQ(write.scatter.index_vector_dim, 1);
  EXPECT_EQ(write.result, (TensorType{ElementType::kF32, {97, 192}}));
  EXPECT_THAT(program.results, ElementsAre(3));
}

TEST(StablehloText, ScattersOtherThanRowReplacementsAreRefused) {
  const std::string written = cache_write_mlir("tensor<5x3xf32>", "tensor<2x1xi32>", "tensor<2x3xf32>");
  auto with = [&written](std::string_view from, std::string_view to) {
    std::string text = written;
    text.replace(text.find(from), from.size(), to);
    return parse_program(text);
  };
  const std::string replaces =
      "line 2: the fake's stablehlo.scatter replaces rows: its region must return its second argument";
  EXPECT_THAT(with("return %new41", "return %old41"), FailsWith(replaces));
  EXPECT_THAT(with("stablehlo.return %new41", "%s = stablehlo.add %old41, %new41 : tensor<f32>\n stablehlo.return %s"),
              FailsWith(replaces));
  // Indices whose vector runs along dimension 0, and updates narrower than the rows.
  EXPECT_THAT(
      with("index_vector_dim = 1", "index_vector_dim = 0"),
      FailsWith(AllOf(StartsWith("line 2: stablehlo.scatter: the fake scatters whole rows into an [N, W] operand only"),
                      HasSubstr("this scatters tensor<2x3xf32> into tensor<5x3xf32> at tensor<2x1xi32> in another "
                                "form"))));
  EXPECT_THAT(parse_program(cache_write_mlir("tensor<5x3xf32>", "tensor<2x1xi32>", "tensor<2x2xf32>")),
              FailsWith(HasSubstr("this scatters tensor<2x2xf32> into tensor<5x3xf32> at tensor<2x1xi32>")));
  EXPECT_THAT(parse_program(cache_write_mlir("tensor<5x3xf32>", "tensor<2x1xf32>", "tensor<2x3xf32>")),
              FailsWith("line 2: stablehlo.scatter: the indices are tensor<2x1xf32>, not i32"));
  EXPECT_THAT(parse_program(cache_write_mlir("tensor<5x3xf32>", "tensor<2x1xi32>", "tensor<2x3xbf16>")),
              FailsWith("line 2: stablehlo.scatter: the updates are tensor<2x3xbf16>, the operand tensor<5x3xf32>; "
                        "they must have one element type"));
  EXPECT_THAT(with("tensor<2x3xf32>) -> tensor<5x3xf32>\n", "tensor<2x3xf32>) -> tensor<6x3xf32>\n"),
              FailsWith("line 2: stablehlo.scatter: the result is tensor<6x3xf32>, the operand tensor<5x3xf32>"));
  EXPECT_THAT(with("#stablehlo.scatter<", "#stablehlo.gather<"),
              FailsWith("line 2: scatter_dimension_numbers is not a #stablehlo.scatter<...>"));
}

TEST(StablehloText, ReadsIotaCompareSelectAndConcatenateInEitherForm) {
  const Program program = value_of(parse_program(
      R"mlir(func.func @main(%p: tensor<2x3xi32>, %x: tensor<2x3xf32>) -> (tensor<2x6xf32>) {
  %0 = stablehlo.iota dim = 1 : tensor<2x3xi32>
  %1 = "stablehlo.iota"() <{iota_dimension = 0 : i64}> : () -> tensor<2x3xi32>
  %2 = stablehlo.compare  LE, %0, %p,  SIGNED : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi1>
  %3 = "stablehlo.compare"(%x, %x) <{compare_type = #stablehlo<comparison_type FLOAT>, comparison_direction = #stablehlo<comparison_direction GT>}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xi1>
  %4 = stablehlo.select %2, %x, %x : tensor<2x3xi1>, tensor<2x3xf32>
  %5 = stablehlo.select %3, %4, %x : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = stablehlo.concatenate %4, %5, dim = 1 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  %7 = "stablehlo.concatenate"(%4, %5) <{dimension = 1 : i64}> : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  %8 = stablehlo.cosine %x : tensor<2x3xf32>
  %9 = stablehlo.sine %x : tensor<2x3xf32>
  return %6 : tensor<2x6xf32>
})mlir"));
  const auto& ops = program.operations;
  ASSERT_EQ(ops.size(), 10u);
  EXPECT_EQ(ops[0].code, OpCode::kIota);
  EXPECT_THAT(ops[0].dimensions, ElementsAre(1));
  EXPECT_THAT(ops[1].dimensions, ElementsAre(0));
  EXPECT_EQ(ops[2].code, OpCode::kCompare);
  EXPECT_EQ(ops[2].comparison, Comparison::kLE);
  EXPECT_EQ(ops[2].result, (TensorType{ElementType::kI1, {2, 3}}));
  EXPECT_EQ(ops[3].comparison, Comparison::kGT);
  EXPECT_EQ(ops[4].code, OpCode::kSelect);
  EXPECT_THAT(ops[4].operands, ElementsAre(4, 1, 1));
  EXPECT_EQ(ops[4].result, (TensorType{ElementType::kF32, {2, 3}}));
  EXPECT_THAT(ops[5].operands, ElementsAre(5, 6, 1));
  for (const Operation* concatenate : {&ops[6], &ops[7]}) {
    EXPECT_EQ(concatenate->code, OpCode::kConcatenate);
    EXPECT_THAT(concatenate->operands, ElementsAre(6, 7));
    EXPECT_THAT(concatenate->dimensions, ElementsAre(1));
  }
  EXPECT_EQ(ops[8].code, OpCode::kCosine);
  EXPECT_EQ(ops[9].code, OpCode::kSine);
}

TEST(StablehloText, BadComparisonsSelectsConcatenationsAndIotasAreRefused) {
  auto program = [](const std::string& op, const std::string& result) {
    return "func.func @main(%i: tensor<4xi32>, %x: tensor<4xf32>, %m: tensor<4xi1>) -> " + result + " {\n  %0 = " + op +
           "\n  return %0 : " + result + "\n}";
  };
  EXPECT_THAT(parse_program(program("stablehlo.compare  LT, %i, %x,  SIGNED : (tensor<4xi32>, tensor<4xf32>) -> "
                                    "tensor<4xi1>",
                                    "tensor<4xi1>")),
              FailsWith("line 2: stablehlo.compare: the operands are tensor<4xi32> and tensor<4xf32>, not one type"));
  EXPECT_THAT(parse_program(program("stablehlo.compare  LT, %x, %x,  FLOAT : (tensor<4xf32>, tensor<4xf32>) -> "
                                    "tensor<4xf32>",
                                    "tensor<4xf32>")),
              FailsWith("line 2: stablehlo.compare: the result is tensor<4xf32>, not i1 of the operands' shape"));
  EXPECT_THAT(parse_program(program("stablehlo.compare  LESS, %x, %x : (tensor<4xf32>, tensor<4xf32>) -> "
                                    "tensor<4xi1>",
                                    "tensor<4xi1>")),
              FailsWith(StartsWith("line 2: expected a comparison direction (EQ, NE, LT, LE, GT, GE), found 'LESS'")));
  EXPECT_THAT(parse_program(program("stablehlo.select %i, %x, %x : (tensor<4xi32>, tensor<4xf32>, tensor<4xf32>) -> "
                                    "tensor<4xf32>",
                                    "tensor<4xf32>")),
              FailsWith("line 2: stablehlo.select: the predicate tensor<4xi32> is neither an i1 scalar nor i1 of the "
                        "result's shape"));
  EXPECT_THAT(parse_program(program("stablehlo.select %m, %x, %i : (tensor<4xi1>, tensor<4xf32>, tensor<4xi32>) -> "
                                    "tensor<4xf32>",
                                    "tensor<4xf32>")),
              FailsWith("line 2: stablehlo.select: operand 2 is tensor<4xi32>, the result tensor<4xf32>"));
  EXPECT_THAT(parse_program(program("stablehlo.concatenate %x, %i, dim = 0 : (tensor<4xf32>, tensor<4xi32>) -> "
                                    "tensor<8xf32>",
                                    "tensor<8xf32>")),
              FailsWith("line 2: stablehlo.concatenate: tensor<4xi32> and tensor<4xf32> cannot be joined along "
                        "dimension 0"));
  EXPECT_THAT(parse_program(program("stablehlo.concatenate %x, %x, dim = 0 : (tensor<4xf32>, tensor<4xf32>) -> "
                                    "tensor<9xf32>",
                                    "tensor<9xf32>")),
              FailsWith("line 2: stablehlo.concatenate: the result is tensor<9xf32>, but the operands give shape [8]"));
  EXPECT_THAT(parse_program(program("stablehlo.iota dim = 1 : tensor<4xi32>", "tensor<4xi32>")),
              FailsWith("line 2: stablehlo.iota: dim [1] is not one dimension of tensor<4xi32>"));
}

TEST(StablehloText, AnOperationOutsideTheSubsetIsNamedWithItsLine) {
  EXPECT_THAT(parse_program(R"mlir(func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.abs %a : tensor<4xf32>
  %1 = stablehlo.compare GT, %0, %a, FLOAT : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0 : tensor<4xf32>
})mlir"),
              FailsWith(AllOf(StartsWith("line 2: stablehlo.abs is not supported"),
                              HasSubstr("runs stablehlo.constant, stablehlo.add,"))));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n"
                            "  %0 = \"stablehlo.custom_call\"(%a) {call_target_name = \"x\"} : (tensor<4xf32>) -> "
                            "tensor<4xf32>\n  return %0 : tensor<4xf32>\n}"),
              FailsWith(StartsWith("line 2: stablehlo.custom_call is not supported")));
  EXPECT_THAT(
      parse_program("func.func @main(%a: tensor<4xf32>) {\n  stablehlo.custom_call @x(%a) : (tensor<4xf32>) -> ()\n"
                    "  return\n}"),
      FailsWith(StartsWith("line 2: stablehlo.custom_call is not supported")));
}

TEST(StablehloText, ShapesAreCheckedAsACompilerWould) {
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<4xf32>, %b: tensor<2x2xf32>) -> tensor<4xf32> {\n"
                            "  %0 = stablehlo.add %a, %b : (tensor<4xf32>, tensor<2x2xf32>) -> tensor<4xf32>\n"
                            "  return %0 : tensor<4xf32>\n}"),
              FailsWith("line 2: stablehlo.add: operand 1 is tensor<2x2xf32>, the result tensor<4xf32>; element-wise "
                        "operations keep their operands' type"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<4xf32>, %b: tensor<2x2xf32>) -> tensor<4xf32> {\n"
                            "  %0 = stablehlo.add %a, %b : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}"),
              FailsWith("line 2: stablehlo.add: operand 1 is tensor<2x2xf32>, but the operation's type says "
                        "tensor<4xf32>"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x3xf32> {\n"
                            "  %0 = stablehlo.dot_general %a, %b, contracting_dims = [1] x [0] : (tensor<2x3xf32>, "
                            "tensor<4x3xf32>) -> tensor<2x3xf32>\n  return %0 : tensor<2x3xf32>\n}"),
              FailsWith("line 2: stablehlo.dot_general: lhs dimension 1 (3) and rhs dimension 0 (4) differ in size"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<3xf32>) -> tensor<2x4xf32> {\n"
                            "  %0 = stablehlo.broadcast_in_dim %a, dims = [1] : (tensor<3xf32>) -> tensor<2x4xf32>\n"
                            "  return %0 : tensor<2x4xf32>\n}"),
              FailsWith("line 2: stablehlo.broadcast_in_dim: tensor<3xf32> cannot be broadcast to tensor<2x4xf32> "
                        "along dims [1]"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<2x3xf32>) -> tensor<2xf32> {\n"
                            "  %z = stablehlo.constant dense<0.0> : tensor<f32>\n"
                            "  %0 = stablehlo.reduce(%a init: %z) applies stablehlo.add across dimensions = [0] : "
                            "(tensor<2x3xf32>, tensor<f32>) -> tensor<2xf32>\n  return %0 : tensor<2xf32>\n}"),
              FailsWith("line 3: stablehlo.reduce: the result is tensor<2xf32>, but the operands give shape [3]"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<4xf32>) -> tensor<2xf32> {\n  return %a : tensor<4xf32>\n}"),
              FailsWith("line 1: @main returns other types than its signature declares"));
}

TEST(StablehloText, WhatTheFakeCannotRunIsRefusedWithItsLine) {
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<?x4xf32>) -> tensor<4xf32> {\n  return %a : tensor<4xf32>\n}"),
              FailsWith(HasSubstr("line 1: 'tensor<?x4xf32>' is not a static shape")));
  EXPECT_THAT(
      parse_program("func.func @main(%a: tensor<4xi64>) -> tensor<4xi64> {\n  return %a : tensor<4xi64>\n}"),
      FailsWith(HasSubstr("line 1: 'tensor<4xi64>': element type i64 is not supported (f32, bf16, i32 and i1 are)")));
  EXPECT_THAT(parse_program("module {\n  func.func private @helper() {\n    return\n  }\n}"),
              FailsWith("line 2: function @helper: the fake PJRT plugin runs programs of one function, func.func "
                        "@main"));
  EXPECT_THAT(parse_program("func.func @main() {\n  return\n}\nfunc.func @other() {\n  return\n}"),
              FailsWith(StartsWith("line 4: a second function")));
  EXPECT_THAT(parse_program("module {\n}"), FailsWith("line 2: no func.func @main"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {\n  return %b : tensor<4xf32>\n}"),
              FailsWith("line 2: %b is not defined before its use"));
  EXPECT_THAT(parse_program("func.func @main(%a: tensor<2xf32>) -> tensor<f32> {\n"
                            "  %z = stablehlo.constant dense<1.0> : tensor<f32>\n"
                            "  %0 = stablehlo.reduce(%a init: %z) across dimensions = [0] : (tensor<2xf32>, "
                            "tensor<f32>) -> tensor<f32>\n"
                            "   reducer(%x: tensor<f32>, %y: tensor<f32>)  {\n"
                            "    %p = stablehlo.multiply %x, %y : tensor<f32>\n"
                            "    stablehlo.return %p : tensor<f32>\n  }\n  return %0 : tensor<f32>\n}"),
              FailsWith("line 4: stablehlo.reduce's region must return one stablehlo.add or stablehlo.maximum of its "
                        "two arguments"));
  EXPECT_THAT(parse_program("func.func @main() -> tensor<2xf32> {\n"
                            "  %c = stablehlo.constant dense<[1.0, 2.0, 3.0]> : tensor<2xf32>\n"
                            "  return %c : tensor<2xf32>\n}"),
              FailsWith("line 2: stablehlo.constant: 3 values for tensor<2xf32>"));
}

}  // namespace
}  // namespace tpustack::stablehlo_reference
