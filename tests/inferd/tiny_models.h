#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/required_tool.h"

// Where the build wrote the tiny models, and the goldens the numpy reference computed for them.
namespace tpustack::inferd::testing {

inline std::filesystem::path tiny_model(const std::string& name) {
#ifdef INFERD_TINY_MODELS
  return std::filesystem::path(INFERD_TINY_MODELS) / name;
#else
  return std::filesystem::path("tiny-models-need-python3-numpy") / name;
#endif
}

inline bool tiny_models_available() { return std::filesystem::exists(tiny_model("f32-mean") / "config.json"); }

inline const nlohmann::json& tiny_golden() {
  static const nlohmann::json golden = [] {
    std::ifstream in(std::filesystem::path(TPUSTACK_SOURCE_DIR) / "tests/inferd/data/tiny-golden.json");
    return nlohmann::json::parse(in);
  }();
  return golden;
}

}  // namespace tpustack::inferd::testing

#define INFERD_REQUIRE_TINY_MODELS()                                           \
  TPUSTACK_REQUIRE_SETUP(::tpustack::inferd::testing::tiny_models_available(), \
                         "python3-numpy (it writes the tiny models)")
