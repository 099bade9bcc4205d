// The client against the fake API server over real sockets.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/kube/kube_client.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/result_matchers.h"

namespace tpustack::kube {
namespace {

using fakes::FakeApiServer;
using nlohmann::json;
using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::Succeeds;
using tpustack::testing::value_of;
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
  json created = value_of(client_->create(resources::kPods, "default", pod("web")));
  EXPECT_EQ(created["metadata"]["namespace"], "default");
  EXPECT_FALSE(created["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(value_of(client_->get(resources::kPods, "default", "web"))["metadata"]["uid"], created["metadata"]["uid"]);

  json changed = created;
  changed["metadata"]["labels"]["tier"] = "front";
  json replaced = value_of(client_->replace(resources::kPods, "default", "web", changed));
  EXPECT_EQ(replaced["metadata"]["labels"]["tier"], "front");
  // The version in `changed` is stale now: optimistic concurrency refuses it.
  auto stale = client_->replace(resources::kPods, "default", "web", changed);
  ASSERT_FALSE(stale.ok()) << "a stale replace succeeded";
  EXPECT_EQ(peer_status(stale.error()), 409);
  EXPECT_EQ(peer_reason(stale.error()), "Conflict");

  DeleteOptions options;
  options.propagation_policy = "Foreground";
  ASSERT_THAT(client_->remove(resources::kPods, "default", "web", options), Succeeds());
  EXPECT_FALSE(server_.store().find({"", "pods"}, "default", "web"));
  EXPECT_EQ(server_.requests().back().authorization, "Bearer secret-token");
}

TEST_F(KubeClientTest, ErrorsCarryStatusReasonAndMessage) {
  auto missing = client_->get(resources::kPods, "default", "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(not_found(missing.error()));
  EXPECT_EQ(peer_reason(missing.error()), "NotFound");
  EXPECT_THAT(missing, FailsWith(HasSubstr("pods \"missing\" not found")));
  ASSERT_THAT(client_->create(resources::kPods, "default", pod("dup")), Succeeds());
  auto dup = client_->create(resources::kPods, "default", pod("dup"));
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(already_exists(dup.error()));
  server_.inject({.method = "GET", .path_prefix = "/api/v1/nodes", .status = 500, .times = 1});
  auto faulted = client_->list(resources::kNodes, "");
  ASSERT_FALSE(faulted.ok());
  EXPECT_EQ(peer_status(faulted.error()), 500);
  EXPECT_THAT(faulted, FailsWith(HasSubstr("injected fault")));
  server_.inject({.path_prefix = "/api/v1/nodes",
                  .status = 502,
                  .body = "<html>bad gateway</html>",
                  .content_type = "text/html",
                  .times = 1});
  auto gateway = client_->list(resources::kNodes, "");
  ASSERT_FALSE(gateway.ok());
  EXPECT_EQ(peer_status(gateway.error()), 502);
  EXPECT_THAT(gateway, FailsWith(HasSubstr("bad gateway")));
  // A 200 that is not JSON is an error too, not a crash.
  server_.inject({.path_prefix = "/api/v1/nodes", .status = 200, .body = "not json", .times = 1});
  EXPECT_FALSE(client_->list(resources::kNodes, "").ok());
  EXPECT_THAT(client_->list(resources::kNodes, ""), Succeeds());
}

// The API server answers an error status and keeps the connection, which clients reuse for their retry; a fake
// that closed it after an injected 409 made a reused connection's next write fail ("Failed to write request body").
TEST_F(KubeClientTest, TheFakeKeepsTheConnectionAfterAnInjectedErrorAsTheApiServerDoes) {
  server_.inject({.method = "PUT", .path_prefix = "/api/v1/namespaces/ml/configmaps/", .status = 409, .times = 1});
  tpustack::testing::RawConnection connection(server_.port());
  ASSERT_TRUE(connection.send(tpustack::testing::request_bytes("PUT", "/api/v1/namespaces/ml/configmaps/c", "{}")));
  EXPECT_EQ(connection.read_response().status, 409);
  ASSERT_TRUE(connection.send(tpustack::testing::request_bytes("GET", "/api/v1/namespaces/ml/configmaps/c")));
  EXPECT_EQ(connection.read_response().status, 404);
}

TEST_F(KubeClientTest, UnreachableServerIsCodeZero) {
  ClusterConfig config;
  config.server = "http://127.0.0.1:1";
  KubeClient client(config);
  auto unanswered = client.get(resources::kNodes, "", "n");
  ASSERT_FALSE(unanswered.ok());
  EXPECT_EQ(peer_status(unanswered.error()), 0);
}

TEST_F(KubeClientTest, MergeAndJsonPatchAndStatus) {
  ASSERT_THAT(client_->create(resources::kPods, "default", pod("p", {{"app", "a"}})), Succeeds());
  json merged =
      value_of(client_->patch(resources::kPods, "default", "p",
                              {{"metadata", {{"annotations", {{"tpustack.dev/slice", "s1"}}}}}}, PatchType::kMerge));
  EXPECT_EQ(merged["metadata"]["annotations"]["tpustack.dev/slice"], "s1");
  json patched = value_of(client_->patch(
      resources::kPods, "default", "p",
      json::array({{{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "b"}}}), PatchType::kJson));
  EXPECT_EQ(patched["metadata"]["labels"]["app"], "b");
  // The status subresource changes status only; the main resource leaves status alone.
  json status = value_of(client_->patch(resources::kPods, "default", "p", {{"status", {{"phase", "Running"}}}},
                                        PatchType::kMerge, "status"));
  EXPECT_EQ(status["status"]["phase"], "Running");
  json ignored = value_of(
      client_->patch(resources::kPods, "default", "p", {{"status", {{"phase", "Failed"}}}}, PatchType::kMerge));
  EXPECT_EQ(ignored["status"]["phase"], "Running");
  EXPECT_EQ(server_.requests().back().content_type.rfind("application/merge-patch+json", 0), 0u);
  auto failed_test = client_->patch(resources::kPods, "default", "p",
                                    json::array({{{"op", "test"}, {"path", "/metadata/labels/app"}, {"value", "zzz"}}}),
                                    PatchType::kJson);
  ASSERT_FALSE(failed_test.ok());
  EXPECT_EQ(peer_status(failed_test.error()), 422);
}

TEST_F(KubeClientTest, BindingAndEvents) {
  json created = value_of(client_->create(resources::kPods, "ml", pod("worker-0")));
  ASSERT_THAT(client_->bind_pod("ml", "worker-0", "node-a"), Succeeds());
  EXPECT_EQ(value_of(client_->get(resources::kPods, "ml", "worker-0"))["spec"]["nodeName"], "node-a");
  auto rebind = client_->bind_pod("ml", "worker-0", "node-b");
  ASSERT_FALSE(rebind.ok());
  EXPECT_EQ(peer_status(rebind.error()), 409);
  ASSERT_THAT(client_->create_event(created, EventType::kWarning, "FailedScheduling", "no free v6e 4x4 slice"),
              Succeeds());
  auto events = value_of(client_->list(resources::kEvents, "ml")).items;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["involvedObject"]["name"], "worker-0");
  EXPECT_EQ(events[0]["involvedObject"]["kind"], "Pod");
  EXPECT_EQ(events[0]["reason"], "FailedScheduling");
  EXPECT_EQ(events[0]["type"], "Warning");
}

TEST_F(KubeClientTest, SelectorsAndPaging) {
  ASSERT_THAT(client_->create(resources::kPods, "a", pod("p1", {{"app", "web"}, {"tier", "front"}})), Succeeds());
  ASSERT_THAT(client_->create(resources::kPods, "a", pod("p2", {{"app", "web"}})), Succeeds());
  ASSERT_THAT(client_->create(resources::kPods, "b", pod("p3", {{"app", "db"}})), Succeeds());
  ASSERT_THAT(client_->bind_pod("a", "p2", "node-1"), Succeeds());
  auto names = [](Result<ObjectList> list) {
    std::vector<std::string> out;
    for (const auto& item : value_of(std::move(list)).items) out.push_back(item["metadata"]["name"]);
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

  ObjectList first = value_of(client_->list(resources::kPods, "", {.limit = 2}));
  EXPECT_EQ(first.items.size(), 2u);
  EXPECT_FALSE(first.continue_token.empty());
  EXPECT_EQ(first.resource_version, std::to_string(server_.store().resource_version()));
  EXPECT_EQ(names(client_->list_all(resources::kPods, "", {.limit = 1})), (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_EQ(server_.request_count("GET", "/api/v1/pods?limit=1"), 3u);
}

TEST_F(KubeClientTest, OtherGroupsAndClusterScope) {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "tpu-extender"}}},
                {"spec", {{"holderIdentity", "a"}}}};
  ASSERT_THAT(client_->create(resources::kLeases, "kube-system", lease), Succeeds());
  EXPECT_EQ(value_of(client_->get(resources::kLeases, "kube-system", "tpu-extender"))["spec"]["holderIdentity"], "a");
  EXPECT_EQ(server_.requests().back().target,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tpu-extender");
  ASSERT_THAT(
      client_->create(resources::kNodes, "", {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}}),
      Succeeds());
  EXPECT_EQ(value_of(client_->list(resources::kNodes, "")).items.size(), 1u);
}

TEST_F(KubeClientTest, WatchStreamsEventsAsTheyHappenWithBookmarks) {
  server_.stop();
  FakeApiServer server({.bookmark_interval = 50ms});
  server.start();
  ClusterConfig config;
  config.server = server.url();
  KubeClient client(config);
  ASSERT_THAT(client.create(resources::kPods, "default", pod("before")), Succeeds());
  const std::string from = std::to_string(server.store().resource_version());

  std::vector<std::string> seen;
  std::atomic<bool> bookmark{false};
  std::thread writer([&] {
    // Each write happens while the watch is open: events must arrive without the stream ending.
    while (server.open_watches() == 0) std::this_thread::sleep_for(5ms);
    EXPECT_THAT(client.create(resources::kPods, "default", pod("p")), Succeeds());
    EXPECT_THAT(
        client.patch(resources::kPods, "default", "p", {{"metadata", {{"labels", {{"x", "y"}}}}}}, PatchType::kMerge),
        Succeeds());
    EXPECT_THAT(client.remove(resources::kPods, "default", "p"), Succeeds());
  });
  auto watched = client.watch(resources::kPods, "default", {.resource_version = from}, [&](const WatchEvent& event) {
    if (event.type == WatchEventType::kBookmark) {
      bookmark = true;
      return seen.size() < 3;
    }
    seen.push_back(std::string(to_string(event.type)) + " " + event.object["metadata"]["name"].get<std::string>());
    return seen.size() < 3 || !bookmark;
  });
  writer.join();
  EXPECT_THAT(watched, Succeeds());
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED p", "MODIFIED p", "DELETED p"}));
  EXPECT_TRUE(bookmark);
}

TEST_F(KubeClientTest, WatchFromTooOldVersionGetsGone) {
  ASSERT_THAT(client_->create(resources::kPods, "default", pod("a")), Succeeds());
  server_.compact();
  int error_code = 0;
  EXPECT_THAT(client_->watch(resources::kPods, "", {.resource_version = "0"},
                             [&](const WatchEvent& e) {
                               EXPECT_EQ(e.type, WatchEventType::kAdded);  // version 0: current objects first
                               return false;
                             }),
              Succeeds());
  ASSERT_THAT(client_->create(resources::kPods, "default", pod("b")), Succeeds());
  server_.compact();
  EXPECT_THAT(client_->watch(resources::kPods, "", {.resource_version = "1"},
                             [&](const WatchEvent& e) {
                               error_code = e.error_code();
                               return false;
                             }),
              Succeeds());
  EXPECT_EQ(error_code, 410);
  server_.inject({.path_prefix = "/api/v1/pods", .status = 410, .times = 1});
  auto refused =
      client_->watch(resources::kPods, "", {.resource_version = "1"}, [](const WatchEvent&) { return true; });
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(gone(refused.error()));
}

TEST_F(KubeClientTest, WatchStopsPromptlyOnASilentStream) {
  std::stop_source stop;
  std::thread watcher([&] {
    EXPECT_THAT(client_->watch(
                    resources::kPods, "", {.resource_version = "0", .allow_bookmarks = false},
                    [](const WatchEvent&) { return true; }, stop.get_token()),
                Succeeds());
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
  EXPECT_FALSE(client_
                   ->watch(resources::kPods, "", {.resource_version = "0", .allow_bookmarks = false},
                           [](const WatchEvent&) { return true; })
                   .ok());
  dropper.join();
}

TEST_F(KubeClientTest, QpsLimitSpacesRequestsBeyondTheBurst) {
  ClusterConfig config;
  config.server = server_.url();
  KubeClient limited(config, {.qps = 20, .burst = 2});
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) ASSERT_THAT(limited.list(resources::kNodes, ""), Succeeds());
  // 2 at once, then 4 more at 20 per second: at least 200 ms, whatever the machine's speed.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
  EXPECT_EQ(server_.request_count("GET", "/api/v1/nodes"), 6u);
}

}  // namespace
}  // namespace tpustack::kube
