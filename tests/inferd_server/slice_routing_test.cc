// Four inferd processes as a four-host slice on loopback (issue 15): the leader spreads embed and rerank work over all
// four, its answers are a lone inferd's, a follower killed under load costs no request, and a restarted one is taken
// back.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <thread>

#include "proto/inferd/v1/inferd.grpc.pb.h"
#include "served_inferd.h"
#include "tests/support/required_tool.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;
constexpr size_t kWorkers = 4;

// Every worker serves the same models; parts of 4 inputs, so a large request spreads too.
std::vector<std::string> model_flags() {
  const std::string models = ServedInferd::tiny_models();
  return {"--model", "embedder=" + models + "/f32-mean", "--model", "reranker=" + models + "/cross-encoder",
          "--preload", "embedder,reranker", "--threads", "1", "--max-client-batch-size", "4",
          // A stalled follower's part goes elsewhere after a second (the leader's; followers ignore it).
          "--slice-call-timeout", "1s"};
}

struct Call {
  std::string path;
  std::string body;
  json expected;  // what a lone inferd answers
};

std::vector<Call> calls() {
  const std::vector<std::string> texts = {"the quick brown fox", "a lazy dog",       "hello world",
                                          "what is a cat",       "cats purr",        "dogs bark at night",
                                          "the weather is fine", "tea or coffee",    "slices of a pod",
                                          "worker zero leads",   "followers follow", "the last text"};
  std::vector<Call> all;
  for (size_t i = 0; i < texts.size(); ++i) {
    json inputs = json::array();
    for (size_t k = 0; k <= i % 3; ++k) inputs.push_back(texts[(i + k) % texts.size()]);
    all.push_back({"/embed", json({{"model", "embedder"}, {"inputs", inputs}}).dump(), {}});
    all.push_back({"/rerank", json({{"model", "reranker"}, {"query", texts[i]}, {"texts", inputs}}).dump(), {}});
  }
  // Three parts of one request (OpenAI's route takes more inputs than --max-client-batch-size and queues them in parts
  // of it), which may land on three workers: the rows still come in input order.
  all.push_back({"/v1/embeddings", json({{"model", "embedder"}, {"input", texts}}).dump(), {}});
  return all;
}

// Rows equal within float rounding (batches of other sizes sum in another order); ranks compared by index.
bool same_answer(const Call& call, const json& answer) {
  json got = answer, expected = call.expected;
  if (call.path == "/v1/embeddings") {
    if (!answer.is_object() || !answer.contains("data")) return false;
    got = json::array();
    expected = json::array();
    for (const auto& item : answer["data"]) got.push_back(item["embedding"]);
    for (const auto& item : call.expected["data"]) expected.push_back(item["embedding"]);
  }
  if (!got.is_array() || got.size() != expected.size()) return false;
  if (call.path == "/rerank") {
    std::map<int, double> want, have;
    for (const auto& rank : call.expected) want[rank["index"]] = rank["score"];
    for (const auto& rank : got) have[rank["index"]] = rank["score"];
    if (want.size() != have.size()) return false;
    for (const auto& [index, score] : want) {
      if (!have.contains(index) || std::abs(have[index] - score) > 1e-5) return false;
    }
    return true;
  }
  for (size_t r = 0; r < got.size(); ++r) {
    if (got[r].size() != expected[r].size()) return false;
    for (size_t c = 0; c < got[r].size(); ++c) {
      if (std::abs(got[r][c].get<double>() - expected[r][c].get<double>()) > 1e-5) return false;
    }
  }
  return true;
}

// Clients posting the calls to the leader in a loop until stopped; every answer checked.
class Load {
 public:
  Load(ServedInferd& leader, const std::vector<Call>& calls, int clients) {
    for (int c = 0; c < clients; ++c) {
      threads_.emplace_back([this, &leader, &calls, c] {
        for (size_t k = static_cast<size_t>(c) * 7; !stop_; ++k) {
          const Call& call = calls[k % calls.size()];
          const HttpResult result = leader.post(call.path, call.body);
          const json got = json::parse(result.body, nullptr, false);
          if (result.status != 200 || !same_answer(call, got)) {
            std::lock_guard lock(mu_);
            failures_.push_back(call.path + " " + call.body + " -> " + std::to_string(result.status) + " " +
                                result.body.substr(0, 300));
          }
          ++answered_;
        }
      });
    }
  }
  ~Load() { stop(); }
  // Waits (at most a minute: a loaded machine is slow, never wrong) until `more` answers came after this call.
  void wait_for(int more) {
    const int target = answered_ + more;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (answered_ < target && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GE(answered_, target) << "the load stalled";
  }
  std::vector<std::string> stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::mutex mu_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

class SliceRouting : public ::testing::Test {
 protected:
  void SetUp() override {
    TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
    calls_ = calls();
    {
      ServedInferd lone(model_flags());
      for (Call& call : calls_) {
        const HttpResult result = lone.post(call.path, call.body);
        ASSERT_EQ(result.status, 200) << result.body;
        call.expected = json::parse(result.body);
      }
    }
    std::string hostnames;
    for (size_t i = 0; i < kWorkers; ++i) {
      http_ports_.push_back(free_port());
      grpc_ports_.push_back(free_port());
      hostnames += (i ? "," : "") + std::string("127.0.0.1:") + std::to_string(grpc_ports_[i]);
    }
    hostnames_ = hostnames;
    workers_.resize(kWorkers);
    for (size_t i = kWorkers; i-- > 0;) start(i);
  }

  void start(size_t i) {
    workers_[i].reset();
    workers_[i] = std::make_unique<ServedInferd>(
        model_flags(), true,
        Placement{http_ports_[i],
                  grpc_ports_[i],
                  {"TPU_WORKER_ID=" + std::to_string(i), "TPU_WORKER_HOSTNAMES=" + hostnames_}});
  }

  ServedInferd& leader() { return *workers_[0]; }
  json slice_info() { return json::parse(leader().get("/info").body)["worker"]["slice"]; }

  // Waits (at most 30 s) until worker `i` shows `state` in the leader's /info.
  bool wait_for_state(size_t i, const std::string& state) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      const json slice = slice_info();
      if (slice.is_array() && slice.size() == kWorkers && slice[i]["state"] == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::vector<Call> calls_;
  std::vector<int> http_ports_, grpc_ports_;
  std::string hostnames_;
  std::vector<std::unique_ptr<ServedInferd>> workers_;
};

TEST_F(SliceRouting, TheLeaderSpreadsWorkOverEveryWorkerAndLosesNothingWhenAFollowerDies) {
  for (size_t i = 1; i < kWorkers; ++i) ASSERT_TRUE(wait_for_state(i, "serving")) << slice_info().dump();
  const json info = json::parse(leader().get("/info").body);
  EXPECT_EQ(info["worker"]["role"], "leader");
  for (size_t i = 0; i < kWorkers; ++i) {
    EXPECT_EQ(info["worker"]["slice"][i]["address"], "127.0.0.1:" + std::to_string(grpc_ports_[i]));
    EXPECT_EQ(info["worker"]["slice"][i]["self"], i == 0);
  }

  // Steady load: every worker gets at least 15 % of the units.
  {
    Load load(leader(), calls_, 4);
    load.wait_for(160);
    EXPECT_EQ(load.stop(), std::vector<std::string>{});
  }
  const json spread = slice_info();
  double total = 0;
  for (const auto& worker : spread) total += worker["batches"].get<double>();
  for (size_t i = 0; i < kWorkers; ++i) {
    EXPECT_GE(spread[i]["batches"].get<double>(), 0.15 * total) << spread.dump();
  }
  // A follower answers directly too, as a lone inferd.
  const HttpResult direct = workers_[1]->post(calls_[0].path, calls_[0].body);
  EXPECT_TRUE(same_answer(calls_[0], json::parse(direct.body, nullptr, false))) << direct.body;

  // A follower killed mid-load: no client request fails, and it is out.
  {
    Load load(leader(), calls_, 4);
    load.wait_for(30);
    workers_[2]->process().signal(SIGKILL);
    load.wait_for(120);
    EXPECT_EQ(load.stop(), std::vector<std::string>{});
  }
  const json out = slice_info()[2];
  EXPECT_EQ(out["state"], "out") << out.dump();
  EXPECT_FALSE(out.value("last_error", "").empty()) << out.dump();
  EXPECT_TRUE(out.contains("next_retry_in_ms")) << out.dump();
  const std::string metrics = leader().get("/metrics").body;
  EXPECT_NE(metrics.find("inferd_slice_worker_up{worker=\"2\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("inferd_slice_batches_total{worker=\"3\"}"), std::string::npos);
  EXPECT_EQ(metrics.find("inferd_slice_retries_total 0\n"), std::string::npos) << "the lost units were re-sent";

  // gRPC Info says the same.
  auto stub =
      ::inferd::v1::Inferd::NewStub(grpc::CreateChannel(leader().grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  ::inferd::v1::InfoResponse grpc_info;
  ASSERT_TRUE(stub->Info(&context, {}, &grpc_info).ok());
  ASSERT_EQ(grpc_info.slice_workers_size(), static_cast<int>(kWorkers));
  EXPECT_EQ(grpc_info.slice_workers(2).state(), "out");
  EXPECT_EQ(grpc_info.slice_workers(1).state(), "serving");
  EXPECT_FALSE(grpc_info.slice_workers(2).last_error().empty());

  // Restarted, it is taken back and given work again.
  start(2);
  ASSERT_TRUE(wait_for_state(2, "serving")) << slice_info().dump();
  const double before = slice_info()[2]["batches"].get<double>();
  {
    Load load(leader(), calls_, 4);
    load.wait_for(60);
    EXPECT_EQ(load.stop(), std::vector<std::string>{});
  }
  EXPECT_GT(slice_info()[2]["batches"].get<double>(), before);
}

TEST_F(SliceRouting, AFollowerThatStallsIsTakenOutAndItsWorkAnsweredElsewhere) {
  for (size_t i = 1; i < kWorkers; ++i) ASSERT_TRUE(wait_for_state(i, "serving")) << slice_info().dump();
  // SIGSTOP: the process keeps its socket, so calls to it hang rather than fail, as on a wedged host.
  {
    Load load(leader(), calls_, 4);
    load.wait_for(30);
    workers_[3]->process().signal(SIGSTOP);
    load.wait_for(120);
    EXPECT_EQ(load.stop(), std::vector<std::string>{});
  }
  const json out = slice_info()[3];
  EXPECT_EQ(out["state"], "out") << out.dump();
  // Woken, it answers the Health probe and is given work again.
  workers_[3]->process().signal(SIGCONT);
  ASSERT_TRUE(wait_for_state(3, "serving")) << slice_info().dump();
  const double before = slice_info()[3]["batches"].get<double>();
  {
    Load load(leader(), calls_, 4);
    load.wait_for(60);
    EXPECT_EQ(load.stop(), std::vector<std::string>{});
  }
  EXPECT_GT(slice_info()[3]["batches"].get<double>(), before);
}

}  // namespace
}  // namespace tpustack::inferd::testing
