// libFuzzer target: arbitrary bytes as a model's config.json (Hugging Face's model config), read by
// parse_bert_config as inferd loads a model. An Error is the documented answer to a bad file; anything else is a
// finding, and so is an accepted config whose heads do not divide its hidden size.
//   scripts/fuzz.sh model_config_fuzzer 300
//   model_config_fuzz_replay tests/fuzz/corpus/model_config
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "inferd/model/bert_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto config = tpustack::inferd::model::parse_bert_config(
      std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
  if (config && (config->num_heads == 0 || config->hidden_size % config->num_heads != 0)) std::abort();
  return 0;
}
