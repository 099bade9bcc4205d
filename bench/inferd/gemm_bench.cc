// Compares the two kept GEMM libraries, OpenBLAS and oneDNN, on the fp32 products of a 384-wide BERT layer
// (tokens x 384 by 384 x 1152, 384 x 1536, 1536 x 384) and prints one JSON line per library and shape.
#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

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
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  for (int tokens : {128, 4096}) {
    for (auto [n, k] : {std::pair{1152, 384}, std::pair{1536, 384}, std::pair{384, 1536}}) {
      double openblas = gflops(tokens, n, k, [](int m, int n, int k, const float* a, const float* b, float* c) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
      });
      double onednn = gflops(tokens, n, k, [](int m, int n, int k, const float* a, const float* b, float* c) {
        dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
      });
      std::printf(
          "{\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d,\"openblas_gflop_per_s\":%.1f,\"onednn_gflop_per_s\":%.1f}\n",
          tokens, n, k, threads, openblas, onednn);
    }
  }
}
