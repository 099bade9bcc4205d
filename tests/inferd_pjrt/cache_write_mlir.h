#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace tpustack::stablehlo_reference {

// A KV-cache write as inferd emits it (generic form): rows of %layer0_keys, of type `table` [N, W], replaced by those
// of %40, of type `updates` [M, W], at the row indices %38, of type `indices` [M, 1].
inline std::string cache_write_mlir(std::string_view table, std::string_view indices, std::string_view updates) {
  std::string text = R"mlir(func.func @main(%layer0_keys: TABLE, %38: INDICES, %40: UPDATES) -> TABLE {
    %41 = "stablehlo.scatter"(%layer0_keys, %38, %40) <{indices_are_sorted = false, scatter_dimension_numbers = #stablehlo.scatter<update_window_dims = [1], inserted_window_dims = [0], scatter_dims_to_operand_dims = [0], index_vector_dim = 1>, unique_indices = false}> ({
    ^bb0(%old41: tensor<f32>, %new41: tensor<f32>):
      stablehlo.return %new41 : tensor<f32>
    }) : (TABLE, INDICES, UPDATES) -> TABLE
  return %41 : TABLE
})mlir";
  for (const auto& [name, type] :
       {std::pair{std::string_view("TABLE"), table}, std::pair{std::string_view("INDICES"), indices},
        std::pair{std::string_view("UPDATES"), updates}}) {
    for (size_t found = text.find(name); found != std::string::npos; found = text.find(name, found + type.size())) {
      text.replace(found, name.size(), type);
    }
  }
  return text;
}

}  // namespace tpustack::stablehlo_reference
