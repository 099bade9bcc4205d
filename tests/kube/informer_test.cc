// The informer against the fake API server: sync, handlers, relist on 410, resume after a dropped stream.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "common/kube/informer.h"
#include "tests/fakes/fake_apiserver.h"

namespace tpustack::kube {
namespace {

using fakes::FakeApiServer;
using nlohmann::json;
using namespace std::chrono_literals;

const fakes::GroupResource kFakePods{"", "pods"};

json pod(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"namespace", "default"}}}};
}

// Polls until `done` holds; the deadline only bounds a failing test.
template <typename Predicate>
bool eventually(Predicate done) {
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    ClusterConfig config;
    config.server = server_.url();
    client_ = std::make_unique<KubeClient>(config);
  }

  Informer::Options options() {
    Informer::Options o;
    o.backoff = {.initial = 10ms, .max = 50ms};
    return o;
  }

  void record(Informer& informer) {
    informer.add_handlers({.on_add = [this](const json& o) { log("add " + name(o)); },
                           .on_update = [this](const json&, const json& o) { log("update " + name(o)); },
                           .on_delete = [this](const json& o) { log("delete " + name(o)); }});
  }
  static std::string name(const json& o) { return o["metadata"]["name"]; }
  void log(const std::string& line) {
    std::lock_guard lock(mu_);
    log_.push_back(line);
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return log_;
  }
  bool saw(const std::string& line) {
    auto lines = seen();
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }

  FakeApiServer server_{{.bookmark_interval = 50ms}};
  std::unique_ptr<KubeClient> client_;
  std::mutex mu_;
  std::vector<std::string> log_;
};

TEST_F(InformerTest, SyncsThenFollowsChanges) {
  server_.store().create(kFakePods, "default", pod("a"));
  Informer informer(*client_, resources::kPods, options());
  record(informer);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  EXPECT_TRUE(informer.cache().get("default", "a"));
  server_.store().create(kFakePods, "default", pod("b"));
  server_.store().patch(kFakePods, "default", "a", {{"metadata", {{"labels", {{"x", "1"}}}}}}, fakes::PatchKind::kMerge,
                        false);
  server_.store().remove(kFakePods, "default", "b");
  ASSERT_TRUE(eventually([&] { return saw("delete b"); }));
  EXPECT_EQ(seen(), (std::vector<std::string>{"add a", "add b", "update a", "delete b"}));
  EXPECT_EQ(informer.cache().get("default", "a")->at("metadata").at("labels").at("x"), "1");
  EXPECT_EQ(informer.lists(), 1);
  // Bookmarks move the version forward without any object change.
  ASSERT_TRUE(
      eventually([&] { return informer.resource_version() == std::to_string(server_.store().resource_version()); }));
  informer.stop();
}

TEST_F(InformerTest, RelistsOnGoneAndReportsWhatChangedMeanwhile) {
  server_.store().create(kFakePods, "default", pod("a"));
  server_.store().create(kFakePods, "default", pod("b"));
  Informer informer(*client_, resources::kPods, options());
  record(informer);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  ASSERT_TRUE(eventually([&] { return server_.open_watches() == 1; }));
  // While no watch is open: b goes, c comes, and the history the watch would resume from is gone.
  server_.inject({.method = "GET", .path_prefix = "/api/v1/pods", .status = 503, .times = 1});
  server_.drop_watches();
  server_.store().remove(kFakePods, "default", "b");
  server_.store().create(kFakePods, "default", pod("c"));
  server_.compact();
  ASSERT_TRUE(eventually([&] { return saw("add c") && saw("delete b"); }));
  EXPECT_GE(informer.lists(), 2);
  EXPECT_EQ(informer.cache().size(), 2u);
  EXPECT_TRUE(informer.cache().get("default", "c"));
  informer.stop();
}

TEST_F(InformerTest, ResumesFromLastVersionAfterADroppedStream) {
  Informer informer(*client_, resources::kPods, options());
  record(informer);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  ASSERT_TRUE(eventually([&] { return server_.open_watches() == 1; }));
  server_.drop_watches();
  server_.store().create(kFakePods, "default", pod("during-outage"));
  ASSERT_TRUE(eventually([&] { return saw("add during-outage"); }));
  // The event came from a resumed watch, not from listing again.
  EXPECT_EQ(informer.lists(), 1);
  EXPECT_GE(informer.watches(), 2);
  informer.stop();
}

TEST_F(InformerTest, KeepsRetryingWhileTheServerFailsAndStopsQuickly) {
  server_.inject({.path_prefix = "/api/v1/pods", .status = 500});
  Informer informer(*client_, resources::kPods, options());
  informer.start();
  ASSERT_TRUE(eventually([&] { return server_.request_count("GET", "/api/v1/pods") >= 3; }));
  EXPECT_FALSE(informer.has_synced());
  server_.clear_faults();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  ASSERT_TRUE(eventually([&] { return server_.open_watches() == 1; }));
  auto start = std::chrono::steady_clock::now();
  informer.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(InformerTest, CacheIsReadableWhileItChanges) {
  Informer informer(*client_, resources::kPods, options());
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      for (const auto& object : informer.cache().list()) EXPECT_TRUE(object.contains("metadata"));
    }
  });
  for (int i = 0; i < 50; ++i) server_.store().create(kFakePods, "default", pod("p" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return informer.cache().size() == 50; }));
  done = true;
  reader.join();
  informer.stop();
}

}  // namespace
}  // namespace tpustack::kube
