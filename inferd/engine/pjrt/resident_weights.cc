#include "inferd/engine/pjrt/resident_weights.h"

#include <string>

#include "inferd/engine/cpu/kernels.h"

namespace tpustack::inferd::engine::pjrt {

Result<std::vector<ResidentWeights>> upload_weights(const PjrtClient& client, std::span<const int> device_ids,
                                                    const std::vector<ProgramParameter>& parameters,
                                                    const std::vector<std::span<const float>>& values,
                                                    WeightPrecision precision) {
  std::vector<ResidentWeights> resident(device_ids.size());
  std::vector<uint16_t> bits;
  const bool bf16 = precision == WeightPrecision::bf16;
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (bf16) {
      bits.resize(values[i].size());
      cpu::round_to_bf16(values[i].data(), values[i].size(), bits.data());
    }
    for (size_t d = 0; d < device_ids.size(); ++d) {
      auto buffer = bf16 ? client.buffer_from_host_bf16(bits, parameters[i].dims, device_ids[d])
                         : client.buffer_from_host(values[i], parameters[i].dims, device_ids[d]);
      if (!buffer) {
        return Error{"cannot place " + parameters[i].name + " on device " + std::to_string(device_ids[d]) + ": " +
                     buffer.error().message};
      }
      resident[d].push_back(std::move(buffer).value());
    }
  }
  return resident;
}

}  // namespace tpustack::inferd::engine::pjrt
