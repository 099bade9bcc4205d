#include "inferd/model/safetensors_file.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "inferd/common/file_text.h"

namespace inferd::model {

namespace {

std::string shape_text(const std::vector<size_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000 | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: renormalise
    int shift = 0;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (static_cast<uint32_t>(113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  auto bytes = read_file_text(path);
  if (!bytes) return bytes.error();
  SafetensorsFile file;
  file.path_ = path;
  file.bytes_ = std::move(bytes).value();
  auto fail = [&](const std::string& what) { return Error{path.string() + ": " + what}; };
  if (file.bytes_.size() < 8) return fail("too short for a safetensors header");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(file.bytes_[i]);
  if (header_length > file.bytes_.size() - 8) return fail("header length runs past the end of the file");
  file.data_start_ = 8 + header_length;
  auto header = nlohmann::json::parse(file.bytes_.substr(8, header_length), nullptr, false);
  if (header.is_discarded() || !header.is_object()) return fail("header is not a JSON object");
  size_t data_size = file.bytes_.size() - file.data_start_;
  for (auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    TensorEntry entry;
    entry.dtype = info.value("dtype", "");
    entry.shape = info.value("shape", std::vector<size_t>{});
    auto offsets = info.value("data_offsets", std::vector<size_t>{});
    if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size) {
      return fail("tensor '" + name + "' has data offsets outside the file");
    }
    entry.begin = offsets[0];
    entry.end = offsets[1];
    file.entries_.emplace(name, std::move(entry));
  }
  return file;
}

Result<std::vector<float>> SafetensorsFile::read_f32(const std::string& name,
                                                     const std::vector<size_t>& expected_shape) const {
  auto fail = [&](const std::string& what) { return Error{path_.string() + ": tensor '" + name + "' " + what}; };
  auto it = entries_.find(name);
  if (it == entries_.end()) return fail("is missing");
  const TensorEntry& entry = it->second;
  if (entry.shape != expected_shape) {
    return fail("has shape " + shape_text(entry.shape) + ", config.json implies " + shape_text(expected_shape));
  }
  size_t count = 1;
  for (size_t dim : entry.shape) count *= dim;
  size_t element_size = entry.dtype == "F32" ? 4 : (entry.dtype == "F16" || entry.dtype == "BF16") ? 2 : 0;
  if (element_size == 0) return fail("has dtype " + entry.dtype + " (F32, F16 and BF16 are supported)");
  if (entry.end - entry.begin != count * element_size) return fail("has a byte size that does not match its shape");

  const char* data = bytes_.data() + data_start_ + entry.begin;
  std::vector<float> values(count);
  if (element_size == 4) {
    std::memcpy(values.data(), data, count * 4);
    return values;
  }
  for (size_t i = 0; i < count; ++i) {
    uint16_t half;
    std::memcpy(&half, data + 2 * i, 2);
    if (entry.dtype == "F16") {
      values[i] = half_to_float(half);
    } else {
      uint32_t bits = static_cast<uint32_t>(half) << 16;
      std::memcpy(&values[i], &bits, 4);
    }
  }
  return values;
}

}  // namespace inferd::model
