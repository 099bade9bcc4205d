// The products of a 384-wide BERT layer (tokens x 384 by 384 x 1152, 384 x 1536, 1536 x 384) through the two kept
// GEMM libraries' BLAS calls (OpenBLAS and oneDNN sgemm, which repack the weights on every call) and through the
// engine's own Linear (a oneDNN matmul primitive on weights packed once, in f32, bf16 and int8, each thread on its
// share of the rows as the engine runs it); one JSON line per shape with every figure and the kernels that ran.
//   inferd_gemm_bench [threads]
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/cli/command_line.h"
#include "inferd/engine/cpu/linear.h"

namespace {

using tpustack::inferd::engine::WeightPrecision;
using tpustack::inferd::engine::cpu::Linear;

template <typename Gemm>
double gflops(int m, int n, int k, Gemm gemm) {
  std::vector<float> a(size_t(m) * k, 0.5f), b(size_t(k) * n, 0.25f), c(size_t(m) * n);
  gemm(m, n, k, a.data(), b.data(), c.data());
  int repeats = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  while (elapsed < 1.0) {
    gemm(m, n, k, a.data(), b.data(), c.data());
    ++repeats;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return 2.0 * m * n * k * repeats / elapsed / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("A BERT layer's products through OpenBLAS, oneDNN sgemm and the engine's Linear", "inferd_gemm_bench");
  int threads = 2;
  app.add_option("threads", threads, "threads")->check(CLI::PositiveNumber);
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  std::mt19937 random(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int tokens : {128, 4096}) {
    for (auto [n, k] : {std::pair{1152, 384}, std::pair{1536, 384}, std::pair{384, 1536}}) {
      nlohmann::ordered_json line = {{"m", tokens}, {"n", n}, {"k", k}, {"threads", threads}};
      line["openblas_sgemm_gflop_per_s"] =
          gflops(tokens, n, k, [](int m, int n, int k, const float* a, const float* b, float* c) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
          });
      line["onednn_sgemm_gflop_per_s"] =
          gflops(tokens, n, k, [](int m, int n, int k, const float* a, const float* b, float* c) {
            dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
          });
      tpustack::inferd::model::DenseWeights dense{{}, std::vector<float>(n, 0.0f), size_t(n), size_t(k)};
      for (int i = 0; i < n * k; ++i) dense.weight.push_back(uniform(random));
      for (auto precision : {WeightPrecision::f32, WeightPrecision::bf16, WeightPrecision::i8}) {
        if (precision == WeightPrecision::bf16 && !tpustack::inferd::engine::cpu::has_native_bf16()) continue;
        const Linear linear({&dense}, precision);
        const std::string name(tpustack::inferd::engine::precision_name(precision));
        line["engine_" + name + "_gflop_per_s"] =
            gflops(tokens, n, k, [&](int m, int, int, const float* a, const float*, float* c) {
#pragma omp parallel
              {
                const int t = omp_get_thread_num(), all = omp_get_num_threads();
                const int first = m * t / all, rows = m * (t + 1) / all - first;
                linear.multiply(a + size_t(first) * k, size_t(rows), c + size_t(first) * n);
              }
            });
        line["engine_" + name + "_kernel"] = linear.kernel();
      }
      std::printf("%s\n", line.dump().c_str());
    }
  }
}
