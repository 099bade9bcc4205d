#include "inferd/batch_jobs/object_id.h"

#include <mutex>
#include <random>

namespace tpustack::inferd::batch_jobs {

std::string random_id(std::string_view prefix) {
  static std::mutex mu;
  static std::mt19937_64 generator{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string id(prefix);
  std::lock_guard lock(mu);
  for (int i = 0; i < 24; ++i) id += digits[generator() % 16];
  return id;
}

}  // namespace tpustack::inferd::batch_jobs
