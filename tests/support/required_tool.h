#pragma once

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

namespace tpustack::testing {

// CI (CI=true) runs on a machine scripts/setup.sh prepared: there a missing tool is a broken setup, never a
// reason to pass without checking anything.
inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace tpustack::testing

// Ends the current test when something scripts/setup.sh installs is missing: a failure under CI=true, a skip
// with the reason on a developer's partial machine.
#define TPUSTACK_REQUIRE_SETUP(available, what)                                            \
  if (!(available)) {                                                                      \
    if (::tpustack::testing::running_in_ci()) {                                            \
      GTEST_FAIL() << (what) << " is missing, and scripts/setup.sh installs it (CI=true)"; \
    } else {                                                                               \
      GTEST_SKIP() << (what) << " is missing (bash scripts/setup.sh installs it)";         \
    }                                                                                      \
  }
