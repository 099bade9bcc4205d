// The official OpenAI Node SDK and @huggingface/inference against a real `inferd serve` with an embedder, a reranker
// and a tiny decoder (tests/inferd_server/npm/clients.mjs): the SDK driving one batch end to end (--data-dir) and
// streaming a chat completion. The packages are
// npm-installed into this test's work directory under the build tree; without node, npm or the registry the test skips.
#include <gtest/gtest.h>

#include <filesystem>

#include "served_inferd.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/npm_packages.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(NpmClients, OpenAiSdkAndHuggingFaceInferencePassAgainstInferd) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  INFERD_REQUIRE_TINY_DECODERS();
  const fs::path work = NPM_WORK_DIR;
  if (!tpustack::testing::npm_install(work, {"openai@6", "@huggingface/inference@4"})) {
    GTEST_SKIP() << "node, npm or the registry is missing: npm could not install openai and @huggingface/inference";
  }
  // Next to node_modules, so its imports resolve there.
  fs::copy_file(std::string(TPUSTACK_SOURCE_DIR) + "/tests/inferd_server/npm/clients.mjs", work / "clients.mjs",
                fs::copy_options::overwrite_existing);

  const std::string models = ServedInferd::tiny_models();
  const std::string data_dir = tpustack::testing::make_temp_dir("inferd-npm");
  ServedInferd server({"--model", "e=" + models + "/f32-mean", "--model", "r=" + models + "/cross-encoder", "--model",
                       "g=" + tiny_decoder("llama").string(), "--preload", "e,r,g", "--threads", "1", "--data-dir",
                       data_dir});
  ChildProcess clients(
      {"node", (work / "clients.mjs").string(), "http://127.0.0.1:" + std::to_string(server.http_port())});
  const auto status = clients.wait(120s);
  ASSERT_TRUE(status.has_value()) << "the clients did not finish:\n" << clients.output();
  EXPECT_EQ(*status, 0) << clients.output() << "\ninferd:\n" << server.process().output();
  EXPECT_NE(clients.output().find("all checks passed"), std::string::npos) << clients.output();
  fs::remove_all(data_dir);
}

}  // namespace
}  // namespace tpustack::inferd::testing
