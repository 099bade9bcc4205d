// Model versions switched under load on the inferd binary: a directory replaced by rename, models.json switching
// several processes that share one models directory, a refused pointer, a model added and removed. No request may
// fail while a version switches.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "inferd/registry/directory_digest.h"
#include "served_inferd.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A copy of the tiny f32-mean model; `second` makes it another version: one weight of it differs, so its
// embeddings do too.
void write_version(const fs::path& to, bool second) {
  fs::create_directories(to.parent_path());
  fs::copy(fs::path(ServedInferd::tiny_models()) / "f32-mean", to, fs::copy_options::recursive);
  if (!second) return;
  const fs::path weights = to / "model.safetensors";
  std::fstream file(weights, std::ios::in | std::ios::out | std::ios::binary);
  uint64_t header_size = 0;
  file.read(reinterpret_cast<char*>(&header_size), sizeof(header_size));
  std::string header(header_size, '\0');
  file.read(header.data(), static_cast<std::streamsize>(header_size));
  const auto offsets = json::parse(header).at("bert.embeddings.LayerNorm.bias").at("data_offsets");
  const auto at = static_cast<std::streamoff>(sizeof(header_size) + header_size + offsets[0].get<uint64_t>());
  float bias = 0;
  file.seekg(at);
  file.read(reinterpret_cast<char*>(&bias), sizeof(bias));
  bias += 0.5f;
  file.seekp(at);
  file.write(reinterpret_cast<const char*>(&bias), sizeof(bias));
}

std::string digest_of(const fs::path& directory) {
  auto digest = registry::DirectoryDigests().digest(directory);
  if (!digest) throw std::runtime_error(digest.error().message);
  return *digest;
}

// As a trainer publishes it: written beside, then renamed over models.json.
void publish_pointer(const fs::path& models_dir, const json& pointers) {
  std::ofstream(models_dir / ".models.json.new") << pointers.dump();
  fs::rename(models_dir / ".models.json.new", models_dir / "models.json");
}

json info_of(ServedInferd& server, const std::string& model) {
  const json info = json::parse(server.get("/info").body);
  for (const json& entry : info.at("models")) {
    if (entry.at("id") == model) return entry;
  }
  return json::object();
}

std::string served_digest(ServedInferd& server, const std::string& model) {
  return info_of(server, model).value("digest", "");
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds within) {
  const auto until = Clock::now() + within;
  while (Clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

std::string embed_body(const std::string& model) { return json({{"inputs", "hello world"}, {"model", model}}).dump(); }

// Clients that embed with model `model` in a loop, spread over `servers`, until destroyed; every answer but a 200
// is a failure.
class Load {
 public:
  Load(std::vector<ServedInferd*> servers, size_t clients, std::string model) {
    for (size_t i = 0; i < clients; ++i) {
      threads_.emplace_back([this, server = servers[i % servers.size()], body = embed_body(model)] {
        while (!stop_) {
          try {
            HttpResult result = server->post("/embed", body);
            if (result.status == 200) {
              ++ok_;
            } else {
              record_failure(std::to_string(result.status) + " " + result.body);
            }
          } catch (const std::exception& e) {
            record_failure(e.what());
          }
        }
      });
    }
  }
  ~Load() { finish(); }
  void finish() {
    stop_ = true;
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  size_t ok() const { return ok_; }
  size_t failed() const { return failed_; }
  std::string first_failure() {
    std::lock_guard lock(mu_);
    return first_failure_;
  }

 private:
  void record_failure(const std::string& what) {
    ++failed_;
    std::lock_guard lock(mu_);
    if (first_failure_.empty()) first_failure_ = what;
  }

  std::atomic<bool> stop_{false};
  std::atomic<size_t> ok_{0};
  std::atomic<size_t> failed_{0};
  std::mutex mu_;
  std::string first_failure_;
  std::vector<std::thread> threads_;
};

class ModelSwitch : public ::testing::Test {
 protected:
  void SetUp() override {
    TPUSTACK_REQUIRE_SETUP(!ServedInferd::tiny_models().empty(), "python3-numpy (it writes the tiny models)");
    models_ = tpustack::testing::make_temp_dir("inferd-switch");
  }
  void TearDown() override {
    if (!models_.empty()) fs::remove_all(models_);
  }
  static std::vector<std::string> serve_flags(const fs::path& models_dir) {
    return {"--models-dir", models_dir.string(), "--preload", "m", "--threads", "1"};
  }
  fs::path models_;
};

TEST_F(ModelSwitch, ADirectoryReplacedByRenameIsServedWithoutAFailedRequest) {
  write_version(models_ / "m", false);
  write_version(models_ / ".partial" / "m", true);  // as `inferd pull` assembles the next version
  const std::string first = digest_of(models_ / "m");
  const std::string second = digest_of(models_ / ".partial" / "m");
  ASSERT_NE(first, second);
  ServedInferd server(serve_flags(models_));
  EXPECT_EQ(served_digest(server, "m"), first);
  const std::string before = server.post("/embed", embed_body("m")).body;

  Load load({&server}, 4, "m");
  ASSERT_TRUE(eventually([&] { return load.ok() > 20; }, std::chrono::seconds(10)));
  ASSERT_EQ(
      ::renameat2(AT_FDCWD, (models_ / ".partial" / "m").c_str(), AT_FDCWD, (models_ / "m").c_str(), RENAME_EXCHANGE),
      0)
      << std::strerror(errno);
  fs::remove_all(models_ / ".partial");  // the old version's files go while it may still be answering
  EXPECT_TRUE(eventually([&] { return served_digest(server, "m") == second; }, std::chrono::seconds(5)))
      << server.process().output();
  const size_t at_switch = load.ok();
  ASSERT_TRUE(eventually([&] { return load.ok() > at_switch + 20; }, std::chrono::seconds(10)));
  load.finish();
  EXPECT_EQ(load.failed(), 0u) << load.first_failure();

  EXPECT_NE(server.post("/embed", embed_body("m")).body, before);  // the new weights answer
  const std::string metrics = server.get("/metrics").body;
  EXPECT_NE(metrics.find("inferd_model_version_info{model=\"m\",digest=\"" + second + "\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("inferd_model_switches_total{model=\"m\"} 1"), std::string::npos) << metrics;
  EXPECT_TRUE(server.process().wait_for_output("drained and unloaded", std::chrono::seconds(5)));
}

// The issue's acceptance: four processes on one models directory under 16 clients; models.json switches the
// version; each serves the new digest within 5 s and no request fails.
TEST_F(ModelSwitch, ThePointerFileSwitchesFourProcessesUnderLoad) {
  write_version(models_ / ".versions" / "1", false);
  write_version(models_ / ".versions" / "2", true);
  const std::string first = digest_of(models_ / ".versions" / "1");
  const std::string second = digest_of(models_ / ".versions" / "2");
  publish_pointer(models_, {{"m", {{"path", ".versions/1"}, {"digest", first}}}});
  std::vector<std::unique_ptr<ServedInferd>> servers;
  std::vector<ServedInferd*> targets;
  for (int i = 0; i < 4; ++i) {
    servers.push_back(std::make_unique<ServedInferd>(serve_flags(models_)));
    targets.push_back(servers.back().get());
    ASSERT_EQ(served_digest(*targets.back(), "m"), first);
  }

  Load load(targets, 16, "m");
  ASSERT_TRUE(eventually([&] { return load.ok() > 50; }, std::chrono::seconds(10)));
  const auto switched_at = Clock::now();
  publish_pointer(models_, {{"m", {{"path", ".versions/2"}, {"digest", second}}}});
  for (auto& server : servers) {
    EXPECT_TRUE(eventually(
        [&] { return served_digest(*server, "m") == second; },
        std::chrono::duration_cast<std::chrono::milliseconds>(switched_at + std::chrono::seconds(5) - Clock::now())))
        << server->process().output();
  }
  RecordProperty(
      "switch_ms",
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - switched_at).count()));
  const size_t at_switch = load.ok();
  ASSERT_TRUE(eventually([&] { return load.ok() > at_switch + 50; }, std::chrono::seconds(10)));
  load.finish();
  EXPECT_EQ(load.failed(), 0u) << load.first_failure();
  RecordProperty("requests", static_cast<int>(load.ok()));
}

TEST_F(ModelSwitch, APointerThatDoesNotMatchItsDigestOrDoesNotParseKeepsTheServedVersion) {
  write_version(models_ / ".versions" / "1", false);
  write_version(models_ / ".versions" / "2", true);
  const std::string first = digest_of(models_ / ".versions" / "1");
  const std::string second = digest_of(models_ / ".versions" / "2");
  publish_pointer(models_, {{"m", {{"path", ".versions/1"}, {"digest", first}}}});
  ServedInferd server(serve_flags(models_));

  // Written in place, and cut short: the last good models.json stands.
  std::ofstream(models_ / "models.json") << R"({"m": {"path": ".versions/2", "dig)";
  EXPECT_TRUE(server.process().wait_for_output("keeping the models.json read before", std::chrono::seconds(5)));
  EXPECT_EQ(served_digest(server, "m"), first);

  publish_pointer(models_, {{"m", {{"path", ".versions/2"}, {"digest", first}}}});  // the wrong digest
  EXPECT_TRUE(eventually([&] { return info_of(server, "m").contains("refused"); }, std::chrono::seconds(5)));
  EXPECT_NE(info_of(server, "m")["refused"].get<std::string>().find("holds " + second), std::string::npos);
  EXPECT_EQ(served_digest(server, "m"), first);
  EXPECT_EQ(server.post("/embed", embed_body("m")).status, 200);

  // Fixed in place (closed after writing): it switches.
  std::ofstream(models_ / "models.json") << json({{"m", {{"path", ".versions/2"}, {"digest", second}}}}).dump();
  EXPECT_TRUE(eventually([&] { return served_digest(server, "m") == second; }, std::chrono::seconds(5)));
  EXPECT_FALSE(info_of(server, "m").contains("refused"));
}

TEST_F(ModelSwitch, AModelAddedIsServedAndOneRemovedIsNotFound) {
  write_version(models_ / "m", false);
  write_version(models_ / "gone", false);
  ServedInferd server(serve_flags(models_));
  ASSERT_EQ(server.post("/embed", embed_body("gone")).status, 200);

  write_version(models_ / ".partial" / "added", true);
  fs::rename(models_ / ".partial" / "added", models_ / "added");
  fs::rename(models_ / "gone", models_ / ".partial" / "gone");
  EXPECT_TRUE(
      eventually([&] { return server.post("/embed", embed_body("gone")).status == 404; }, std::chrono::seconds(5)));
  EXPECT_EQ(server.post("/embed", embed_body("added")).status, 200);
  EXPECT_EQ(server.post("/embed", embed_body("m")).status, 200);
  EXPECT_EQ(served_digest(server, "added"), digest_of(models_ / "added"));
}

}  // namespace
}  // namespace tpustack::inferd::testing
