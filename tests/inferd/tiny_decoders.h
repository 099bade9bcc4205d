#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/required_tool.h"

// Where the build wrote the tiny decoder models (tests/inferd/tools/tiny_decoders.py), and what the float64 numpy
// reference (llama_reference.py) computed for them at the same time.
namespace tpustack::inferd::testing {

inline std::filesystem::path tiny_decoder(const std::string& name) {
#ifdef INFERD_TINY_DECODERS
  return std::filesystem::path(INFERD_TINY_DECODERS) / name;
#else
  return std::filesystem::path("tiny-decoders-need-python3-numpy") / name;
#endif
}

inline bool tiny_decoders_available() { return std::filesystem::exists(tiny_decoder("reference.json")); }

// {"prompts": [[ids]], "steps": 64, "models": {name: {"greedy", "margins", "last_logits", "final_logits"}}}
inline const nlohmann::json& decoder_reference() {
  static const nlohmann::json reference = nlohmann::json::parse(std::ifstream(tiny_decoder("reference.json")));
  return reference;
}

}  // namespace tpustack::inferd::testing

#define INFERD_REQUIRE_TINY_DECODERS()                                           \
  TPUSTACK_REQUIRE_SETUP(::tpustack::inferd::testing::tiny_decoders_available(), \
                         "python3-numpy (it writes the tiny decoder models)")
