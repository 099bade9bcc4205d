#include "extender/provisioner/gke_provider.h"

#include <algorithm>
#include <functional>
#include <optional>

#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include "extender/provisioning/provider_error.h"
#include "tests/fakes/gke/fake_gke_server.h"
#include "tests/provisioning/fake_cluster.h"
#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;
using fakes::FakeGkeServer;
using testing::PodBuilder;

struct RawReply {
  int status = 0;
  std::string body;
};

const std::string kCluster = "/v1/projects/proj/locations/us-east5/clusters/tpu-cluster";

// POST `body` to `path` of the fake with a token it handed out, as any client could.
RawReply post_to(FakeGkeServer& gke, const std::string& path, const nlohmann::json& body) {
  web::http::client::http_client client(gke.url());
  web::http::http_request token_request(web::http::methods::GET);
  token_request.set_request_uri("/computeMetadata/v1/instance/service-accounts/default/token");
  token_request.headers().add("Metadata-Flavor", "Google");
  auto token = client.request(token_request).get().extract_json().get().at("access_token").as_string();
  web::http::http_request request(web::http::methods::POST);
  request.set_request_uri(path);
  request.headers().add("Authorization", "Bearer " + token);
  request.set_body(body.dump(), "application/json");
  auto response = client.request(request).get();
  return {response.status_code(), response.extract_utf8string(true).get()};
}

// Settings for a provider of the fake's cluster; no node zone configured.
GkeSettings settings_for(const FakeGkeServer& gke, bool from_metadata = false) {
  GkeSettings s;
  if (!from_metadata) {
    s.project = "proj";
    s.location = "us-east5";
    s.cluster = "tpu-cluster";
  }
  s.api_url = s.compute_url = s.metadata_url = gke.url();
  s.poll_interval = 10ms;
  s.start_retry = {10ms, 50ms, 2.0, 0.5};
  s.defaults.service_account = "SA@P.iam.gserviceaccount.com";
  return s;
}

// A provider that started; the test fails saying why when it did not.
std::unique_ptr<GkeProvider> start_provider(GkeSettings settings) {
  auto provider = GkeProvider::start(std::move(settings));
  if (!provider) ADD_FAILURE() << provider.error().message;
  return std::move(provider).value();
}

class GkeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { gke.start(); }

  GkeSettings settings(bool from_metadata = false) {
    GkeSettings s = settings_for(gke, from_metadata);
    s.defaults.node_locations = {"us-east5-b"};
    return s;
  }

  PoolSpec spec(const std::string& jobset = "train", PodBuilder builder = {}) {
    builder.jobset = jobset;
    builder.job = jobset + "-workers-0";
    builder.extra_selector["cloud.google.com/gke-spot"] = "true";
    return build_pool_spec(pod_facts(builder.build()), settings().defaults).value();
  }

  // The body of the last create GKE was sent.
  nlohmann::json last_create_body() {
    nlohmann::json body;
    for (const auto& request : gke.requests()) {
      if (request.method == "POST" && request.path.ends_with("/nodePools")) body = request.body["nodePool"];
    }
    return body;
  }

  FakeGkeServer gke;
};

TEST_F(GkeProviderTest, CreatesWithTheReferenceBodyAndWaitsForTheOperation) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  PoolSpec pool = spec();
  EXPECT_TRUE(provider.create(pool, {}));
  auto pools = gke.pools();
  ASSERT_TRUE(pools.contains(pool.name));
  EXPECT_EQ(pools[pool.name]["status"], "RUNNING");

  auto requests = gke.requests();
  auto post = std::find_if(requests.begin(), requests.end(), [](const auto& r) { return r.method == "POST"; });
  ASSERT_NE(post, requests.end());
  EXPECT_EQ(post->path, "/v1/projects/proj/locations/us-east5/clusters/tpu-cluster/nodePools");
  // What GKE needs to build one 4x4 slice where it was asked to (the fake checks the API's rules).
  const nlohmann::json& sent = post->body["nodePool"];
  EXPECT_EQ(sent["locations"], nlohmann::json::array({"us-east5-b"}));
  EXPECT_EQ(sent["initialNodeCount"], 4);
  EXPECT_EQ(sent["management"]["autoUpgrade"], false);  // no release channel: allowed
  EXPECT_EQ(sent["config"]["oauthScopes"], nlohmann::json::array({"https://www.googleapis.com/auth/cloud-platform"}));
  EXPECT_EQ(post->authorization, "Bearer token-1");
  EXPECT_GE(gke.count("GET", "/operations/operation-"), 1);

  std::vector<PoolState> listed = provider.list().value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].label(kManagedByLabel), "tpu-extender");
  EXPECT_EQ(listed[0].chips, 16);
}

TEST_F(GkeProviderTest, ReadsClusterFromMetadataAndCachesTheToken) {
  const auto started = start_provider(settings(/*from_metadata=*/true));
  GkeProvider& provider = *started;
  EXPECT_EQ(provider.settings().project, "proj");
  EXPECT_EQ(provider.settings().location, "us-east5");
  EXPECT_EQ(provider.settings().cluster, "tpu-cluster");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(provider.list());
  EXPECT_EQ(gke.token_requests(), 1);
  for (const auto& request : gke.requests()) {
    if (request.path.rfind("/computeMetadata/", 0) == 0) {
      EXPECT_EQ(request.metadata_flavor, "Google");
    }
  }
}

TEST(GkeProviderToken, IsFetchedAgainWhenAboutToExpire) {
  FakeGkeServer::Options options;
  options.token_expires_in_s = 30;  // inside the one-minute margin: every call fetches a new one
  FakeGkeServer gke(options);
  gke.start();
  GkeSettings s;
  s.project = "proj";
  s.location = "us-east5";
  s.cluster = "tpu-cluster";
  s.api_url = s.compute_url = s.metadata_url = gke.url();
  const auto started = start_provider(s);
  GkeProvider& provider = *started;
  const int at_start = gke.token_requests();
  EXPECT_TRUE(provider.list());
  EXPECT_TRUE(provider.list());
  EXPECT_EQ(gke.token_requests() - at_start, 2);
}

TEST_F(GkeProviderTest, AFailedOperationIsAFailureWithItsMessage) {
  gke.fail_next_creates(1, 8, "GCE_STOCKOUT: the zone does not have enough resources");
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  const auto created = provider.create(spec(), {});
  ASSERT_FALSE(created) << "create succeeded";
  EXPECT_EQ(failure_kind(created.error()), FailureKind::kCapacity);
  EXPECT_EQ(created.error().peer->reason, "RESOURCE_EXHAUSTED");
  EXPECT_NE(created.error().message.find("GCE_STOCKOUT"), std::string::npos);
  EXPECT_EQ(gke.pools()[spec().name]["status"], "ERROR");
}

// The Error of `result`; fails the test when there is none.
template <class T>
std::optional<Error> error_of(const Result<T>& result) {
  if (result) {
    ADD_FAILURE() << "no error";
    return std::nullopt;
  }
  return result.error();
}

template <class T>
std::optional<FailureKind> failure_of(const Result<T>& result) {
  auto error = error_of(result);
  return error ? std::optional(failure_kind(*error)) : std::nullopt;
}

template <class T>
std::string message_of(const Result<T>& result) {
  auto error = error_of(result);
  return error ? error->message : "";
}

TEST_F(GkeProviderTest, RefusalsAreClassifiedAndRepeatsAreHarmless) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  gke.inject({"POST", "/nodePools", 429, "RESOURCE_EXHAUSTED", "Too many operations: quota 5", 1});
  EXPECT_EQ(failure_of(provider.create(spec(), {})), FailureKind::kTransient);
  gke.inject({"POST", "/nodePools", 400, "FAILED_PRECONDITION", "Cluster is running incompatible operation", 1});
  EXPECT_EQ(failure_of(provider.create(spec(), {})), FailureKind::kTransient);
  gke.inject({"POST", "/nodePools", 403, "PERMISSION_DENIED", "container.clusters.update denied", 1});
  EXPECT_EQ(failure_of(provider.create(spec(), {})), FailureKind::kPermanent);
  EXPECT_TRUE(provider.create(spec(), {}));
  EXPECT_TRUE(provider.create(spec(), {}));  // 409 ALREADY_EXISTS: done already
  EXPECT_EQ(gke.creates_accepted(), 1);
  EXPECT_TRUE(provider.remove(spec().name, {}));
  EXPECT_TRUE(gke.pools().empty());
  EXPECT_TRUE(provider.remove(spec().name, {}));  // 404: gone already
}

TEST_F(GkeProviderTest, SetSizeResizesTheRunningPoolAndWaitsForTheOperation) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  PoolSpec pool = spec();
  gke.set_create_latency(300ms);
  std::thread creator([&] { EXPECT_TRUE(provider.create(pool, {})); });
  ASSERT_TRUE(testing::eventually([&] { return gke.pools().contains(pool.name); }));
  // While GKE is still creating it: refused as GKE does, and retried later.
  EXPECT_EQ(failure_of(provider.resize(pool.name, 6, {})), FailureKind::kTransient);
  creator.join();

  EXPECT_TRUE(provider.resize(pool.name, 6, {}));
  EXPECT_EQ(gke.pool_sizes()[pool.name], 6);
  EXPECT_EQ(gke.pools()[pool.name]["status"], "RUNNING");
  auto requests = gke.requests();
  auto set_size = std::find_if(requests.begin(), requests.end(),
                               [](const auto& r) { return r.path.find(":setSize") != std::string::npos; });
  ASSERT_NE(set_size, requests.end());
  EXPECT_EQ(set_size->method, "POST");
  EXPECT_EQ(set_size->path,
            "/v1/projects/proj/locations/us-east5/clusters/tpu-cluster/nodePools/" + pool.name + ":setSize");
  EXPECT_EQ(set_size->body, (nlohmann::json{{"nodeCount", 6}}));

  EXPECT_EQ(failure_of(provider.resize("tpu-nothing-00000000", 2, {})), FailureKind::kPermanent);
}

TEST_F(GkeProviderTest, TheFakeRefusesASizeThatIsNoCount) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  EXPECT_TRUE(provider.create(spec(), {}));
  for (const char* body : {R"({"nodeCount": -1})", R"({"nodeCount": "3"})", R"({})"}) {
    EXPECT_EQ(post_to(gke, kCluster + "/nodePools/" + spec().name + ":setSize", nlohmann::json::parse(body)).status,
              400)
        << body;
  }
  EXPECT_EQ(gke.pool_sizes()[spec().name], 4);
}

TEST_F(GkeProviderTest, PollingSurvivesTransientErrorsAndStopsWhenAsked) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  gke.set_create_latency(200ms);
  gke.inject({"GET", "/operations/", 503, "UNAVAILABLE", "try again", 2});
  EXPECT_TRUE(provider.create(spec("a"), {}));
  EXPECT_EQ(gke.pools()[spec("a").name]["status"], "RUNNING");

  gke.set_create_latency(60s);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  EXPECT_FALSE(provider.create(spec("b"), stop.get_token()));
  stopper.join();
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

TEST_F(GkeProviderTest, ARegionalClusterGetsOneZonePoolsOfTheRightSize) {
  GkeSettings s = settings();
  s.defaults.node_locations.clear();
  const auto started = start_provider(s);
  GkeProvider& provider = *started;
  EXPECT_TRUE(provider.cluster().regional());
  EXPECT_EQ(provider.fit().default_zone, "us-east5-a");
  EXPECT_TRUE(mentions(provider.fit().warnings, "spans zones us-east5-a, us-east5-b, us-east5-c"));

  PoolSpec slice = spec("a");
  EXPECT_TRUE(provider.create(slice, {}));
  EXPECT_EQ(gke.pools()[slice.name]["locations"], nlohmann::json::array({"us-east5-a"}));
  EXPECT_EQ(gke.pool_sizes()[slice.name], 4);
  PodBuilder in_c;
  in_c.extra_selector = {{kZoneSelector, "us-east5-c"}};
  PoolSpec pinned = spec("c", in_c);
  EXPECT_TRUE(provider.create(pinned, {}));
  EXPECT_EQ(gke.pools()[pinned.name]["locations"], nlohmann::json::array({"us-east5-c"}));
  const std::vector<PoolState> pools = provider.list().value();
  for (const PoolState& pool : pools) EXPECT_EQ(pool.chips, 16) << pool.name;  // one 4x4 each

  // What the old body did: no `locations` on a regional cluster makes a slice per zone, which GKE refuses.
  nlohmann::json body = {{"nodePool", last_create_body()}};
  body["nodePool"]["name"] = "tpu-everywhere";
  body["nodePool"].erase("locations");
  RawReply reply = post_to(gke, kCluster + "/nodePools", body);
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("exactly one zone"), std::string::npos) << reply.body;
}

TEST_F(GkeProviderTest, AZoneOutsideTheClusterIsRefusedAtStart) {
  GkeSettings s = settings();
  s.defaults.node_locations = {"us-west1-a"};
  std::string message = message_of(GkeProvider::start(s));
  EXPECT_NE(message.find("cannot be used: configured node zone us-west1-a is not one of the cluster's zones"),
            std::string::npos)
      << message;
}

TEST(GkeProviderReleaseChannel, IsReportedAtStartAndItsPoolsAreBuiltWithoutAutoUpgradeOff) {
  FakeGkeServer::Options options;
  options.release_channel = "REGULAR";
  FakeGkeServer gke(options);
  gke.start();
  const auto started = start_provider(settings_for(gke));
  GkeProvider& provider = *started;
  EXPECT_EQ(provider.cluster().release_channel, "REGULAR");
  EXPECT_FALSE(provider.fit().auto_upgrade_off);
  EXPECT_TRUE(mentions(provider.fit().warnings, "release channel REGULAR"));

  PodBuilder builder;
  PoolSpec pool = build_pool_spec(pod_facts(builder.build()), {}).value();
  EXPECT_TRUE(provider.create(pool, {}));
  EXPECT_EQ(gke.pools()[pool.name]["status"], "RUNNING");
  EXPECT_FALSE(gke.pools()[pool.name]["management"].contains("autoUpgrade"));

  // What GKE answers the old body.
  nlohmann::json body = {{"nodePool", gke.pools()[pool.name]}};
  body["nodePool"]["name"] = "tpu-pinned";
  body["nodePool"]["management"]["autoUpgrade"] = false;
  RawReply reply = post_to(gke, kCluster + "/nodePools", body);
  EXPECT_EQ(reply.status, 400);
  EXPECT_NE(reply.body.find("Auto_upgrade cannot be false when release_channel REGULAR is set."), std::string::npos)
      << reply.body;
}

TEST_F(GkeProviderTest, ABusyClusterAnswersAsGkeDoesAndThatIsTransient) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  gke.start_cluster_operation("UPGRADE_MASTER", 300ms);
  auto refusal = error_of(provider.create(spec(), {}));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(failure_kind(*refusal), FailureKind::kTransient);
  EXPECT_EQ(refusal->peer->reason, "FAILED_PRECONDITION");
  EXPECT_NE(
      refusal->message.find("is currently upgrading cluster tpu-cluster. Please wait and try again once it is done."),
      std::string::npos)
      << refusal->message;
  ASSERT_TRUE(testing::eventually([&] { return static_cast<bool>(provider.create(spec(), {})); }));

  // A delete beside a create is refused too.
  gke.set_create_latency(300ms);
  std::thread creator([&] { EXPECT_TRUE(provider.create(spec("b"), {})); });
  ASSERT_TRUE(testing::eventually([&] { return gke.pools().contains(spec("b").name); }));
  std::string message = message_of(provider.remove(spec().name, {}));
  EXPECT_NE(message.find("is currently creating a node pool for cluster tpu-cluster"), std::string::npos) << message;
  creator.join();
  EXPECT_TRUE(provider.remove(spec().name, {}));
  EXPECT_FALSE(gke.pools().contains(spec().name));
}

TEST_F(GkeProviderTest, ACancelledOperationIsATransientFailure) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  gke.set_create_latency(60s);
  std::thread canceller([&] {
    ASSERT_TRUE(testing::eventually([&] { return !gke.operation_of(spec().name).empty(); }));
    RawReply reply =
        post_to(gke, "/v1/projects/proj/locations/us-east5/operations/" + gke.operation_of(spec().name) + ":cancel",
                nlohmann::json::object());
    EXPECT_EQ(reply.status, 200) << reply.body;
  });
  auto cancelled = error_of(provider.create(spec(), {}));
  canceller.join();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->peer->reason, "CANCELLED");
  EXPECT_EQ(failure_kind(*cancelled), FailureKind::kTransient);
  EXPECT_FALSE(gke.pools().contains(spec().name));
}

TEST_F(GkeProviderTest, ARefusedTokenIsFetchedAgain) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  EXPECT_TRUE(provider.list());
  const int before = gke.token_requests();
  gke.revoke_tokens();
  EXPECT_TRUE(provider.list());
  EXPECT_EQ(gke.token_requests(), before + 1);
  EXPECT_TRUE(provider.list());
  EXPECT_EQ(gke.token_requests(), before + 1);
}

TEST_F(GkeProviderTest, ALateMetadataServerIsWaitedForAtStart) {
  gke.inject({"GET", "/computeMetadata/v1/project/project-id", 404, "NOT_FOUND", "not yet", 3});
  const auto started = start_provider(settings(/*from_metadata=*/true));
  GkeProvider& provider = *started;
  EXPECT_EQ(provider.settings().project, "proj");
  EXPECT_EQ(gke.count("GET", "/computeMetadata/v1/project/project-id"), 4);

  gke.inject({"GET", "/computeMetadata/v1/project/project-id", 503, "UNAVAILABLE", "no", 1000});
  GkeSettings impatient = settings(/*from_metadata=*/true);
  impatient.start_patience = 200ms;
  std::string message = message_of(GkeProvider::start(impatient));
  EXPECT_NE(message.find("asking the metadata server"), std::string::npos) << message;
}

TEST_F(GkeProviderTest, ATpu7xSliceWithoutItsWorkloadPolicyFailsWithTheCommandThatCreatesIt) {
  const auto started = start_provider(settings());
  GkeProvider& provider = *started;
  PodBuilder ironwood;
  ironwood.accelerator = "tpu7x";
  ironwood.topology = "2x2x2";
  PoolSpec slice = spec("iron", ironwood);
  std::string message = message_of(provider.create(slice, {}));
  EXPECT_NE(
      message.find("gcloud compute resource-policies create workload-policy tpustack-2x2x2 --type=HIGH_THROUGHPUT "
                   "--accelerator-topology=2x2x2 --project=proj --region=us-east5"),
      std::string::npos)
      << message;
  EXPECT_EQ(gke.creates_accepted(), 0);
}

// Bodies GKE refuses, whoever sends them: the fake checks the API's rules, not our client's shape.
TEST_F(GkeProviderTest, TheFakeRefusesPlacementsGkeRefuses) {
  struct Case {
    const char* machine_type;
    const char* topology;
    int node_count;
    const char* refusal;
  };
  for (const Case& c : {Case{"tpu7x-standard-4t", "2x2x2", 2, "COMPACT placement is not supported"},
                        Case{"ct6e-standard-8t", "2x4", 1, "single-host node pool takes no placement policy"},
                        Case{"ct6e-standard-4t", "4x4", 3, "does not make TPU topology 4x4"}}) {
    nlohmann::json body = {{"nodePool",
                            {{"name", "tpu-refused"},
                             {"initialNodeCount", c.node_count},
                             {"locations", {"us-east5-a"}},
                             {"placementPolicy", {{"type", "COMPACT"}, {"tpuTopology", c.topology}}},
                             {"config", {{"machineType", c.machine_type}}}}}};
    RawReply reply = post_to(gke, kCluster + "/nodePools", body);
    EXPECT_EQ(reply.status, 400) << c.machine_type;
    EXPECT_NE(reply.body.find(c.refusal), std::string::npos) << reply.body;
  }
  EXPECT_EQ(gke.creates_accepted(), 0);
}

TEST(GkeProviderWorkloadPolicy, ATpu7xSliceWithItsPolicyIsCreated) {
  FakeGkeServer::Options options;
  options.workload_policies = {{"tpustack-2x2x2", "2x2x2"}};
  FakeGkeServer gke(options);
  gke.start();
  const auto started = start_provider(settings_for(gke));
  GkeProvider& provider = *started;
  PodBuilder ironwood;
  ironwood.accelerator = "tpu7x";
  ironwood.topology = "2x2x2";
  PoolSpec slice = build_pool_spec(pod_facts(ironwood.build()), {}).value();
  EXPECT_TRUE(provider.create(slice, {}));
  auto pool = gke.pools()[slice.name];
  EXPECT_EQ(pool["status"], "RUNNING");
  EXPECT_EQ(pool["placementPolicy"], (nlohmann::json{{"policyName", "tpustack-2x2x2"}}));
  EXPECT_EQ(pool["initialNodeCount"], 2);
}

}  // namespace
}  // namespace tpustack::provisioning
