// The client against the fake API server over real sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/kube/kube_client.h"
#include "tests/fakes/fake_apiserver.h"

namespace tpustack::kube {
namespace {

using fakes::FakeApiServer;
using nlohmann::json;
using namespace std::chrono_literals;

json pod(const std::string& name, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
          {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    ClusterConfig config;
    config.server = server_.url();
    config.token = "secret-token";
    client_ = std::make_unique<KubeClient>(config);
  }

  FakeApiServer server_;
  std::unique_ptr<KubeClient> client_;
};

TEST_F(KubeClientTest, CreateGetReplaceDelete) {
  json created = client_->create(resources::kPods, "default", pod("web"));
  EXPECT_EQ(created["metadata"]["namespace"], "default");
  EXPECT_FALSE(created["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(client_->get(resources::kPods, "default", "web")["metadata"]["uid"], created["metadata"]["uid"]);

  json changed = created;
  changed["metadata"]["labels"]["tier"] = "front";
  json replaced = client_->replace(resources::kPods, "default", "web", changed);
  EXPECT_EQ(replaced["metadata"]["labels"]["tier"], "front");
  // The version in `changed` is stale now: optimistic concurrency refuses it.
  try {
    client_->replace(resources::kPods, "default", "web", changed);
    FAIL() << "a stale replace succeeded";
  } catch (const KubeError& e) {
    EXPECT_EQ(e.code(), 409);
    EXPECT_EQ(e.reason(), "Conflict");
  }

  DeleteOptions options;
  options.propagation_policy = "Foreground";
  client_->remove(resources::kPods, "default", "web", options);
  EXPECT_FALSE(server_.store().find({"", "pods"}, "default", "web"));
  EXPECT_EQ(server_.requests().back().authorization, "Bearer secret-token");
}

TEST_F(KubeClientTest, ErrorsCarryStatusReasonAndMessage) {
  try {
    client_->get(resources::kPods, "default", "missing");
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_TRUE(e.not_found());
    EXPECT_EQ(e.reason(), "NotFound");
    EXPECT_EQ(e.message(), "pods \"missing\" not found");
  }
  client_->create(resources::kPods, "default", pod("dup"));
  try {
    client_->create(resources::kPods, "default", pod("dup"));
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_TRUE(e.already_exists());
  }
  server_.inject({.method = "GET", .path_prefix = "/api/v1/nodes", .status = 500, .times = 1});
  EXPECT_THROW(
      {
        try {
          client_->list(resources::kNodes, "");
        } catch (const KubeError& e) {
          EXPECT_EQ(e.code(), 500);
          EXPECT_EQ(e.message(), "injected fault");
          throw;
        }
      },
      KubeError);
  server_.inject({.path_prefix = "/api/v1/nodes",
                  .status = 502,
                  .body = "<html>bad gateway</html>",
                  .content_type = "text/html",
                  .times = 1});
  try {
    client_->list(resources::kNodes, "");
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_EQ(e.code(), 502);
    EXPECT_NE(e.message().find("bad gateway"), std::string::npos);
  }
  // A 200 that is not JSON is an error too, not a crash.
  server_.inject({.path_prefix = "/api/v1/nodes", .status = 200, .body = "not json", .times = 1});
  EXPECT_THROW(client_->list(resources::kNodes, ""), KubeError);
  EXPECT_NO_THROW(client_->list(resources::kNodes, ""));
}

TEST_F(KubeClientTest, UnreachableServerIsCodeZero) {
  ClusterConfig config;
  config.server = "http://127.0.0.1:1";
  KubeClient client(config);
  try {
    client.get(resources::kNodes, "", "n");
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_EQ(e.code(), 0);
  }
}

TEST_F(KubeClientTest, MergeAndJsonPatchAndStatus) {
  client_->create(resources::kPods, "default", pod("p", {{"app", "a"}}));
  json merged = client_->patch(resources::kPods, "default", "p",
                               {{"metadata", {{"annotations", {{"tpustack.dev/slice", "s1"}}}}}}, PatchType::kMerge);
  EXPECT_EQ(merged["metadata"]["annotations"]["tpustack.dev/slice"], "s1");
  json patched = client_->patch(resources::kPods, "default", "p",
                                json::array({{{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "b"}}}),
                                PatchType::kJson);
  EXPECT_EQ(patched["metadata"]["labels"]["app"], "b");
  // The status subresource changes status only; the main resource leaves status alone.
  json status = client_->patch(resources::kPods, "default", "p", {{"status", {{"phase", "Running"}}}},
                               PatchType::kMerge, "status");
  EXPECT_EQ(status["status"]["phase"], "Running");
  json ignored =
      client_->patch(resources::kPods, "default", "p", {{"status", {{"phase", "Failed"}}}}, PatchType::kMerge);
  EXPECT_EQ(ignored["status"]["phase"], "Running");
  EXPECT_EQ(server_.requests().back().content_type.rfind("application/merge-patch+json", 0), 0u);
  try {
    client_->patch(resources::kPods, "default", "p",
                   json::array({{{"op", "test"}, {"path", "/metadata/labels/app"}, {"value", "zzz"}}}),
                   PatchType::kJson);
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_EQ(e.code(), 422);
  }
}

TEST_F(KubeClientTest, BindingAndEvents) {
  json created = client_->create(resources::kPods, "ml", pod("worker-0"));
  client_->bind_pod("ml", "worker-0", "node-a");
  EXPECT_EQ(client_->get(resources::kPods, "ml", "worker-0")["spec"]["nodeName"], "node-a");
  try {
    client_->bind_pod("ml", "worker-0", "node-b");
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_EQ(e.code(), 409);
  }
  json event = client_->create_event(created, EventType::kWarning, "FailedScheduling", "no free v6e 4x4 slice");
  auto events = client_->list(resources::kEvents, "ml").items;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["involvedObject"]["name"], "worker-0");
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "Pod");
  EXPECT_EQ(events[0]["reason"], "FailedScheduling");
  EXPECT_EQ(events[0]["type"], "Warning");
}

TEST_F(KubeClientTest, SelectorsAndPaging) {
  client_->create(resources::kPods, "a", pod("p1", {{"app", "web"}, {"tier", "front"}}));
  client_->create(resources::kPods, "a", pod("p2", {{"app", "web"}}));
  client_->create(resources::kPods, "b", pod("p3", {{"app", "db"}}));
  client_->bind_pod("a", "p2", "node-1");
  auto names = [](const ObjectList& list) {
    std::vector<std::string> out;
    for (const auto& item : list.items) out.push_back(item["metadata"]["name"]);
    return out;
  };
  EXPECT_EQ(names(client_->list(resources::kPods, "", {.label_selector = "app=web"})),
            (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(names(client_->list(resources::kPods, "", {.label_selector = "app in (db,cache)"})),
            (std::vector<std::string>{"p3"}));
  EXPECT_EQ(names(client_->list(resources::kPods, "", {.label_selector = "app!=web"})),
            (std::vector<std::string>{"p3"}));
  EXPECT_EQ(names(client_->list(resources::kPods, "", {.label_selector = "tier"})), (std::vector<std::string>{"p1"}));
  EXPECT_EQ(names(client_->list(resources::kPods, "a", {.field_selector = "spec.nodeName=node-1"})),
            (std::vector<std::string>{"p2"}));
  EXPECT_EQ(names(client_->list(resources::kPods, "", {.field_selector = "metadata.name=p3"})),
            (std::vector<std::string>{"p3"}));

  ObjectList first = client_->list(resources::kPods, "", {.limit = 2});
  EXPECT_EQ(first.items.size(), 2u);
  EXPECT_FALSE(first.continue_token.empty());
  EXPECT_EQ(first.resource_version, std::to_string(server_.store().resource_version()));
  ObjectList all = client_->list_all(resources::kPods, "", {.limit = 1});
  EXPECT_EQ(names(all), (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_EQ(server_.request_count("GET", "/api/v1/pods?limit=1"), 3u);
}

TEST_F(KubeClientTest, OtherGroupsAndClusterScope) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "tpu-extender"}}},
                {"spec", {{"holderIdentity", "a"}}}};
  client_->create(resources::kLeases, "kube-system", lease);
  EXPECT_EQ(client_->get(resources::kLeases, "kube-system", "tpu-extender")["spec"]["holderIdentity"], "a");
  EXPECT_EQ(server_.requests().back().target,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tpu-extender");
  client_->create(resources::kNodes, "", {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}});
  EXPECT_EQ(client_->list(resources::kNodes, "").items.size(), 1u);
}

TEST_F(KubeClientTest, WatchStreamsEventsAsTheyHappenWithBookmarks) {
  server_.stop();
  FakeApiServer server({.bookmark_interval = 50ms});
  server.start();
  ClusterConfig config;
  config.server = server.url();
  KubeClient client(config);
  client.create(resources::kPods, "default", pod("before"));
  const std::string from = std::to_string(server.store().resource_version());

  std::vector<std::string> seen;
  std::atomic<bool> bookmark{false};
  std::thread writer([&] {
    // Each write happens while the watch is open: events must arrive without the stream ending.
    while (server.open_watches() == 0) std::this_thread::sleep_for(5ms);
    client.create(resources::kPods, "default", pod("p"));
    client.patch(resources::kPods, "default", "p", {{"metadata", {{"labels", {{"x", "y"}}}}}}, PatchType::kMerge);
    client.remove(resources::kPods, "default", "p");
  });
  client.watch(resources::kPods, "default", {.resource_version = from}, [&](const WatchEvent& event) {
    if (event.type == WatchEventType::kBookmark) {
      bookmark = true;
      return seen.size() < 3;
    }
    seen.push_back(std::string(to_string(event.type)) + " " + event.object["metadata"]["name"].get<std::string>());
    return seen.size() < 3 || !bookmark;
  });
  writer.join();
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED p", "MODIFIED p", "DELETED p"}));
  EXPECT_TRUE(bookmark);
}

TEST_F(KubeClientTest, WatchFromTooOldVersionGetsGone) {
  client_->create(resources::kPods, "default", pod("a"));
  server_.compact();
  int error_code = 0;
  client_->watch(resources::kPods, "", {.resource_version = "0"}, [&](const WatchEvent& e) {
    EXPECT_EQ(e.type, WatchEventType::kAdded);  // version 0: current objects first
    return false;
  });
  client_->create(resources::kPods, "default", pod("b"));
  server_.compact();
  client_->watch(resources::kPods, "", {.resource_version = "1"}, [&](const WatchEvent& e) {
    error_code = e.error_code();
    return false;
  });
  EXPECT_EQ(error_code, 410);
  server_.inject({.path_prefix = "/api/v1/pods", .status = 410, .times = 1});
  try {
    client_->watch(resources::kPods, "", {.resource_version = "1"}, [](const WatchEvent&) { return true; });
    FAIL();
  } catch (const KubeError& e) {
    EXPECT_TRUE(e.gone());
  }
}

TEST_F(KubeClientTest, WatchStopsPromptlyOnASilentStream) {
  std::stop_source stop;
  std::thread watcher([&] {
    client_->watch(
        resources::kPods, "", {.resource_version = "0", .allow_bookmarks = false},
        [](const WatchEvent&) { return true; }, stop.get_token());
  });
  while (server_.open_watches() == 0) std::this_thread::sleep_for(5ms);
  stop.request_stop();
  watcher.join();  // hangs here if a blocked read is not woken
  SUCCEED();
}

TEST_F(KubeClientTest, DroppedWatchStreamIsAnError) {
  std::thread dropper([&] {
    while (server_.open_watches() == 0) std::this_thread::sleep_for(5ms);
    server_.drop_watches();
  });
  EXPECT_THROW(client_->watch(resources::kPods, "", {.resource_version = "0", .allow_bookmarks = false},
                              [](const WatchEvent&) { return true; }),
               KubeError);
  dropper.join();
}

TEST_F(KubeClientTest, QpsLimitSpacesRequestsBeyondTheBurst) {
  ClusterConfig config;
  config.server = server_.url();
  KubeClient limited(config, {.qps = 20, .burst = 2});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) limited.list(resources::kNodes, "");
  // 2 at once, then 4 more at 20 per second: at least 200 ms, whatever the machine's speed.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  EXPECT_EQ(server_.request_count("GET", "/api/v1/nodes"), 6u);
}

}  // namespace
}  // namespace tpustack::kube
