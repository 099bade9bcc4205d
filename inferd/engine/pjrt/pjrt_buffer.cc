#include "inferd/engine/pjrt/pjrt_buffer.h"

#include <cstring>
#include <functional>
#include <numeric>
#include <utility>

#include "inferd/engine/pjrt/pjrt_c_api.h"
#include "inferd/engine/pjrt/plugin_call.h"

namespace tpustack::inferd::engine::pjrt {

static_assert(static_cast<int>(PjrtElementType::kS32) == PJRT_Buffer_Type_S32 &&
              static_cast<int>(PjrtElementType::kF32) == PJRT_Buffer_Type_F32 &&
              static_cast<int>(PjrtElementType::kBF16) == PJRT_Buffer_Type_BF16);

PjrtBuffer::PjrtBuffer(PjrtBuffer&& other) noexcept
    : api_(other.api_),
      buffer_(std::exchange(other.buffer_, nullptr)),
      element_type_(other.element_type_),
      dims_(std::move(other.dims_)) {}

PjrtBuffer& PjrtBuffer::operator=(PjrtBuffer&& other) noexcept {
  if (this != &other) {
    PjrtBuffer gone(std::move(*this));
    api_ = other.api_;
    buffer_ = std::exchange(other.buffer_, nullptr);
    element_type_ = other.element_type_;
    dims_ = std::move(other.dims_);
  }
  return *this;
}

PjrtBuffer::~PjrtBuffer() {
  if (buffer_ == nullptr) return;
  PJRT_Buffer_Destroy_Args args{};
  args.struct_size = PJRT_Buffer_Destroy_Args_STRUCT_SIZE;
  args.buffer = buffer_;
  log_error(*api_, api_->PJRT_Buffer_Destroy(&args), "PJRT_Buffer_Destroy");
}

Result<void> PjrtBuffer::read_shape() {
  PJRT_Buffer_ElementType_Args type{};
  type.struct_size = PJRT_Buffer_ElementType_Args_STRUCT_SIZE;
  type.buffer = buffer_;
  if (PJRT_Error* error = api_->PJRT_Buffer_ElementType(&type)) {
    return take_error(*api_, error, "PJRT_Buffer_ElementType");
  }
  element_type_ = static_cast<PjrtElementType>(type.type);

  PJRT_Buffer_Dimensions_Args dimensions{};
  dimensions.struct_size = PJRT_Buffer_Dimensions_Args_STRUCT_SIZE;
  dimensions.buffer = buffer_;
  if (PJRT_Error* error = api_->PJRT_Buffer_Dimensions(&dimensions)) {
    return take_error(*api_, error, "PJRT_Buffer_Dimensions");
  }
  dims_.assign(dimensions.dims, dimensions.dims + dimensions.num_dims);
  return {};
}

Result<void> PjrtBuffer::await_ready(std::string_view call) const {
  PJRT_Buffer_ReadyEvent_Args ready{};
  ready.struct_size = PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE;
  ready.buffer = buffer_;
  if (PJRT_Error* error = api_->PJRT_Buffer_ReadyEvent(&ready)) {
    return take_error(*api_, error, "PJRT_Buffer_ReadyEvent");
  }
  return await_event(*api_, ready.event, call);
}

Result<std::vector<float>> PjrtBuffer::to_host() const {
  const bool bf16 = element_type_ == PjrtElementType::kBF16;
  if (element_type_ != PjrtElementType::kF32 && !bf16) {
    return Error{"a PJRT buffer of element type " + std::to_string(static_cast<int>(element_type_)) +
                 " (PJRT_Buffer_Type) cannot be read as float32 or bfloat16"};
  }
  const auto count = static_cast<size_t>(std::accumulate(dims_.begin(), dims_.end(), int64_t{1}, std::multiplies<>()));
  std::vector<float> values(count);
  std::vector<uint16_t> bf16_values(bf16 ? count : 0);
  void* destination = bf16 ? static_cast<void*>(bf16_values.data()) : values.data();
  const size_t bytes = count * (bf16 ? sizeof(uint16_t) : sizeof(float));

  // Row-major on the host whatever layout the device keeps (TPUs tile theirs).
  std::vector<int64_t> minor_to_major(dims_.size());
  std::iota(minor_to_major.rbegin(), minor_to_major.rend(), int64_t{0});
  PJRT_Buffer_MemoryLayout layout{};
  layout.struct_size = PJRT_Buffer_MemoryLayout_STRUCT_SIZE;
  layout.type = PJRT_Buffer_MemoryLayout_Type_Tiled;
  layout.tiled.struct_size = PJRT_Buffer_MemoryLayout_Tiled_STRUCT_SIZE;
  layout.tiled.minor_to_major = minor_to_major.data();
  layout.tiled.minor_to_major_size = minor_to_major.size();

  PJRT_Buffer_ToHostBuffer_Args copy{};
  copy.struct_size = PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE;
  copy.src = buffer_;
  copy.host_layout = &layout;
  copy.dst = destination;
  copy.dst_size = bytes;
  if (PJRT_Error* error = api_->PJRT_Buffer_ToHostBuffer(&copy)) {
    return take_error(*api_, error, "PJRT_Buffer_ToHostBuffer");
  }
  if (auto copied = await_event(*api_, copy.event, "PJRT_Buffer_ToHostBuffer"); !copied) return copied.error();

  for (size_t i = 0; i < bf16_values.size(); ++i) {
    const uint32_t widened = uint32_t{bf16_values[i]} << 16;
    std::memcpy(&values[i], &widened, sizeof(widened));
  }
  return values;
}

}  // namespace tpustack::inferd::engine::pjrt
