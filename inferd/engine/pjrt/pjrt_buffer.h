#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result/result.h"

struct PJRT_Api;
struct PJRT_Buffer;

namespace tpustack::inferd::engine::pjrt {

// The element types inferd moves between host and devices, numbered as PJRT numbers them (PJRT_Buffer_Type); a
// plugin's buffer of another type keeps its own number.
enum class PjrtElementType : int { kS32 = 4, kF32 = 11, kBF16 = 13 };

// An array in a device's memory, owned: destroying the object frees the device memory. It must not outlive the
// PjrtClient it came from.
class PjrtBuffer {
 public:
  PjrtBuffer(PjrtBuffer&& other) noexcept;
  PjrtBuffer& operator=(PjrtBuffer&& other) noexcept;
  PjrtBuffer(const PjrtBuffer&) = delete;
  PjrtBuffer& operator=(const PjrtBuffer&) = delete;
  ~PjrtBuffer();

  PjrtElementType element_type() const { return element_type_; }
  const std::vector<int64_t>& dims() const { return dims_; }

  // Copies the array to the host, row-major, and waits until it is there: float32 as it is, bfloat16 widened.
  Result<std::vector<float>> to_host() const;

 private:
  friend class PjrtClient;
  friend class PjrtExecutable;

  // Owns `buffer` from here on.
  PjrtBuffer(const PJRT_Api* api, PJRT_Buffer* buffer) : api_(api), buffer_(buffer) {}

  PJRT_Buffer* handle() const { return buffer_; }
  // Asks the plugin for the element type and dimensions.
  Result<void> read_shape();
  // Waits until the array is in device memory; a failed transfer's error is named after `call`, which started it.
  Result<void> await_ready(std::string_view call) const;

  const PJRT_Api* api_;
  PJRT_Buffer* buffer_;
  PjrtElementType element_type_ = PjrtElementType::kF32;
  std::vector<int64_t> dims_;
};

}  // namespace tpustack::inferd::engine::pjrt
