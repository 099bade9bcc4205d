// libFuzzer target: arbitrary bytes as a model.safetensors, read by SafetensorsFile::parse as inferd loads a model,
// then every tensor its header lists read as fp32 with the shape the header gives. An Error is the documented
// answer to a bad file or tensor; anything else is a finding.
//   scripts/fuzz.sh safetensors_fuzzer 300
//   safetensors_fuzz_replay tests/fuzz/corpus/safetensors
#include <cstddef>
#include <cstdint>
#include <string>

#include "inferd/model/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tpustack::inferd::model::SafetensorsFile;
  const auto file = SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(data), size), "model.safetensors");
  if (!file) return 0;
  for (const auto& [name, entry] : file->tensors()) file->read_f32(name, entry.shape);
  return 0;
}
