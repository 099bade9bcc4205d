#pragma once

// What tests of inferd's PJRT backend share about the fake plugin (fake_pjrt_plugin.cc): where it is, its counters
// and a fixture that turns its fault switches off after each test.

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace tpustack::inferd::engine::pjrt {

inline const std::string kFakePlugin = FAKE_PJRT_PLUGIN;

// One of the fake's counters, through the symbol it exports for tests. The fake stays loaded once a load succeeded,
// so RTLD_NOLOAD finds it.
inline int fake_counter(const char* symbol) {
  void* handle = dlopen(kFakePlugin.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) throw std::runtime_error("the fake PJRT plugin is not loaded");
  auto* counter = reinterpret_cast<int (*)()>(dlsym(handle, symbol));
  const int value = counter();
  dlclose(handle);
  return value;
}

class FakePjrtTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* name :
         {"FAKE_PJRT_API_MAJOR", "FAKE_PJRT_API_MINOR", "FAKE_PJRT_API_STRUCT_SIZE", "FAKE_PJRT_FAIL_CLIENT_CREATE",
          "FAKE_PJRT_FAIL_COMPILE", "FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES", "FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE",
          "FAKE_PJRT_FAIL_EXECUTION", "FAKE_PJRT_FAIL_DESERIALIZE", "FAKE_PJRT_PLATFORM_VERSION"}) {
      unsetenv(name);
    }
  }
};

}  // namespace tpustack::inferd::engine::pjrt
