// The issue's acceptance: a batch of 10,000 embedding lines completes with inferd killed (SIGKILL) and restarted twice
// in the middle, every custom_id answered exactly once in the output file; interactive requests keep being answered
// while it runs.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "batch_client.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int lines = 10000;

TEST(BatchRestart, TenThousandLinesSurviveTwoKillsWithEveryCustomIdAnsweredOnce) {
  TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  const std::string data_dir = tpustack::testing::make_temp_dir("inferd-restart");
  auto flags = ServedInferd::one_tiny_model();
  flags.insert(flags.end(), {"--data-dir", data_dir});

  auto server = std::make_unique<ServedInferd>(flags);
  const json batch = create_batch(*server, upload(*server, "ten-thousand.jsonl", embedding_lines(lines))["id"]);
  const std::string id = batch["id"];
  int64_t answered_before_kill = 0;
  for (int64_t kill_at : {lines / 4, lines / 2}) {
    const json running = poll_batch(*server, id, 60s, [&](const json& b) {
      return b["request_counts"]["completed"].get<int64_t>() >= kill_at || b["status"] == "completed";
    });
    ASSERT_EQ(running["status"], "in_progress") << "the batch must still be running when inferd is killed";
    // An interactive request in the middle of the batch is answered.
    const HttpResult interactive = server->post("/v1/embeddings", R"({"input":"an interactive request"})");
    EXPECT_EQ(interactive.status, 200) << interactive.body;
    server->process().signal(SIGKILL);
    ASSERT_TRUE(server->process().wait(10s));
    server = std::make_unique<ServedInferd>(flags);
    const json resumed = json::parse(server->get("/v1/batches/" + id).body);
    // What was recorded before the kill is kept: the count never goes back.
    EXPECT_GE(resumed["request_counts"]["completed"].get<int64_t>(), answered_before_kill);
    answered_before_kill = resumed["request_counts"]["completed"];
  }
  const json done = poll_batch(*server, id, 120s, [](const json& b) { return b["status"] == "completed"; });
  ASSERT_EQ(done["status"], "completed") << done.dump() << "\n" << server->process().output();
  EXPECT_EQ(done["request_counts"], json({{"total", lines}, {"completed", lines}, {"failed", 0}}));
  EXPECT_TRUE(done["error_file_id"].is_null());

  const HttpResult output = server->get("/v1/files/" + done["output_file_id"].get<std::string>() + "/content");
  ASSERT_EQ(output.status, 200);
  const auto counts = custom_id_counts(output.body);
  EXPECT_EQ(counts.size(), static_cast<size_t>(lines));
  for (int i = 0; i < lines; ++i) {
    const auto found = counts.find("r" + std::to_string(i));
    ASSERT_NE(found, counts.end()) << "r" << i << " has no answer";
    EXPECT_EQ(found->second, 1) << "r" << i << " answered more than once";
  }
  server.reset();
  std::filesystem::remove_all(data_dir);
}

}  // namespace
}  // namespace tpustack::inferd::testing
