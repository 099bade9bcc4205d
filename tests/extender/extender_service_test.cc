#include <stdexcept>

#include <cpprest/http_client.h>
#include <gtest/gtest.h>

#include "extender/model/kube_names.h"
#include "extender/service/extender_http_server.h"
#include "extender/service/extender_service.h"
#include "tests/extender/cluster_fixture.h"

namespace tpustack::extender {
namespace {

using testing::captured_scheduler_body;

struct RecordingBinder : PodBinder {
  Result<void> bind(const std::string& ns, const std::string& pod, const std::string&, const std::string& node,
                    const StringMap& annotations) override {
    if (fail) return Error{"API server unavailable"};
    binds.push_back(ns + "/" + pod + "@" + node);
    last_annotations = annotations;
    return {};
  }
  bool fail = false;
  std::vector<std::string> binds;
  StringMap last_annotations;
};

// The cluster of the captured bodies: two v5e 2x2 hosts, tpu-node-1 and tpu-node-2.
class ExtenderServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto args = nlohmann::json::parse(captured_scheduler_body("filter-ExtenderArgs.json"));
    for (const auto& node : args["Nodes"]["items"]) service.apply_node(node);
    auto pod = nlohmann::json::parse(captured_scheduler_body("filter-ExtenderArgs.json"))["Pod"];
    pod["metadata"]["name"] = "tpu-pod-bind";
    pod["metadata"]["uid"] = "f52c585d-b6d7-48c1-a05e-d58508598368";
    pod["spec"]["schedulerName"] = "tpu-scheduler";  // captured under the default profile; ours binds
    service.apply_pod(pod);
  }

  RecordingBinder binder;
  metrics::MetricsRegistry registry;
  ExtenderService service{binder, registry};
};

TEST_F(ExtenderServiceTest, AnswersAnErrorUntilTheCacheHasSynced) {
  auto reply =
      nlohmann::json::parse(service.filter(captured_scheduler_body("filter-ExtenderArgs-nodeCacheCapable.json")).body);
  EXPECT_EQ(reply["Error"], "tpu-extender has not finished reading Nodes and Pods yet");
  EXPECT_EQ(nlohmann::json::parse(service.bind(captured_scheduler_body("bind-ExtenderBindingArgs.json")).body)["Error"],
            reply["Error"]);
  EXPECT_TRUE(binder.binds.empty());
}

TEST_F(ExtenderServiceTest, FiltersAndPrioritizesCapturedRequestsInBothForms) {
  service.set_synced();
  auto names =
      nlohmann::json::parse(service.filter(captured_scheduler_body("filter-ExtenderArgs-nodeCacheCapable.json")).body);
  EXPECT_EQ(names["NodeNames"], nlohmann::json::array({"tpu-node-1", "tpu-node-2"}));
  EXPECT_EQ(names["Error"], "");
  auto nodes = nlohmann::json::parse(service.filter(captured_scheduler_body("filter-ExtenderArgs.json")).body);
  EXPECT_EQ(nodes["Nodes"]["items"].size(), 2u);

  for (const auto* file : {"prioritize-ExtenderArgs.json", "prioritize-ExtenderArgs-nodeCacheCapable.json"}) {
    auto reply = service.prioritize(captured_scheduler_body(file));
    ASSERT_EQ(reply.status, 200) << reply.body;
    auto scores = nlohmann::json::parse(reply.body);
    ASSERT_EQ(scores.size(), 2u);
    for (const auto& score : scores) {
      EXPECT_GE(score["Score"], 0);
      EXPECT_LE(score["Score"], 10);
    }
  }
}

TEST_F(ExtenderServiceTest, BindRecordsThePlacementThenBindsAndIsIdempotent) {
  service.set_synced();
  auto reply = nlohmann::json::parse(service.bind(captured_scheduler_body("bind-ExtenderBindingArgs.json")).body);
  EXPECT_EQ(reply["Error"], "");
  EXPECT_EQ(binder.binds, (std::vector<std::string>{"default/tpu-pod-bind@tpu-node-1"}));
  EXPECT_EQ(binder.last_annotations.at(std::string(names::kSliceAnnotation)), "tpu-node-1");
  // kube-scheduler retries after a timeout: the same bind succeeds without a second Binding.
  reply = nlohmann::json::parse(service.bind(captured_scheduler_body("bind-ExtenderBindingArgs.json")).body);
  EXPECT_EQ(reply["Error"], "");
  EXPECT_EQ(binder.binds.size(), 1u);
}

TEST_F(ExtenderServiceTest, FailedBindFreesTheHostAgain) {
  service.set_synced();
  binder.fail = true;
  auto reply = nlohmann::json::parse(service.bind(captured_scheduler_body("bind-ExtenderBindingArgs.json")).body);
  EXPECT_EQ(reply["Error"], "binding default/tpu-pod-bind to tpu-node-1 failed: API server unavailable");
  binder.fail = false;
  reply = nlohmann::json::parse(service.bind(captured_scheduler_body("bind-ExtenderBindingArgs.json")).body);
  EXPECT_EQ(reply["Error"], "");
}

TEST_F(ExtenderServiceTest, MalformedBodiesGetAnErrorNotACrash) {
  service.set_synced();
  EXPECT_EQ(nlohmann::json::parse(service.filter("{\"Pod\":").body)["Error"],
            "ExtenderArgs is not valid JSON: syntax error while parsing value - unexpected end of input; expected "
            "'[', '{', or a literal (byte 8)");
  EXPECT_EQ(nlohmann::json::parse(service.bind("[]").body)["Error"], "ExtenderBindingArgs must be a JSON object");
  auto reply = service.prioritize("");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body)["Error"],
            "ExtenderArgs is not valid JSON: syntax error while parsing value - unexpected end of input; expected "
            "'[', '{', or a literal (byte 1)");
  reply = service.preempt("{}");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(nlohmann::json::parse(reply.body),
            nlohmann::json({{"NodeNameToMetaVictims", nullptr}, {"Error", "ExtenderPreemptionArgs has no Pod"}}));
}

TEST_F(ExtenderServiceTest, ServesTheVerbsHealthMetricsAndSlicesOverHttp) {
  VerbsListenerOptions options;
  options.listen = "127.0.0.1:0";
  options.debug_endpoints = true;
  ExtenderHttpServer server(options, service, registry);
  server.start();
  web::http::client::http_client client("http://127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(client.request(web::http::methods::GET, "/readyz").get().status_code(), 503);
  service.set_synced();
  EXPECT_EQ(client.request(web::http::methods::GET, "/readyz").get().status_code(), 200);

  web::http::http_request post(web::http::methods::POST);
  post.set_request_uri("/tpu/filter");  // a urlPrefix with a path works too
  post.set_body(captured_scheduler_body("filter-ExtenderArgs-nodeCacheCapable.json"), "application/json");
  auto response = client.request(post).get();
  ASSERT_EQ(response.status_code(), 200);
  auto body = nlohmann::json::parse(response.extract_utf8string(true).get());
  EXPECT_EQ(body["NodeNames"].size(), 2u);

  auto slices = nlohmann::json::parse(
      client.request(web::http::methods::GET, "/debug/slices").get().extract_utf8string(true).get());
  EXPECT_EQ(slices["slices"].size(), 2u);
  auto metrics = client.request(web::http::methods::GET, "/metrics").get().extract_utf8string(true).get();
  EXPECT_NE(metrics.find("tpu_extender_requests_total{verb=\"filter\",outcome=\"ok\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("tpu_extender_slices{state=\"free\"} 2"), std::string::npos) << metrics;
  server.stop();
}

}  // namespace
}  // namespace tpustack::extender
