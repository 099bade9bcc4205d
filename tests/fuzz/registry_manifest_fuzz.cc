// libFuzzer target: arbitrary bytes as what inferd pull fetches from a model registry, read as both of its JSON
// documents: index.json (parse_index) and a model's manifest (parse_manifest), whose variants then each list their
// files. An Error is the documented answer to a bad document; anything else is a finding, and so is a file name
// that would leave the model directory.
//   scripts/fuzz.sh registry_manifest_fuzzer 300
//   registry_manifest_fuzz_replay tests/fuzz/corpus/registry_manifest
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "inferd/registry/registry_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::inferd::registry;
  const std::string text(reinterpret_cast<const char*>(data), size);
  parse_index(text);
  const auto manifest = parse_manifest(text);
  if (!manifest) return 0;
  for (const auto& [variant, own_files] : manifest->variants) {
    const auto files = files_for_variant(*manifest, variant);
    if (!files) continue;
    for (const ManifestFile& file : *files) {
      if (!is_safe_relative_path(file.name)) {
        std::fprintf(stderr, "manifest accepted the file name %s\n", file.name.c_str());
        std::abort();
      }
    }
  }
  return 0;
}
