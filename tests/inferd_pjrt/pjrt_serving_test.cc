// `inferd serve --backend pjrt` on the fake PJRT plugin (two fake devices): what a client of the HTTP routes sees
// matches the CPU backend, for encoders and for generation; the compile cache survives a restart; the plugin's
// failures reach the client as errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <future>

#include "tests/inferd/tiny_decoders.h"
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

// Two tiny decoders (a Llama with tied embeddings, a Qwen2 with biases) served in f32.
std::vector<std::string> decoder_flags(const std::string& backend) {
  return {"--model",          "llama=" + tiny_decoder("llama").string(),
          "--model",          "qwen2=" + tiny_decoder("qwen2").string(),
          "--preload",        "llama,qwen2",
          "--threads",        "1",
          "--variant",        "f32",
          "--backend",        backend,
          "--kv-cache-bytes", "1048576"};  // the fake plugin copies the whole cache at each step
}

TEST_F(PjrtServing, GreedyGenerationOnTheDeviceIsTheCpuBackendsTokenForToken) {
  INFERD_REQUIRE_TINY_DECODERS();
  ServedInferd cpu(decoder_flags("cpu"));
  std::vector<std::string> flags = decoder_flags("pjrt");
  flags.insert(flags.end(), {"--pjrt-plugin", FAKE_PJRT_PLUGIN, "--compile-cache-dir", cache_.string()});
  ServedInferd pjrt(flags);

  // Eight completions at once on each server, so that they share steps: prompts of different lengths prefilled
  // beside sequences that decode.
  const std::vector<std::string> prompts{"Once upon a time",
                                         "The",
                                         "In a hole in the ground there lived",
                                         "tpu",
                                         "A quick brown fox jumps over the lazy dog and keeps running",
                                         "Hello",
                                         "kubernetes schedules pods",
                                         "0123456789"};
  const auto complete_all = [&prompts](ServedInferd& server, const std::string& model) {
    std::vector<std::future<HttpResult>> replies;
    for (const std::string& prompt : prompts) {
      const json body{{"model", model},   {"prompt", prompt},   {"max_tokens", 24},
                      {"temperature", 0}, {"ignore_eos", true}, {"logprobs", 1}};
      replies.push_back(
          std::async(std::launch::async, [&server, body] { return server.post("/v1/completions", body.dump()); }));
    }
    std::vector<json> answers;
    for (auto& reply : replies) {
      const HttpResult result = reply.get();
      EXPECT_EQ(result.status, 200) << result.body;
      answers.push_back(json::parse(result.body)["choices"][0]);
    }
    return answers;
  };
  for (const std::string model : {"llama", "qwen2"}) {
    const std::vector<json> on_cpu = complete_all(cpu, model), on_pjrt = complete_all(pjrt, model);
    for (size_t i = 0; i < prompts.size(); ++i) {
      EXPECT_EQ(on_pjrt[i]["text"], on_cpu[i]["text"]) << model << ": " << prompts[i];
      const json& cpu_logprobs = on_cpu[i]["logprobs"]["token_logprobs"];
      const json& pjrt_logprobs = on_pjrt[i]["logprobs"]["token_logprobs"];
      ASSERT_EQ(pjrt_logprobs.size(), cpu_logprobs.size());
      for (size_t t = 0; t < cpu_logprobs.size(); ++t) {
        EXPECT_NEAR(pjrt_logprobs[t].get<double>(), cpu_logprobs[t].get<double>(), 1e-3) << model << " " << t;
      }
    }
  }

  // A streamed chat reads the same on both.
  const json chat{{"model", "qwen2"},
                  {"messages", {{{"role", "user"}, {"content", "Hello there"}}}},
                  {"max_tokens", 12},
                  {"temperature", 0},
                  {"ignore_eos", true}};
  EXPECT_EQ(post_json(pjrt, "/v1/chat/completions", chat)["choices"][0]["message"],
            post_json(cpu, "/v1/chat/completions", chat)["choices"][0]["message"]);

  // The steps ran on the device: /info names the kernel, the device counted its runs.
  const json info = json::parse(pjrt.get("/info").body);
  for (const json& model : info["models"]) {
    EXPECT_THAT(model["kernel"].get<std::string>(), ::testing::StartsWith("pjrt ")) << model.dump();
  }
  EXPECT_GT(info["pjrt"]["devices"][0]["batches"].get<int>(), 0) << info.dump();
}

TEST_F(PjrtServing, ADecoderWarmedUpOnceStartsAgainFromTheCompileCache) {
  INFERD_REQUIRE_TINY_DECODERS();
  std::vector<std::string> flags = decoder_flags("pjrt");
  flags.insert(flags.end(), {"--pjrt-plugin", FAKE_PJRT_PLUGIN, "--compile-cache-dir", cache_.string()});
  const json body{
      {"model", "llama"}, {"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}, {"ignore_eos", true}};
  json first;
  {
    // Both decoders' decoding buckets (batch 1..64 x contexts 64..256) and lone prompt chunks (16..512 tokens).
    std::vector<std::string> warm = flags;
    warm.push_back("--warmup");
    ServedInferd pjrt(warm);
    first = post_json(pjrt, "/v1/completions", body)["choices"][0];
    const json cache = json::parse(pjrt.get("/info").body)["pjrt"]["compile_cache"];
    EXPECT_GE(cache["misses"].get<int>(), 2 * 7 * 3) << cache.dump();
    EXPECT_EQ(cache["hits"], 0) << cache.dump();
  }
  ServedInferd again(flags);
  EXPECT_EQ(post_json(again, "/v1/completions", body)["choices"][0]["text"], first["text"]);
  const json cache = json::parse(again.get("/info").body)["pjrt"]["compile_cache"];
  EXPECT_GT(cache["hits"].get<int>(), 0) << cache.dump();
  EXPECT_EQ(cache["misses"], 0) << cache.dump();
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

TEST_F(PjrtServing, ADeviceErrorMidGenerationEndsTheStreamWithTheErrorAndTheNextRequestIsServed) {
  INFERD_REQUIRE_TINY_DECODERS();
  // The load's warm-up runs one step; the stream's sixth step fails.
  ScopedVariable failing("FAKE_PJRT_FAIL_EXECUTION", "7");
  std::vector<std::string> flags = decoder_flags("pjrt");
  flags.insert(flags.end(), {"--pjrt-plugin", FAKE_PJRT_PLUGIN, "--compile-cache-dir", "none"});
  ServedInferd pjrt(flags);
  const json body{
      {"model", "llama"}, {"prompt", "Once upon a time"}, {"max_tokens", 12}, {"temperature", 0}, {"ignore_eos", true}};
  json streamed = body;
  streamed["stream"] = true;
  const HttpResult broken = pjrt.post("/v1/completions", streamed.dump());
  EXPECT_EQ(broken.status, 200);  // the stream had begun: the error is its last event but [DONE], as vLLM sends it
  EXPECT_NE(broken.body.find("data: {\"error\":{\"message\":\"PJRT_LoadedExecutable_Execute failed: device error"),
            std::string::npos)
      << broken.body;

  // The cache started afresh: the same request now generates what the CPU does.
  const HttpResult again = pjrt.post("/v1/completions", body.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  ServedInferd cpu(decoder_flags("cpu"));
  EXPECT_EQ(json::parse(again.body)["choices"][0]["text"],
            post_json(cpu, "/v1/completions", body)["choices"][0]["text"]);
}

TEST_F(PjrtServing, ADecoderCacheThatDoesNotFitTheDeviceFailsTheLoadSayingSo) {
  INFERD_REQUIRE_TINY_DECODERS();
  // Room for the tiny decoder's weights (about 400 KB), not for a 64 MiB cache.
  ScopedVariable small("FAKE_PJRT_OUT_OF_MEMORY_AFTER_BYTES", std::to_string(8 << 20));
  std::vector<std::string> flags = decoder_flags("pjrt");
  flags.back() = std::to_string(64 << 20);  // --kv-cache-bytes
  flags.insert(flags.end(), {"--pjrt-plugin", FAKE_PJRT_PLUGIN, "--compile-cache-dir", "none"});
  ServedInferd pjrt(flags, /*wait_ready=*/false);
  HttpResult result = pjrt.post("/v1/completions", json({{"model", "llama"}, {"prompt", "hello"}}).dump());
  EXPECT_GE(result.status, 500);
  EXPECT_NE(result.body.find("cannot place the KV cache"), std::string::npos) << result.body;
  EXPECT_EQ(pjrt.get("/health").status, 200);
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
