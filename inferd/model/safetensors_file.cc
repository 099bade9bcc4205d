#include "inferd/model/safetensors_file.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "common/json/json_document.h"

namespace tpustack::inferd::model {

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
  auto bytes = files::read_file_text(path);
  if (!bytes) return bytes.error();
  return parse(std::move(bytes).value(), path);
}

Result<SafetensorsFile> SafetensorsFile::parse(std::string bytes, const std::filesystem::path& path) {
  SafetensorsFile file;
  file.path_ = path;
  file.bytes_ = std::move(bytes);
  auto fail = [&](const std::string& what) { return Error{path.string() + ": " + what}; };
  if (file.bytes_.size() < 8) return fail("too short for a safetensors header");
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<unsigned char>(file.bytes_[i]);
  if (header_length > file.bytes_.size() - 8) return fail("header length runs past the end of the file");
  file.data_start_ = 8 + header_length;
  const size_t data_size = file.bytes_.size() - file.data_start_;
  auto entries = tpustack::json::read_json_document<std::map<std::string, TensorEntry>>(
      std::string_view(file.bytes_).substr(8, header_length), path.string() + " header",
      [&](const nlohmann::json& header) -> Result<std::map<std::string, TensorEntry>> {
        if (!header.is_object()) return fail("header is not a JSON object");
        std::map<std::string, TensorEntry> read;
        for (const auto& [name, info] : header.items()) {
          if (name == "__metadata__") continue;
          if (!info.is_object()) return fail("tensor '" + name + "' is not described by an object");
          TensorEntry entry;
          entry.dtype = info.value("dtype", "");
          for (const auto& dim : tpustack::json::member(info, "shape")) {
            entry.shape.push_back(tpustack::json::json_integer<size_t>(dim, "tensor '" + name + "' shape"));
          }
          const auto& offsets = tpustack::json::member(info, "data_offsets");
          if (!offsets.is_array() || offsets.size() != 2) {
            return fail("tensor '" + name + "' needs data_offsets [begin, end]");
          }
          entry.begin = tpustack::json::json_integer<size_t>(offsets[0], "tensor '" + name + "' data_offsets");
          entry.end = tpustack::json::json_integer<size_t>(offsets[1], "tensor '" + name + "' data_offsets");
          if (entry.begin > entry.end || entry.end > data_size) {
            return fail("tensor '" + name + "' has data offsets outside the file");
          }
          read.emplace(name, std::move(entry));
        }
        return read;
      });
  if (!entries) return entries.error();
  file.entries_ = std::move(entries).value();
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
  size_t element_size = entry.dtype == "F32" ? 4 : (entry.dtype == "F16" || entry.dtype == "BF16") ? 2 : 0;
  if (element_size == 0) return fail("has dtype " + entry.dtype + " (F32, F16 and BF16 are supported)");
  // Multiplied with overflow checks: a product that wrapped around could match the byte size of a few elements.
  size_t count = 1;
  size_t bytes = 0;
  for (size_t dim : entry.shape) {
    if (__builtin_mul_overflow(count, dim, &count)) return fail("has a shape too large for memory");
  }
  if (__builtin_mul_overflow(count, element_size, &bytes) || entry.end - entry.begin != bytes) {
    return fail("has a byte size that does not match its shape");
  }

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

}  // namespace tpustack::inferd::model
