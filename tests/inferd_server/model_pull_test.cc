#include "inferd/registry/model_pull.h"

#include <cpprest/http_client.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "inferd/registry/sha256.h"
#include "tests/support/child_process.h"

namespace tpustack::inferd::registry {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data(n, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  return data;
}

// A registry on disk: two models, shared files plus f32 and i8 weights, each file a blob named by its digest.
class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("inferd-registry-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    registry_ = root_ / "registry";
    dest_ = root_ / "models";
    json index = {{"schemaVersion", 1}, {"models", json::array()}};
    for (std::string model : {"mini", "owner/reranker"}) {
      files_[model] = {{"config.json", "{\"model\": \"" + model + "\"}"},
                       {"1_Pooling/config.json", "{\"pooling_mode_mean_tokens\": true}"}};
      weights_[model] = {{"f32", random_bytes(300000, 1)}, {"i8", random_bytes(80000, 2)}};
      json manifest = {{"schemaVersion", 1}, {"name", model}, {"files", blobs(files_[model])}};
      for (const auto& [variant, data] : weights_[model]) {
        manifest["variants"][variant]["files"] = blobs({{"model.safetensors", data}});
      }
      write_file(registry_ / "manifests" / (model + ".json"), manifest.dump());
      index["models"].push_back({{"name", model}, {"variants", {"f32", "i8"}}});
    }
    write_file(registry_ / "index.json", index.dump());
  }
  void TearDown() override { fs::remove_all(root_); }

  json blobs(const std::map<std::string, std::string>& files) {
    json list = json::array();
    for (const auto& [name, data] : files) {
      const std::string digest = sha256_hex(data);
      write_file(registry_ / "blobs" / "sha256" / digest, data);
      list.push_back({{"name", name}, {"sha256", digest}, {"size", data.size()}});
    }
    return list;
  }

  // Starts the fake registry over a real socket; returns its base URL.
  std::string serve(std::vector<std::string> faults = {}) {
    std::vector<std::string> argv{"python3",
                                  std::string(TPUSTACK_SOURCE_DIR) + "/tests/fakes/registry/registry_server.py",
                                  "--root", registry_.string()};
    argv.insert(argv.end(), faults.begin(), faults.end());
    server_ = std::make_unique<tpustack::testing::ChildProcess>(argv);
    auto line = server_->wait_for_line("PORT ", std::chrono::seconds(20));
    if (!line) throw std::runtime_error("the fake registry did not start: " + server_->output());
    base_ = "http://127.0.0.1:" + line->substr(line->find(' ') + 1);
    return base_;
  }

  json requests() {
    web::http::client::http_client client(base_ + "/_requests");
    return json::parse(client.request(web::http::methods::GET).get().extract_utf8string(true).get());
  }

  PullOptions options(std::vector<std::string> models, std::string variant = "f32") {
    // Quick retries: the tests cut transfers on purpose.
    return {std::move(models),
            std::move(variant),
            dest_,
            3,
            {std::chrono::milliseconds(10), std::chrono::milliseconds(50), 2.0, 0.5}};
  }

  void expect_pulled(const std::string& model, const std::string& variant) {
    for (const auto& [name, data] : files_[model]) EXPECT_EQ(read_file(dest_ / model / name), data) << name;
    EXPECT_EQ(read_file(dest_ / model / "model.safetensors"), weights_[model][variant]);
    EXPECT_FALSE(fs::exists(dest_ / model / "model.safetensors.partial"));
  }

  fs::path root_, registry_, dest_;
  std::map<std::string, std::map<std::string, std::string>> files_, weights_;
  std::unique_ptr<tpustack::testing::ChildProcess> server_;
  std::string base_;
};

TEST_F(RegistryTest, PullsVariantsOverHttpAndSkipsWhatIsAlreadyValid) {
  auto source = make_http_source(serve() + "/");
  auto first = pull_from_registry(*source, options({"mini", "owner/reranker"}, "i8"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->downloaded, 6u);
  expect_pulled("mini", "i8");
  expect_pulled("owner/reranker", "i8");

  auto again = pull_from_registry(*source, options({"mini"}, "i8"));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->downloaded, 0u);
  EXPECT_EQ(again->skipped, 3u);

  // A damaged file in place is fetched again.
  write_file(dest_ / "mini" / "config.json", "tampered");
  auto repaired = pull_from_registry(*source, options({"mini"}, "i8"));
  ASSERT_TRUE(repaired);
  EXPECT_EQ(repaired->downloaded, 1u);
  expect_pulled("mini", "i8");
}

TEST_F(RegistryTest, InterruptedTransferResumesWithRange) {
  const std::string blob = sha256_hex(weights_["mini"]["f32"]);
  auto source = make_http_source(serve({"--cut-once", blob}));
  auto pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  expect_pulled("mini", "f32");
  bool resumed = false;
  for (const json& r : requests()) {
    if (r["path"].get<std::string>().ends_with(blob) && r["range"].is_string()) resumed = true;
  }
  EXPECT_TRUE(resumed) << requests().dump();
}

TEST_F(RegistryTest, WrongChecksumIsNeverLeftInTheCache) {
  const std::string blob = sha256_hex(weights_["mini"]["f32"]);
  auto source = make_http_source(serve({"--corrupt", blob}));
  auto pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("sha256"), std::string::npos) << pulled.error().message;
  EXPECT_FALSE(fs::exists(dest_ / "mini" / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dest_ / "mini" / "model.safetensors.partial"));
}

// Whether dest/model is missing or holds exactly one variant of the model, every file whole: what a server
// scanning the directory may see at any moment.
bool absent_or_whole(const fs::path& dir, const std::map<std::string, std::string>& files,
                     const std::map<std::string, std::string>& weights) {
  if (!fs::exists(dir)) return true;
  for (const auto& [name, data] : files) {
    if (read_file(dir / name) != data) return false;
  }
  const std::string loaded = read_file(dir / "model.safetensors");
  return std::any_of(weights.begin(), weights.end(), [&](const auto& variant) { return variant.second == loaded; });
}

TEST_F(RegistryTest, APullKilledAnywhereLeavesTheOldVersionOrTheNewOneWhole) {
  // Before, files landed one by one under the model's name: a kill half-way left config.json without weights,
  // which `serve --models-dir` listed and answered 500 for.
  const std::string inferd = std::string(TPUSTACK_BINARY_DIR) + "/inferd/inferd";
  const std::string url = serve({"--throttle", "2000000"});
  std::mt19937 rng(7);
  for (int kill = 0; kill < 20; ++kill) {
    const std::string variant = kill % 2 == 0 ? "f32" : "i8";
    tpustack::testing::ChildProcess pull({inferd, "pull", "--registry", url, "--models", "mini,owner/reranker",
                                          "--variant", variant, "--dest", dest_.string()});
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 400)(rng)));
    pull.signal(SIGKILL);
    pull.wait(std::chrono::seconds(10));
    if (!fs::exists(dest_)) continue;  // killed before it made anything
    for (std::string model : {"mini", "owner/reranker"}) {
      EXPECT_TRUE(absent_or_whole(dest_ / model, files_[model], weights_[model])) << model << " after kill " << kill;
    }
    for (const auto& entry : fs::directory_iterator(dest_, fs::directory_options::skip_permission_denied)) {
      const std::string name = entry.path().filename().string();
      EXPECT_TRUE(name == "mini" || name == "owner" || name == ".partial") << name;
    }
  }
  tpustack::testing::ChildProcess pull({inferd, "pull", "--registry", url, "--models", "mini,owner/reranker",
                                        "--variant", "f32", "--dest", dest_.string()});
  EXPECT_EQ(pull.wait(std::chrono::seconds(60)), 0) << pull.output();
  expect_pulled("mini", "f32");
  expect_pulled("owner/reranker", "f32");
  EXPECT_FALSE(fs::exists(dest_ / ".partial")) << "staging left behind";
}

TEST_F(RegistryTest, AResumeIsOnlyForTheSameFileAsTheValidatorSays) {
  const std::string blob = sha256_hex(weights_["mini"]["f32"]);
  const fs::path partial = dest_ / ".partial" / "mini" / "model.safetensors.partial";
  auto source = make_http_source(serve());
  // Another file's bytes under an old validator: the server answers the whole file, which replaces them.
  write_file(partial, weights_["owner/reranker"]["i8"]);
  write_file(partial.string() + ".validator", "\"0123\"");
  auto pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  expect_pulled("mini", "f32");
  // Leftover bytes without a validator are not resumed at all: a bare Range request is never sent.
  fs::remove_all(dest_ / "mini");
  write_file(partial, weights_["owner/reranker"]["i8"]);
  pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  expect_pulled("mini", "f32");
  int ranged = 0;
  for (const json& r : requests()) {
    if (!r["path"].get<std::string>().ends_with(blob) || !r["range"].is_string()) continue;
    ++ranged;
    EXPECT_EQ(r["if_range"], "\"0123\"") << "a Range request without its validator: " << r.dump();
  }
  EXPECT_EQ(ranged, 1) << requests().dump();
}

TEST_F(RegistryTest, ASymlinkWhereAFileGoesIsRefusedAndLeftAlone) {
  const fs::path outside = root_ / "outside";
  write_file(outside, "keep me");
  write_file(dest_ / ".partial" / "mini" / "placeholder", "");
  fs::create_symlink(outside, dest_ / ".partial" / "mini" / "model.safetensors.partial");
  auto source = make_http_source(serve());
  auto pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("is a symlink"), std::string::npos) << pulled.error().message;
  EXPECT_EQ(read_file(outside), "keep me");
  EXPECT_FALSE(fs::exists(dest_ / "mini"));
  // A symlinked staging directory is refused the same way.
  fs::remove_all(dest_ / ".partial");
  fs::create_directories(root_ / "elsewhere");
  fs::create_directory_symlink(root_ / "elsewhere", dest_ / ".partial");
  pulled = pull_from_registry(*source, options({"mini"}));
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("is a symlink"), std::string::npos) << pulled.error().message;
  EXPECT_TRUE(fs::is_empty(root_ / "elsewhere"));
}

TEST_F(RegistryTest, AHubRevisionIsPinnedToItsCommit) {
  // refs/main names the commit, as on the hub; each commit is a directory of files.
  const fs::path repo = registry_ / "org" / "tiny";
  auto commit = [&](const std::string& sha, const std::string& vocab) {
    write_file(repo / "resolve" / sha / "config.json", "{}");
    write_file(repo / "resolve" / sha / "model.safetensors", random_bytes(1000, 4));
    write_file(repo / "resolve" / sha / "vocab.txt", vocab);
    write_file(repo / "refs" / "main", sha);
  };
  commit("aaaa", "[PAD]\n");
  auto source = make_http_source(serve());
  auto pulled = pull_from_hub(*source, options({"org/tiny"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(read_file(dest_ / "org/tiny/vocab.txt"), "[PAD]\n");
  EXPECT_EQ(read_file(dest_ / "org/tiny/.inferd-commit"), "aaaa\n");
  for (const json& r : requests()) {
    if (r["method"] == "GET") {
      EXPECT_NE(r["path"].get<std::string>().find("/resolve/aaaa/"), std::string::npos) << r.dump();
    }
  }
  // The same commit again: nothing is fetched.
  auto again = pull_from_hub(*source, options({"org/tiny"}));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->downloaded, 0u);
  // main moves: the whole model is fetched from the new commit and replaces the old one.
  commit("bbbb", "[PAD]\n[UNK]\n");
  auto moved = pull_from_hub(*source, options({"org/tiny"}));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->downloaded, 3u);
  EXPECT_EQ(read_file(dest_ / "org/tiny/vocab.txt"), "[PAD]\n[UNK]\n");
}

TEST_F(RegistryTest, UnknownModelsAndVariantsAreNamed) {
  auto source = make_directory_source(registry_);
  auto unknown = pull_from_registry(*source, options({"nope"}));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("model nope is not in the registry"), std::string::npos);
  auto variant = pull_from_registry(*source, options({"mini"}, "f16"));
  ASSERT_FALSE(variant);
  EXPECT_NE(variant.error().message.find("no variant f16; it has f32, i8"), std::string::npos);
}

TEST_F(RegistryTest, PullsFromALocalDirectory) {
  auto source = make_directory_source(registry_);
  auto pulled = pull_from_registry(*source, options({"owner/reranker"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  expect_pulled("owner/reranker", "f32");
}

TEST_F(RegistryTest, PullsFromAHubStyleEndpoint) {
  const fs::path repo = registry_ / "org" / "tiny" / "resolve" / "v1";
  write_file(repo / "config.json", "{}");
  write_file(repo / "model.safetensors", random_bytes(1000, 3));
  write_file(repo / "vocab.txt", "[PAD]\n");
  auto source = make_http_source(serve());
  auto pulled = pull_from_hub(*source, options({"org/tiny@v1"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(pulled->downloaded, 3u);
  EXPECT_EQ(read_file(dest_ / "org/tiny/vocab.txt"), "[PAD]\n");
  EXPECT_FALSE(fs::exists(dest_ / "org/tiny/tokenizer.json"));

  auto missing = pull_from_hub(*source, options({"org/absent"}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("model org/absent: the hub has no org/absent/resolve/main/config.json"),
            std::string::npos)
      << missing.error().message;
}

TEST_F(RegistryTest, AShardedHubModelIsPulledShardByShard) {
  const fs::path repo = registry_ / "org" / "big" / "resolve" / "main";
  write_file(repo / "config.json", "{}");
  write_file(repo / "model.safetensors.index.json",
             R"({"metadata": {"total_size": 2000}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                 "b": "model-00002-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})");
  write_file(repo / "model-00001-of-00002.safetensors", random_bytes(1000, 5));
  write_file(repo / "model-00002-of-00002.safetensors", random_bytes(1000, 6));
  auto source = make_http_source(serve());
  auto pulled = pull_from_hub(*source, options({"org/big"}));
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(pulled->downloaded, 4u);
  EXPECT_EQ(read_file(dest_ / "org/big/model-00002-of-00002.safetensors"), random_bytes(1000, 6));
  EXPECT_FALSE(fs::exists(dest_ / "org/big/model.safetensors"));

  // A shard the hub does not have, or one named by a path, fails the pull naming it; nothing is published.
  const fs::path gap = registry_ / "org" / "gap" / "resolve" / "main";
  write_file(gap / "config.json", "{}");
  fs::copy_file(repo / "model.safetensors.index.json", gap / "model.safetensors.index.json");
  fs::copy_file(repo / "model-00001-of-00002.safetensors", gap / "model-00001-of-00002.safetensors");
  write_file(registry_ / "org" / "bad" / "resolve" / "main" / "config.json", "{}");
  write_file(registry_ / "org" / "bad" / "resolve" / "main" / "model.safetensors.index.json",
             R"({"weight_map": {"a": "../../etc/passwd"}})");
  auto missing = pull_from_hub(*source, options({"org/gap"}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("the hub has no org/gap/resolve/main/model-00002-of-00002.safetensors"),
            std::string::npos)
      << missing.error().message;
  auto escaping = pull_from_hub(*source, options({"org/bad"}));
  ASSERT_FALSE(escaping);
  EXPECT_NE(escaping.error().message.find("which is not a file name"), std::string::npos) << escaping.error().message;
  EXPECT_FALSE(fs::exists(dest_ / "org/bad"));
  EXPECT_FALSE(fs::exists(dest_ / "org/gap"));
}

TEST_F(RegistryTest, CommandLineWorksAsAnInitContainer) {
  const std::string inferd = std::string(TPUSTACK_BINARY_DIR) + "/inferd/inferd";
  tpustack::testing::ChildProcess pull({inferd, "pull", "--registry", serve(), "--models", "mini,owner/reranker",
                                        "--variant", "i8", "--dest", dest_.string()});
  EXPECT_EQ(pull.wait(std::chrono::seconds(60)), 0);
  expect_pulled("mini", "i8");
  expect_pulled("owner/reranker", "i8");
  tpustack::testing::ChildProcess unknown(
      {inferd, "pull", "--from-dir", registry_.string(), "--models", "nope", "--dest", dest_.string()});
  EXPECT_EQ(unknown.wait(std::chrono::seconds(60)), 1);
}

TEST(RegistryManifest, RejectsPathsThatLeaveTheModelDirectory) {
  EXPECT_TRUE(is_safe_relative_path("1_Pooling/config.json"));
  EXPECT_FALSE(is_safe_relative_path("../etc/passwd"));
  EXPECT_FALSE(is_safe_relative_path("/abs"));
  EXPECT_FALSE(is_safe_relative_path("a//b"));
  EXPECT_FALSE(is_safe_relative_path("a b"));
  auto bad = parse_manifest(R"({"name":"m","files":[{"name":"../x","sha256":"00","size":1}]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not allowed"), std::string::npos);
  EXPECT_FALSE(parse_index("[1,2]"));
}

}  // namespace
}  // namespace tpustack::inferd::registry
