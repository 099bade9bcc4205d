#include "tests/support/npm_packages.h"

#include <algorithm>
#include <cstdlib>

namespace tpustack::testing {

namespace {

// "@scope/name@1" -> "@scope/name": the folder under node_modules.
std::string package_name(const std::string& spec) {
  const size_t version = spec.rfind('@');
  return version == 0 || version == std::string::npos ? spec : spec.substr(0, version);
}

}  // namespace

bool command_succeeds(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

bool npm_install(const std::filesystem::path& work, const std::vector<std::string>& packages) {
  if (!command_succeeds("node --version") || !command_succeeds("npm --version")) return false;
  const bool installed = std::all_of(packages.begin(), packages.end(), [&](const std::string& spec) {
    return std::filesystem::exists(work / "node_modules" / package_name(spec) / "package.json");
  });
  if (installed) return true;
  std::filesystem::create_directories(work);
  std::string command = "cd '" + work.string() +
                        "' && timeout 300 npm install --no-audit --no-fund --no-save --ignore-scripts --loglevel=error";
  for (const std::string& spec : packages) command += " '" + spec + "'";
  return command_succeeds(command);
}

}  // namespace tpustack::testing
