// The official OpenAI Node SDK and @huggingface/inference against a real `inferd serve` with two models
// (tests/inferd_server/npm/clients.mjs). The packages are npm-installed into this test's work directory under the
// build tree; without node, npm or the registry the test skips.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "served_inferd.h"
#include "tests/support/required_tool.h"

namespace inferd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool succeeds(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

// The packages in `work`, installed once per build tree; false when npm could not install them.
bool install_clients(const fs::path& work) {
  if (fs::exists(work / "node_modules/openai/package.json") &&
      fs::exists(work / "node_modules/@huggingface/inference/package.json")) {
    return true;
  }
  fs::create_directories(work);
  return succeeds("cd '" + work.string() +
                  "' && timeout 300 npm install --no-audit --no-fund --no-save --loglevel=error "
                  "openai@6 @huggingface/inference@4");
}

TEST(NpmClients, OpenAiSdkAndHuggingFaceInferencePassAgainstInferd) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  if (!succeeds("node --version") || !succeeds("npm --version")) GTEST_SKIP() << "node or npm is missing";
  const fs::path work = NPM_WORK_DIR;
  if (!install_clients(work)) GTEST_SKIP() << "npm could not install openai and @huggingface/inference";
  // Next to node_modules, so its imports resolve there.
  fs::copy_file(std::string(TPUSTACK_SOURCE_DIR) + "/tests/inferd_server/npm/clients.mjs", work / "clients.mjs",
                fs::copy_options::overwrite_existing);

  const std::string models = ServedInferd::tiny_models();
  ServedInferd server({"--model", "e=" + models + "/f32-mean", "--model", "r=" + models + "/cross-encoder", "--preload",
                       "e,r", "--threads", "1"});
  ChildProcess clients(
      {"node", (work / "clients.mjs").string(), "http://127.0.0.1:" + std::to_string(server.http_port())});
  const auto status = clients.wait(120s);
  ASSERT_TRUE(status.has_value()) << "the clients did not finish:\n" << clients.output();
  EXPECT_EQ(*status, 0) << clients.output() << "\ninferd:\n" << server.process().output();
  EXPECT_NE(clients.output().find("all checks passed"), std::string::npos) << clients.output();
}

}  // namespace
}  // namespace inferd::testing
