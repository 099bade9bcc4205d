#include "inferd/engine/cpu/linear.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <unordered_map>

#include "inferd/engine/cpu/kernels.h"

namespace tpustack::inferd::engine::cpu {

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Streams are cheap and a CPU stream runs on its caller; one per thread keeps concurrent products independent.
dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

dt source_type(WeightPrecision precision) {
  switch (precision) {
    case WeightPrecision::bf16:
      return dt::bf16;
    case WeightPrecision::i8:
      return dt::s8;
    case WeightPrecision::f32:
      break;
  }
  return dt::f32;
}

// oneDNN splits a primitive's work for the thread count it sees when the primitive is made, and leaves the share of
// any thread the team it runs in lacks undone (OMP_THREAD_LIMIT below --threads lost rows that way). Every product
// runs on one thread of the backend's own region, so each is planned for one thread.
class SerialPlanning {
 public:
  SerialPlanning() : threads_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SerialPlanning() { omp_set_num_threads(threads_); }
  SerialPlanning(const SerialPlanning&) = delete;
  SerialPlanning& operator=(const SerialPlanning&) = delete;

 private:
  int threads_;
};

// The calling thread's buffer, kept between calls: fresh ones cost page faults on every product of a large batch.
template <class T>
T* thread_buffer(size_t size) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

}  // namespace

dnnl::algorithm eltwise(model::Activation activation) {
  switch (activation) {
    case model::Activation::gelu_tanh:
      return dnnl::algorithm::eltwise_gelu_tanh;
    case model::Activation::relu:
      return dnnl::algorithm::eltwise_relu;
    case model::Activation::gelu:
      break;
  }
  return dnnl::algorithm::eltwise_gelu_erf;
}

Linear::Linear(const std::vector<const model::DenseWeights*>& parts, WeightPrecision precision, Epilogue epilogue,
               size_t output_stride)
    : precision_(precision), epilogue_(epilogue) {
  in_ = parts.front()->in;
  for (const auto* part : parts) out_ += part->out;
  output_stride_ = output_stride ? output_stride : out_;
  std::vector<float> transposed(in_ * out_);  // [in, out]
  size_t column = 0;
  for (const auto* part : parts) {
    for (size_t o = 0; o < part->out; ++o) {
      for (size_t i = 0; i < in_; ++i) transposed[i * out_ + column + o] = part->weight[o * in_ + i];
    }
    column += part->out;
    bias_.insert(bias_.end(), part->bias.begin(), part->bias.end());
  }
  const memory::dims shape{static_cast<memory::dim>(in_), static_cast<memory::dim>(out_)};
  memory plain(memory::desc(shape, dt::f32, tag::ab), cpu_engine(), transposed.data());
  std::vector<int8_t> quantized;
  if (precision == WeightPrecision::i8) {
    // Symmetric per output column, so the product needs no zero point; the scales go into the primitive. Without
    // VNNI the CPU sums pairs of u8 x s8 products in 16 bits, which 7-bit weights keep from saturating (255 * 63 * 2
    // < 2^15); oneDNN expects its callers to do that.
    const float levels = has_vnni() ? 127.0f : 63.0f;
    column_scale_.assign(out_, 0.0f);
    for (size_t i = 0; i < in_ * out_; ++i)
      column_scale_[i % out_] = std::max(column_scale_[i % out_], std::fabs(transposed[i]));
    for (float& scale : column_scale_) scale = scale > 0.0f ? scale / levels : 1.0f;
    quantized.resize(in_ * out_);
    for (size_t i = 0; i < in_ * out_; ++i)
      quantized[i] = static_cast<int8_t>(std::lround(transposed[i] / column_scale_[i % out_]));
    plain = memory(memory::desc(shape, dt::s8, tag::ab), cpu_engine(), quantized.data());
  }
  if (epilogue.bias && precision != WeightPrecision::i8) {
    bias_memory_ =
        memory(memory::desc({1, static_cast<memory::dim>(out_)}, dt::f32, tag::ab), cpu_engine(), bias_.data());
  }
  const SerialPlanning serial;
  const auto chosen = describe(chunk_rows, memory::desc(shape, source_type(precision), tag::any));
  kernel_ = chosen.impl_info_str();
  packed_ = memory(chosen.weights_desc(), cpu_engine());
  dnnl::reorder(plain, packed_).execute(thread_stream(), plain, packed_);
  thread_stream().wait();
  primitives_->by_rows.emplace(chunk_rows, Prepared{chosen, dnnl::matmul(chosen)});
}

dnnl::matmul::primitive_desc Linear::describe(size_t rows, const memory::desc& weights) const {
  const dt source = source_type(precision_);
  const memory::dims src{static_cast<memory::dim>(rows), static_cast<memory::dim>(in_)};
  const memory::dims dst{static_cast<memory::dim>(rows), static_cast<memory::dim>(out_)};
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);  // per-thread scratch: concurrent calls are safe
  const memory::desc source_desc(src, source, tag::ab);
  const memory::desc destination(dst, dt::f32, memory::dims{static_cast<memory::dim>(output_stride_), 1});
  if (precision_ == WeightPrecision::i8) {
    attributes.set_output_scales(1 << 1, column_scale_);
    return {dnnl::matmul::desc(source_desc, weights, destination), attributes, cpu_engine()};
  }
  if (epilogue_.activation) {
    dnnl::post_ops activation;
    activation.append_eltwise(1.0f, eltwise(*epilogue_.activation), 0.0f, 0.0f);
    attributes.set_post_ops(activation);
  }
  if (bias_memory_) {
    return {dnnl::matmul::desc(source_desc, weights, bias_memory_.get_desc(), destination), attributes, cpu_engine()};
  }
  return {dnnl::matmul::desc(source_desc, weights, destination), attributes, cpu_engine()};
}

const Linear::Prepared& Linear::prepared(size_t rows) const {
  std::lock_guard lock(primitives_->mutex);
  auto& by_rows = primitives_->by_rows;
  auto found = by_rows.find(rows);
  if (found == by_rows.end()) {
    const SerialPlanning serial;
    auto described = describe(rows, packed_.get_desc());
    found = by_rows.emplace(rows, Prepared{described, dnnl::matmul(described)}).first;
  }
  return found->second;
}

void Linear::multiply(const float* x, size_t rows, float* y) const {
  // Whole chunks, then the rest cut to a multiple of 16 and a tail under 16.
  size_t done = 0;
  for (; rows - done >= chunk_rows; done += chunk_rows) {
    multiply_chunk(x + done * in_, chunk_rows, y + done * output_stride_);
  }
  if (const size_t sixteens = (rows - done) / 16 * 16; sixteens > 0) {
    multiply_chunk(x + done * in_, sixteens, y + done * output_stride_);
    done += sixteens;
  }
  if (done < rows) multiply_chunk(x + done * in_, rows - done, y + done * output_stride_);
}

void Linear::multiply_chunk(const float* x, size_t rows, float* y) const {
  const auto& [described, product] = prepared(rows);
  void* source = const_cast<float*>(x);  // oneDNN's memory takes a mutable handle; the source is only read
  float* row_scale = nullptr;
  if (precision_ == WeightPrecision::bf16) {
    auto* converted = thread_buffer<uint16_t>(rows * in_);
    round_to_bf16(x, rows * in_, converted);
    source = converted;
  } else if (precision_ == WeightPrecision::i8) {
    auto* quantized = thread_buffer<int8_t>(rows * in_);
    row_scale = thread_buffer<float>(rows);
    quantize_rows(x, rows, in_, quantized, row_scale);
    source = quantized;
  }
  const memory::desc scratch_desc = described.scratchpad_desc();
  auto* scratch = thread_buffer<uint8_t>(scratch_desc.get_size());
  std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC, memory(described.src_desc(), cpu_engine(), source)},
                                            {DNNL_ARG_WEIGHTS, packed_},
                                            {DNNL_ARG_DST, memory(described.dst_desc(), cpu_engine(), y)},
                                            {DNNL_ARG_SCRATCHPAD, memory(scratch_desc, cpu_engine(), scratch)}};
  if (bias_memory_) arguments.emplace(DNNL_ARG_BIAS, bias_memory_);
  product.execute(thread_stream(), arguments);
  if (row_scale) {
    scale_bias_activation(y, row_scale, epilogue_.bias ? bias_.data() : nullptr, epilogue_.activation, rows, out_,
                          output_stride_);
  }
}

bool has_vnni() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_vnni || isa == dnnl::cpu_isa::avx2_vnni || has_native_bf16();
}

bool has_native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

std::string cpu_isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::sse41:
      return "sse41";
    default:
      return "other";
  }
}

}  // namespace tpustack::inferd::engine::cpu
