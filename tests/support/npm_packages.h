#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace tpustack::testing {

// Runs a shell command with its output discarded; true when it exits 0.
bool command_succeeds(const std::string& command);

// npm packages ("openai@6", "@huggingface/inference@4") installed into work/node_modules, once per build tree:
// true when all are there, false when node or npm is missing or npm could not install them (no registry).
// Install scripts are not run: those of the packages tests use only fetch native binaries the tests do not need.
bool npm_install(const std::filesystem::path& work, const std::vector<std::string>& packages);

}  // namespace tpustack::testing
