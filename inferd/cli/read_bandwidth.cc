#include "inferd/cli/read_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <numeric>
#include <thread>
#include <vector>

namespace tpustack::inferd::cli {

double read_bandwidth(size_t threads) {
  using Clock = std::chrono::steady_clock;
  const size_t words = (size_t{1} << 30) / sizeof(uint64_t);  // far beyond the last-level cache
  std::vector<uint64_t> buffer(words);
  std::iota(buffer.begin(), buffer.end(), uint64_t{1});  // touches every page
  double best = 0;
  // Written after the passes, so that the compiler cannot drop the reads.
  std::vector<uint64_t> sums(threads);
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = Clock::now();
    std::vector<std::thread> readers;
    for (size_t t = 0; t < threads; ++t) {
      readers.emplace_back([&, t] {
        const size_t begin = words * t / threads, end = words * (t + 1) / threads;
        // Eight independent sums, so that the loads, not one addition chain, set the pace.
        uint64_t sum[8] = {};
        size_t i = begin;
        for (; i + 8 <= end; i += 8) {
          for (size_t lane = 0; lane < 8; ++lane) sum[lane] += buffer[i + lane];
        }
        for (; i < end; ++i) sum[0] += buffer[i];
        sums[t] += std::accumulate(std::begin(sum), std::end(sum), uint64_t{0});
      });
    }
    for (auto& reader : readers) reader.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::max(best, static_cast<double>(words * sizeof(uint64_t)) / seconds);
  }
  // The sums are a function of the buffer alone; returning through them keeps every read observable.
  return std::accumulate(sums.begin(), sums.end(), uint64_t{0}) == 0 ? 0 : best;
}

}  // namespace tpustack::inferd::cli
