#include "extender/provisioning/gke_provider.h"

#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include "extender/provisioning/gke_node_pool_json.h"
#include "extender/provisioning/provider_error.h"
#include "tests/fakes/gke/fake_gke_server.h"
#include "tests/provisioning/fake_cluster.h"
#include "tests/provisioning/pod_builder.h"

namespace tpustack::provisioning {
namespace {

using namespace std::chrono_literals;
using fakes::FakeGkeServer;
using testing::PodBuilder;

class GkeProviderTest : public ::testing::Test {
 protected:
  void SetUp() override { gke.start(); }

  GkeSettings settings(bool from_metadata = false) {
    GkeSettings s;
    if (!from_metadata) {
      s.project = "proj";
      s.location = "us-east5";
      s.cluster = "tpu-cluster";
    }
    s.api_url = gke.url();
    s.metadata_url = gke.url();
    s.poll_interval = 10ms;
    s.defaults.service_account = "SA@P.iam.gserviceaccount.com";
    s.defaults.node_locations = {"us-east5-b"};
    return s;
  }

  PoolSpec spec(const std::string& jobset = "train") {
    PodBuilder builder;
    builder.jobset = jobset;
    builder.job = jobset + "-workers-0";
    builder.extra_selector = {{"cloud.google.com/gke-spot", "true"}};
    return build_pool_spec(pod_facts(builder.build()), settings().defaults);
  }

  FakeGkeServer gke;
};

TEST_F(GkeProviderTest, CreatesWithTheReferenceBodyAndWaitsForTheOperation) {
  GkeProvider provider(settings());
  PoolSpec pool = spec();
  provider.create(pool, {});
  auto pools = gke.pools();
  ASSERT_TRUE(pools.contains(pool.name));
  EXPECT_EQ(pools[pool.name]["status"], "RUNNING");

  auto requests = gke.requests();
  auto post = std::find_if(requests.begin(), requests.end(), [](const auto& r) { return r.method == "POST"; });
  ASSERT_NE(post, requests.end());
  EXPECT_EQ(post->path, "/v1/projects/proj/locations/us-east5/clusters/tpu-cluster/nodePools");
  EXPECT_EQ(post->body, node_pool_create_body(pool, settings().defaults));
  EXPECT_EQ(post->authorization, "Bearer token-1");
  EXPECT_GE(gke.count("GET", "/operations/operation-"), 1);

  std::vector<PoolState> listed = provider.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].label(kManagedByLabel), "tpu-extender");
  EXPECT_EQ(listed[0].chips, 16);
}

TEST_F(GkeProviderTest, ReadsClusterFromMetadataAndCachesTheToken) {
  GkeProvider provider(settings(/*from_metadata=*/true));
  EXPECT_EQ(provider.settings().project, "proj");
  EXPECT_EQ(provider.settings().location, "us-east5");
  EXPECT_EQ(provider.settings().cluster, "tpu-cluster");
  for (int i = 0; i < 5; ++i) provider.list();
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
  s.api_url = s.metadata_url = gke.url();
  GkeProvider provider(s);
  provider.list();
  provider.list();
  EXPECT_EQ(gke.token_requests(), 2);
}

TEST_F(GkeProviderTest, AFailedOperationIsAFailureWithItsMessage) {
  gke.fail_next_creates(1, 8, "GCE_STOCKOUT: the zone does not have enough resources");
  GkeProvider provider(settings());
  try {
    provider.create(spec(), {});
    FAIL() << "create succeeded";
  } catch (const ProviderError& e) {
    EXPECT_EQ(e.kind(), FailureKind::kCapacity);
    EXPECT_EQ(e.rpc_status(), "RESOURCE_EXHAUSTED");
    EXPECT_NE(std::string(e.what()).find("GCE_STOCKOUT"), std::string::npos);
  }
  EXPECT_EQ(gke.pools()[spec().name]["status"], "ERROR");
}

// The failure kind of what `call` throws; fails the test when it does not throw.
std::optional<FailureKind> failure_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ProviderError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ProviderError";
  return std::nullopt;
}

TEST_F(GkeProviderTest, RefusalsAreClassifiedAndRepeatsAreHarmless) {
  GkeProvider provider(settings());
  gke.inject({"POST", "/nodePools", 429, "RESOURCE_EXHAUSTED", "Too many operations: quota 5", 1});
  EXPECT_EQ(failure_of([&] { provider.create(spec(), {}); }), FailureKind::kTransient);
  gke.inject({"POST", "/nodePools", 400, "FAILED_PRECONDITION", "Cluster is running incompatible operation", 1});
  EXPECT_EQ(failure_of([&] { provider.create(spec(), {}); }), FailureKind::kTransient);
  gke.inject({"POST", "/nodePools", 403, "PERMISSION_DENIED", "container.clusters.update denied", 1});
  EXPECT_EQ(failure_of([&] { provider.create(spec(), {}); }), FailureKind::kPermanent);
  provider.create(spec(), {});
  provider.create(spec(), {});  // 409 ALREADY_EXISTS: done already
  EXPECT_EQ(gke.creates_accepted(), 1);
  provider.remove(spec().name, {});
  EXPECT_TRUE(gke.pools().empty());
  provider.remove(spec().name, {});  // 404: gone already
}

TEST_F(GkeProviderTest, SetSizeResizesTheRunningPoolAndWaitsForTheOperation) {
  GkeProvider provider(settings());
  PoolSpec pool = spec();
  gke.set_create_latency(300ms);
  std::thread creator([&] { provider.create(pool, {}); });
  ASSERT_TRUE(testing::eventually([&] { return gke.pools().contains(pool.name); }));
  // While GKE is still creating it: refused as GKE does, and retried later.
  EXPECT_EQ(failure_of([&] { provider.resize(pool.name, 6, {}); }), FailureKind::kTransient);
  creator.join();

  provider.resize(pool.name, 6, {});
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

  EXPECT_EQ(failure_of([&] { provider.resize("tpu-nothing-00000000", 2, {}); }), FailureKind::kPermanent);
}

TEST_F(GkeProviderTest, TheFakeRefusesASizeThatIsNoCount) {
  GkeProvider provider(settings());
  provider.create(spec(), {});
  web::http::client::http_client client(gke.url());
  web::http::http_request token_request(web::http::methods::GET);
  token_request.set_request_uri("/computeMetadata/v1/instance/service-accounts/default/token");
  token_request.headers().add("Metadata-Flavor", "Google");
  auto token = client.request(token_request).get().extract_json().get().at("access_token").as_string();
  for (const char* body : {R"({"nodeCount": -1})", R"({"nodeCount": "3"})", R"({})"}) {
    web::http::http_request request(web::http::methods::POST);
    request.set_request_uri("/v1/projects/proj/locations/us-east5/clusters/tpu-cluster/nodePools/" + spec().name +
                            ":setSize");
    request.headers().add("Authorization", "Bearer " + token);
    request.set_body(std::string(body), "application/json");
    EXPECT_EQ(client.request(request).get().status_code(), 400) << body;
  }
  EXPECT_EQ(gke.pool_sizes()[spec().name], 4);
}

TEST_F(GkeProviderTest, PollingSurvivesTransientErrorsAndStopsWhenAsked) {
  GkeProvider provider(settings());
  gke.set_create_latency(200ms);
  gke.inject({"GET", "/operations/", 503, "UNAVAILABLE", "try again", 2});
  provider.create(spec("a"), {});
  EXPECT_EQ(gke.pools()[spec("a").name]["status"], "RUNNING");

  gke.set_create_latency(60s);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  EXPECT_THROW(provider.create(spec("b"), stop.get_token()), ProviderError);
  stopper.join();
}

}  // namespace
}  // namespace tpustack::provisioning
