// `inferd serve --backend pjrt` on the fake PJRT plugin (two fake devices): what a client of the HTTP routes sees
// matches the CPU backend; the compile cache survives a restart; the plugin's failures reach the client as errors.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "tests/inferd_server/served_inferd.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

using nlohmann::json;

const std::vector<std::string> kTexts{"hello world", "the quick brown fox jumps over the lazy dog",
                                      "a",           "tpu slices in kubernetes",
                                      "fox",         "dog dog dog"};

std::vector<std::string> models_flags() {
  return {
      "--models-dir", ServedInferd::tiny_models(), "--preload", "f32-mean,cross-encoder", "--threads", "1", "--variant",
      "f32"};
}

std::vector<std::string> pjrt_flags(const std::filesystem::path& cache) {
  std::vector<std::string> flags = models_flags();
  flags.insert(flags.end(),
               {"--backend", "pjrt", "--pjrt-plugin", FAKE_PJRT_PLUGIN, "--compile-cache-dir", cache.string()});
  return flags;
}

json post_json(ServedInferd& server, const std::string& path, const json& body) {
  HttpResult result = server.post(path, body.dump());
  EXPECT_EQ(result.status, 200) << path << " " << result.body;
  return json::parse(result.body, nullptr, false);
}

double cosine(const json& a, const json& b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i].get<double>(), y = b[i].get<double>();
    dot += x * y;
    aa += x * x;
    bb += y * y;
  }
  return dot / std::sqrt(aa * bb);
}

class PjrtServing : public ::testing::Test {
 protected:
  void SetUp() override {
    TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
  }
  void TearDown() override { std::filesystem::remove_all(cache_); }
  const std::filesystem::path cache_ = tpustack::testing::make_temp_dir("pjrt-serving");
};

TEST_F(PjrtServing, EmbeddingsRerankingAndTheOpenAiRouteMatchTheCpuBackend) {
  std::vector<std::string> cpu_flags = models_flags();
  cpu_flags.insert(cpu_flags.end(), {"--backend", "cpu"});
  ServedInferd cpu(cpu_flags);
  ServedInferd pjrt(pjrt_flags(cache_));

  const json request{{"inputs", kTexts}, {"model", "f32-mean"}};
  const json on_cpu = post_json(cpu, "/embed", request), on_pjrt = post_json(pjrt, "/embed", request);
  ASSERT_EQ(on_pjrt.size(), kTexts.size());
  for (size_t i = 0; i < kTexts.size(); ++i) EXPECT_GE(cosine(on_cpu[i], on_pjrt[i]), 0.99999) << kTexts[i];

  const json openai{{"input", kTexts}, {"model", "f32-mean"}};
  const json openai_cpu = post_json(cpu, "/v1/embeddings", openai),
             openai_pjrt = post_json(pjrt, "/v1/embeddings", openai);
  for (size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_GE(cosine(openai_cpu["data"][i]["embedding"], openai_pjrt["data"][i]["embedding"]), 0.99999);
  }

  const json rerank{{"query", "a fox"}, {"texts", kTexts}, {"model", "cross-encoder"}, {"raw_scores", true}};
  const json ranks_cpu = post_json(cpu, "/rerank", rerank), ranks_pjrt = post_json(pjrt, "/rerank", rerank);
  ASSERT_EQ(ranks_pjrt.size(), kTexts.size());
  for (size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_EQ(ranks_cpu[i]["index"], ranks_pjrt[i]["index"]);
    EXPECT_NEAR(ranks_cpu[i]["score"].get<double>(), ranks_pjrt[i]["score"].get<double>(), 1e-4);
  }

  // Both fake devices ran batches, and /info and the metrics say so.
  const json info = json::parse(pjrt.get("/info").body);
  EXPECT_EQ(info["backend"], "pjrt");
  ASSERT_EQ(info["pjrt"]["device_count"], 2);
  for (const json& device : info["pjrt"]["devices"]) EXPECT_GT(device["batches"].get<int>(), 0) << info.dump();
  EXPECT_NE(pjrt.get("/metrics").body.find("inferd_pjrt_device_batches_total{device=\"1\""), std::string::npos);
}

TEST_F(PjrtServing, ARestartFindsItsProgramsInTheCompileCache) {
  const json request{{"inputs", kTexts}, {"model", "f32-mean"}};
  json first;
  {
    // --warmup compiles every bucket of both models at load: 6 batch sizes (1..32) x at least 3 lengths (16..64).
    std::vector<std::string> flags = pjrt_flags(cache_);
    flags.push_back("--warmup");
    ServedInferd pjrt(flags);
    first = post_json(pjrt, "/embed", request);
    const json cache = json::parse(pjrt.get("/info").body)["pjrt"]["compile_cache"];
    EXPECT_GE(cache["misses"].get<int>(), 36) << cache.dump();
    EXPECT_EQ(cache["hits"], 0);
  }
  ServedInferd again(pjrt_flags(cache_));
  EXPECT_EQ(post_json(again, "/embed", request), first);
  const json cache = json::parse(again.get("/info").body)["pjrt"]["compile_cache"];
  EXPECT_GT(cache["hits"].get<int>(), 0) << cache.dump();
  EXPECT_EQ(cache["misses"], 0) << cache.dump();
  EXPECT_NE(again.get("/metrics").body.find("inferd_pjrt_compile_cache_total{result=\"hit\"}"), std::string::npos);
}

// The fake's faults, set in this process's environment, which the served process inherits.
class ScopedVariable {
 public:
  ScopedVariable(const char* name, const std::string& value) : name_(name) { setenv(name, value.c_str(), 1); }
  ~ScopedVariable() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST_F(PjrtServing, APluginThatFailsACompileOrADeviceGivesTheClientAnErrorAndKeepsServing) {
  {
    // The load's warm-up batch compiles: the model does not load, and a request says why.
    ScopedVariable failing("FAKE_PJRT_FAIL_COMPILE", "the compiler ran out of registers");
    ServedInferd pjrt(pjrt_flags(cache_), /*wait_ready=*/false);
    HttpResult result = pjrt.post("/embed", json({{"inputs", {"hello"}}, {"model", "f32-mean"}}).dump());
    EXPECT_GE(result.status, 500);
    EXPECT_NE(result.body.find("the compiler ran out of registers"), std::string::npos) << result.body;
    EXPECT_EQ(pjrt.get("/health").status, 200);
  }
  ScopedVariable failing("FAKE_PJRT_FAIL_EXECUTE_ON_DEVICE", "1");
  ServedInferd pjrt(pjrt_flags(cache_));
  HttpResult result = pjrt.post("/embed", json({{"inputs", kTexts}, {"model", "f32-mean"}}).dump());
  EXPECT_EQ(result.status, 424);  // TEI's status for a failed inference
  EXPECT_NE(result.body.find("device error"), std::string::npos) << result.body;
  // A batch that fits on device 0 alone still answers.
  EXPECT_EQ(pjrt.post("/embed", json({{"inputs", {"hello"}}, {"model", "f32-mean"}}).dump()).status, 200);
}

TEST_F(PjrtServing, WeightsThatDoNotFitTheDeviceFailTheLoadNamingTheTensor) {
  ScopedVariable small("FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES", "4096");
  std::vector<std::string> flags = pjrt_flags(cache_);
  ServedInferd pjrt(flags, /*wait_ready=*/false);
  HttpResult result = pjrt.post("/embed", json({{"inputs", {"hello"}}, {"model", "f32-mean"}}).dump());
  EXPECT_GE(result.status, 500);
  EXPECT_NE(result.body.find("cannot place"), std::string::npos) << result.body;
}

TEST_F(PjrtServing, AnExplicitPjrtBackendWhosePluginDoesNotLoadRefusesToStartSayingWhy) {
  std::vector<std::string> argv{ServedInferd::binary(), "serve",         "--listen",
                                "127.0.0.1:0",          "--grpc-listen", "127.0.0.1:0"};
  for (const std::string& flag : models_flags()) argv.push_back(flag);
  argv.insert(argv.end(), {"--backend", "xla:tpu", "--pjrt-plugin", "/nonexistent/libtpu.so"});
  ChildProcess process(argv);
  EXPECT_EQ(process.wait(std::chrono::seconds(30)), 1);
  EXPECT_TRUE(process.wait_for_output("--backend xla:tpu: ", std::chrono::seconds(1)));
  EXPECT_TRUE(process.wait_for_output("/nonexistent/libtpu.so", std::chrono::seconds(1)));

  // auto falls back to the CPU, saying why in one line.
  ServedInferd fallback({"--backend", "auto", "--pjrt-plugin", "/nonexistent/libtpu.so", "--models-dir",
                         ServedInferd::tiny_models(), "--preload", "f32-mean", "--threads", "1"});
  EXPECT_EQ(json::parse(fallback.get("/info").body)["backend"], "cpu");
  EXPECT_TRUE(fallback.process().wait_for_output("auto: no accelerator in the environment", std::chrono::seconds(1)));
}

}  // namespace
}  // namespace tpustack::inferd::testing
