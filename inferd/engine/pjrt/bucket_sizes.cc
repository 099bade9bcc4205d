#include "inferd/engine/pjrt/bucket_sizes.h"

#include <algorithm>

namespace tpustack::inferd::engine::pjrt {

std::vector<size_t> doubling_sizes(size_t first, size_t last) {
  std::vector<size_t> sizes;
  for (size_t size = std::min(first, last); size < last; size *= 2) sizes.push_back(size);
  sizes.push_back(last);
  return sizes;
}

size_t smallest_at_least(const std::vector<size_t>& sizes, size_t wanted) {
  const auto found = std::lower_bound(sizes.begin(), sizes.end(), wanted);
  return found == sizes.end() ? sizes.back() : *found;
}

}  // namespace tpustack::inferd::engine::pjrt
