// The parts of common/kube without I/O (kubeconfig parsing reads files only where the kubeconfig names them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/kube/cluster_config.h"
#include "common/kube/kube_error.h"
#include "common/kube/object_cache.h"
#include "common/kube/resource.h"
#include "common/kube/rotating_token.h"
#include "common/kube/token_bucket.h"
#include "common/kube/watch_event.h"
#include "common/retry/backoff.h"
#include "tests/support/result_matchers.h"

namespace tpustack::kube {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

TEST(ResourcePaths, CoreGroupsNamespacesAndQueries) {
  EXPECT_EQ(collection_path(resources::kPods, "ml"), "/api/v1/namespaces/ml/pods");
  EXPECT_EQ(collection_path(resources::kPods, ""), "/api/v1/pods");
  EXPECT_EQ(collection_path(resources::kNodes, "ignored"), "/api/v1/nodes");
  EXPECT_EQ(object_path(resources::kJobSets, "ml", "train", "status"),
            "/apis/jobset.x-k8s.io/v1alpha2/namespaces/ml/jobsets/train/status");
  EXPECT_EQ(list_query({.label_selector = "app in (a,b)", .limit = 10}),
            "?labelSelector=app%20in%20%28a%2Cb%29&limit=10");
  EXPECT_EQ(watch_query({.resource_version = "42"}), "?watch=1&resourceVersion=42&allowWatchBookmarks=true");
}

TEST(KubeErrorMapping, StatusObjectAndPlainBodies) {
  auto e =
      error_from_response(404, R"({"kind":"Status","reason":"NotFound","message":"pods \"x\" not found","code":404})",
                          "GET /api/v1/namespaces/d/pods/x");
  EXPECT_EQ(peer_status(e), 404);
  EXPECT_EQ(peer_reason(e), "NotFound");
  EXPECT_THAT(e.message, ::testing::HasSubstr("pods \"x\" not found"));
  auto plain = error_from_response(503, "upstream connect error", "GET /api/v1/nodes");
  EXPECT_EQ(peer_status(plain), 503);
  EXPECT_EQ(peer_reason(plain), "ServiceUnavailable");
  EXPECT_THAT(plain.message, ::testing::HasSubstr("GET /api/v1/nodes: upstream connect error"));
  EXPECT_THAT(plain.message, ::testing::HasSubstr("503"));
}

TEST(WatchEvents, ParsesTypesAndErrors) {
  auto added = parse_watch_event(R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}})");
  ASSERT_TRUE(added);
  EXPECT_EQ(added->type, WatchEventType::kAdded);
  EXPECT_EQ(added->resource_version(), "7");
  auto gone = parse_watch_event(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->error_code(), 410);
  EXPECT_FALSE(parse_watch_event("<html>"));
  EXPECT_EQ(parse_watch_event(R"({"type":"RENAMED","object":{}})").error().message,
            R"(unknown watch event type in: {"type":"RENAMED","object":{}})");
}

TEST(WatchEvents, RefusesObjectsWhoseNamesOrVersionsAreNotStrings) {
  // The informer's cache keys objects by these; a number there once escaped as nlohmann's type_error.
  for (const char* line : {R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":7}}})",
                           R"({"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":12}}})",
                           R"({"type":"ADDED","object":{"metadata":null}})",
                           R"({"type":"ERROR","object":{"kind":"Status","code":500,"reason":["InternalError"]}})"}) {
    EXPECT_FALSE(parse_watch_event(line)) << line;
  }
  EXPECT_THAT(parse_watch_event(R"({"type":"ADDED","object":{"metadata":{"name":"a","namespace":7}}})").error().message,
              ::testing::StartsWith("watch event whose metadata.namespace is not a string: {"));
}

TEST(WatchEvents, RefusesObjectsNestedDeeperThanAnyKubernetesObject) {
  // Copying such an object into the informer's cache recursed once per level: a line of 100,000 brackets would
  // have overflowed the stack. 256 levels are accepted, the level past them is not.
  auto nested = [](int depth) {
    return R"({"type":"ADDED","object":{"metadata":{"name":"a"},"spec":)" + std::string(depth - 2, '[') +
           std::string(depth - 2, ']') + "}}";
  };
  EXPECT_TRUE(parse_watch_event(nested(256)));
  EXPECT_FALSE(parse_watch_event(nested(257)));
  auto deep = parse_watch_event(nested(100'000));
  ASSERT_FALSE(deep) << "a watch event nested 100,000 deep was accepted";
  EXPECT_THAT(deep.error().message, ::testing::HasSubstr("nested deeper than 256 levels"));
}

TEST(WatchEvents, LineSplitterJoinsPiecesAcrossReads) {
  LineSplitter lines;
  EXPECT_TRUE(lines.feed("{\"a\"").empty());
  EXPECT_EQ(lines.pending(), 4u);
  EXPECT_EQ(lines.feed(":1}\n\n{\"b\":2}\r\n{\"c\""), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(lines.feed("}\n"), (std::vector<std::string>{"{\"c\"}"}));
  EXPECT_EQ(lines.pending(), 0u);
}

TEST(TokenBucket, BurstThenSpacedByRate) {
  auto t0 = TokenBucket::Clock::time_point{};
  TokenBucket bucket(10, 3, t0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(t0), 0ms);
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(bucket.reserve(t0)), 100ms);
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(bucket.reserve(t0)), 200ms);
  // After a long pause the bucket refills to the burst, not beyond.
  auto later = t0 + 10s;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.reserve(later), 0ms);
  EXPECT_GT(bucket.reserve(later), 0ms);
  TokenBucket unlimited(0, 1, t0);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.reserve(t0), 0ms);
}

TEST(Backoff, GrowsWithJitterUpToTheCapAndResets) {
  retry::Backoff backoff({.initial = 100ms, .max = 1000ms, .factor = 2, .jitter = 0.5}, /*seed=*/1);
  std::vector<std::chrono::milliseconds> delays;
  for (int i = 0; i < 6; ++i) delays.push_back(backoff.next());
  for (int i = 0; i < 4; ++i) {
    const auto base = 100ms * (1 << i);
    EXPECT_GE(delays[i], base);
    EXPECT_LT(delays[i], base * 3 / 2);
  }
  EXPECT_EQ(delays[5], 1000ms);
  backoff.reset();
  EXPECT_LT(backoff.next(), 150ms);
}

TEST(ObjectCache, ReplaceReportsDifferencesAndEventsApply) {
  auto object = [](const std::string& name, const std::string& version) {
    return nlohmann::json{{"metadata", {{"namespace", "d"}, {"name", name}, {"resourceVersion", version}}}};
  };
  ObjectCache cache;
  EXPECT_EQ(cache.replace({object("a", "1"), object("b", "2")}).size(), 2u);
  auto changes = cache.replace({object("a", "3"), object("c", "4")});
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].kind, CacheChange::Kind::kDeleted);
  EXPECT_EQ(changes[1].kind, CacheChange::Kind::kUpdated);
  EXPECT_EQ(changes[2].kind, CacheChange::Kind::kAdded);
  auto deleted = cache.apply({WatchEventType::kDeleted, object("a", "5")});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->old_object["metadata"]["resourceVersion"], "3");
  EXPECT_FALSE(cache.apply({WatchEventType::kDeleted, object("zz", "6")}));
  EXPECT_FALSE(cache.apply({WatchEventType::kBookmark, object("", "7")}));
  EXPECT_EQ(cache.list("d").size(), 1u);
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kubeconfig-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

constexpr const char* kKubeconfig = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: prod
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority-data: LS0tLS1CRUdJTiBDQS0tLS0t
- name: local
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    client-certificate: certs/admin.crt
    client-key-data: S0VZ
- name: robot
  user:
    token: abc.def
contexts:
- name: dev
  context: {cluster: local, user: robot, namespace: ml}
- name: prod
  context: {cluster: prod, user: admin}
)";

TEST_F(KubeconfigTest, CurrentContextWithToken) {
  auto config = parse_kubeconfig(kKubeconfig, "test", dir_.string()).value();
  EXPECT_EQ(config.server, "http://127.0.0.1:8080");
  EXPECT_TRUE(config.insecure_skip_tls_verify);
  EXPECT_EQ(config.token, "abc.def");
  EXPECT_EQ(config.ns, "ml");
}

TEST_F(KubeconfigTest, NamedContextWithCertificatesFromFileAndData) {
  std::filesystem::create_directories(dir_ / "certs");
  write("certs/admin.crt", "CERT PEM");
  auto config = parse_kubeconfig(kKubeconfig, "test", dir_.string(), "prod").value();
  EXPECT_EQ(config.server, "https://10.0.0.1:6443");
  EXPECT_EQ(config.ca_pem, "-----BEGIN CA-----");
  EXPECT_EQ(config.client_cert_pem, "CERT PEM");
  EXPECT_EQ(config.client_key_pem, "KEY");
  EXPECT_EQ(config.ns, "default");
}

TEST_F(KubeconfigTest, ErrorsNameWhatIsMissing) {
  EXPECT_EQ(parse_kubeconfig(kKubeconfig, "cfg.yaml", dir_.string(), "staging").error().message,
            "cfg.yaml: contexts has no entry named 'staging'");
  EXPECT_EQ(parse_kubeconfig("[1, 2]", "x", "").error().message, "x: not a kubeconfig (expected a map)");
  EXPECT_THAT(parse_kubeconfig("a: [", "broken.yaml", "").error().message,
              ::testing::StartsWith("broken.yaml: not YAML"));
  EXPECT_EQ(parse_kubeconfig("current-context: c\ncontexts: {c: 1}\n", "odd.yaml", "").error().message,
            "odd.yaml: contexts has no entry named 'c'");
  EXPECT_FALSE(load_kubeconfig((dir_ / "absent").string()));
}

TEST_F(KubeconfigTest, InClusterServiceAccount) {
  write("token", "tok-1\n");
  write("ca.crt", "CA PEM");
  write("namespace", "tpu-system");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  auto config = in_cluster_config(lookup, dir_.string()).value();
  EXPECT_EQ(config.server, "https://10.96.0.1:443");
  EXPECT_EQ(config.ca_pem, "CA PEM");
  EXPECT_EQ(config.ns, "tpu-system");
  EXPECT_EQ(config.token_file, (dir_ / "token").string());
  env.clear();
  EXPECT_THAT(in_cluster_config(lookup, dir_.string()).error().message, ::testing::HasSubstr("not running in a pod"));
}

TEST_F(KubeconfigTest, RotatingTokenIsReReadWhenTheFileChangesOrAges) {
  write("token", "tok-1");
  RotatingToken token((dir_ / "token").string(), 60s);
  auto t0 = RotatingToken::Clock::now();
  EXPECT_EQ(value_of(token.get(t0)), "tok-1");
  write("token", "tok-2\n");
  // A new modification time is noticed at once.
  std::filesystem::last_write_time(dir_ / "token", std::filesystem::file_time_type::clock::now() + 5s);
  EXPECT_EQ(value_of(token.get(t0 + 1s)), "tok-2");
  // Same modification time (a coarse clock): picked up once the token is a minute old.
  auto mtime = std::filesystem::last_write_time(dir_ / "token");
  write("token", "tok-3");
  std::filesystem::last_write_time(dir_ / "token", mtime);
  EXPECT_EQ(value_of(token.get(t0 + 2s)), "tok-2");
  EXPECT_EQ(value_of(token.get(t0 + 62s)), "tok-3");
  // A rotation caught half-written (empty file) keeps the last good token.
  write("token", "");
  EXPECT_EQ(value_of(token.get(t0 + 200s)), "tok-3");
}

TEST_F(KubeconfigTest, ATokenFileNeverReadIsAnErrorNamingIt) {
  RotatingToken token((dir_ / "missing").string(), 60s);
  EXPECT_THAT(token.get(), FailsWith(HasSubstr("cannot read a bearer token from " + (dir_ / "missing").string())));
}

}  // namespace
}  // namespace tpustack::kube
