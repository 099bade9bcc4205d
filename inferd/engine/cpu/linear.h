#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <optional>
#include <string>
#include <vector>

#include "inferd/engine/encoder_backend.h"
#include "inferd/model/bert_weights.h"

namespace tpustack::inferd::engine::cpu {

// The matrix product of a fully connected layer, y = x · Wᵀ, as a oneDNN matmul primitive. The weights are
// reordered once, at load, into the blocked format of the kernel oneDNN chose for this CPU (AMX tiles, AVX-512
// VNNI/BF16 or AVX2 panels): f32, bf16 (the rows of x are rounded to bf16 on the way in, accumulation stays fp32)
// or int8 with one scale per output column (rows of x quantised per row at run time).
class Linear {
 public:
  // What the product's own pass adds to it: the bias and an activation, or nothing when the element-wise kernel
  // that follows folds the bias into its pass anyway (residual + layer norm).
  struct Epilogue {
    bool bias = false;
    std::optional<model::Activation> activation = std::nullopt;
  };

  // Concatenates the layers' outputs side by side (for example query, key and value into one product). Rows of y
  // are output_stride floats apart, or out() when it is 0: a layer that is a column shard of a wider product writes
  // its columns into that product's rows in place.
  Linear(const std::vector<const model::DenseWeights*>& parts, WeightPrecision precision,
         Epilogue epilogue = Epilogue{false, std::nullopt}, size_t output_stride = 0);

  // On the calling thread alone: the backend splits the rows among its threads itself, and a oneDNN primitive
  // called inside an OpenMP parallel region runs serially.
  void multiply(const float* x, size_t rows, float* y) const;

  size_t in() const { return in_; }
  size_t out() const { return out_; }
  const float* bias() const { return bias_.data(); }
  // oneDNN's name for the kernel that runs the product, as its verbose mode prints it ("brg:avx512_core_amx").
  const std::string& kernel() const { return kernel_; }

 private:
  // Primitives are made for a fixed number of rows; a call is cut into chunks of the sizes below so that the
  // cache holds at most chunk_rows / 16 + 15 primitives per layer whatever the batches look like.
  static constexpr size_t chunk_rows = 256;

  struct Prepared {
    dnnl::matmul::primitive_desc described;
    dnnl::matmul product;
  };

  // Made on first use; entries are never removed, so the reference stays valid after the lock is released.
  const Prepared& prepared(size_t rows) const;
  dnnl::matmul::primitive_desc describe(size_t rows, const dnnl::memory::desc& weights) const;
  void multiply_chunk(const float* x, size_t rows, float* y) const;

  size_t in_ = 0;
  size_t out_ = 0;
  size_t output_stride_ = 0;
  WeightPrecision precision_;
  Epilogue epilogue_;
  dnnl::memory bias_memory_;         // the bias as oneDNN adds it (f32 and bf16; int8 adds it in its own epilogue)
  dnnl::memory packed_;              // weights in the kernel's own layout
  std::vector<float> column_scale_;  // [out], int8 only
  std::vector<float> bias_;
  std::string kernel_;
  struct Primitives {
    std::mutex mutex;
    std::map<size_t, Prepared> by_rows;
  };
  std::unique_ptr<Primitives> primitives_ = std::make_unique<Primitives>();  // behind a pointer: Linear moves
};

// The instruction set oneDNN dispatches to on this CPU ("avx512_core_amx", "avx2", ...).
std::string cpu_isa_name();
// Whether that set multiplies bf16 itself (AVX512_BF16 dot products or AMX-BF16 tiles), and int8 with 32-bit
// sums (VNNI or AMX-INT8; every CPU with the former has the latter).
bool has_native_bf16();
bool has_vnni();

}  // namespace tpustack::inferd::engine::cpu
