// The fake API server's mutating admission stage against a real HTTPS webhook: what a create looks like after
// it, and what happens when the webhook refuses, fails or is not asked.
#include "tests/fakes/mutating_admission.h"

#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "common/encoding/base64.h"
#include "common/http/http_server.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/raw_http_client.h"

namespace tpustack::fakes {
namespace {

using nlohmann::json;

const std::string kTls = std::string(TPUSTACK_SOURCE_DIR) + "/tests/common/data/tls/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class MutatingAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api.start();
    http::HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.what = "test webhook";
    options.tls = http::TlsFiles{kTls + "server.pem", kTls + "server-key.pem", ""};
    webhook = std::make_unique<http::HttpServer>(options, [this](const http::Request& request) {
      ++calls;
      const json review = json::parse(request.body);
      const json& pod = review["request"]["object"];
      json response = {{"uid", review["request"]["uid"]}, {"allowed", answer != "deny"}};
      if (answer == "deny") response["status"] = {{"code", 403}, {"message", "no TPU for you"}};
      if (answer == "label" && !pod["metadata"].contains("labels")) {
        response["patchType"] = "JSONPatch";
        response["patch"] = base64_encode(
            json::array({{{"op", "add"}, {"path", "/metadata/labels"}, {"value", {{"seen", "yes"}}}}}).dump());
      }
      http::Response reply;
      reply.content_type = "application/json";
      reply.body =
          json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"response", response}}.dump();
      return reply;
    });
    webhook->start();
  }

  void register_webhook(const std::string& failure_policy, json namespace_selector = json::object(),
                        std::string url = "", const std::string& ca = "ca.pem") {
    if (url.empty()) url = "https://127.0.0.1:" + std::to_string(webhook->port()) + "/mutate";
    json hook = {
        {"name", "pods.test.dev"},
        {"clientConfig", {{"url", url}, {"caBundle", base64_encode(read(kTls + ca))}}},
        {"rules",
         json::array(
             {{{"operations", {"CREATE"}}, {"apiGroups", {""}}, {"apiVersions", {"v1"}}, {"resources", {"pods"}}}})},
        {"failurePolicy", failure_policy},
        {"sideEffects", "None"},
        {"timeoutSeconds", 2},
        {"admissionReviewVersions", {"v1"}}};
    if (!namespace_selector.empty()) hook["namespaceSelector"] = namespace_selector;
    api.store().create({"admissionregistration.k8s.io", "mutatingwebhookconfigurations"}, "",
                       {{"apiVersion", "admissionregistration.k8s.io/v1"},
                        {"kind", "MutatingWebhookConfiguration"},
                        {"metadata", {{"name", "test"}}},
                        {"webhooks", json::array({hook})}});
  }

  testing::RawResponse create_pod(const std::string& ns) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", "p"}}},
                {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "i"}}})}}}};
    return testing::round_trip(api.port(), "POST", "/api/v1/namespaces/" + ns + "/pods", pod.dump());
  }

  FakeApiServer api;
  std::unique_ptr<http::HttpServer> webhook;
  std::atomic<int> calls{0};
  std::string answer = "label";
};

TEST_F(MutatingAdmissionTest, AMatchingWebhookPatchesTheCreatedPodAndTheSchedulerNameIsDefaultedFirst) {
  register_webhook("Fail");
  auto reply = create_pod("ml");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const json stored = api.store().get({"", "pods"}, "ml", "p");
  EXPECT_EQ(stored["metadata"]["labels"]["seen"], "yes");
  EXPECT_EQ(stored["spec"]["schedulerName"], "default-scheduler");
  EXPECT_EQ(calls, 1);
}

TEST_F(MutatingAdmissionTest, ANamespaceOutsideTheSelectorIsNotSentToTheWebhook) {
  register_webhook("Fail", {{"matchLabels", {{"tpustack.dev/inject", "enabled"}}}});
  api.store().create({"", "namespaces"}, "",
                     {{"metadata", {{"name", "ml"}, {"labels", {{"tpustack.dev/inject", "enabled"}}}}}});
  auto outside = create_pod("other");
  ASSERT_EQ(outside.status, 201) << outside.body;
  EXPECT_FALSE(api.store().get({"", "pods"}, "other", "p")["metadata"].contains("labels"));
  ASSERT_EQ(create_pod("ml").status, 201);
  EXPECT_EQ(api.store().get({"", "pods"}, "ml", "p")["metadata"]["labels"]["seen"], "yes");
  EXPECT_EQ(calls, 1);
}

TEST_F(MutatingAdmissionTest, ADenialRefusesTheCreate) {
  register_webhook("Ignore");
  answer = "deny";
  auto reply = create_pod("ml");
  EXPECT_EQ(reply.status, 403);
  EXPECT_NE(reply.body.find("no TPU for you"), std::string::npos) << reply.body;
  EXPECT_FALSE(api.store().find({"", "pods"}, "ml", "p"));
}

TEST_F(MutatingAdmissionTest, AnUnreachableWebhookIsSkippedUnderIgnoreAndFailsTheCreateUnderFail) {
  register_webhook("Ignore", json::object(), "https://127.0.0.1:1/mutate");
  ASSERT_EQ(create_pod("ml").status, 201);
  EXPECT_FALSE(api.store().get({"", "pods"}, "ml", "p")["metadata"].contains("labels"));

  api.store().remove({"admissionregistration.k8s.io", "mutatingwebhookconfigurations"}, "", "test");
  register_webhook("Fail", json::object(), "https://127.0.0.1:1/mutate");
  auto reply = create_pod("ml2");
  EXPECT_EQ(reply.status, 500);
  EXPECT_NE(reply.body.find("failed calling webhook \\\"pods.test.dev\\\""), std::string::npos) << reply.body;
}

TEST_F(MutatingAdmissionTest, AWebhookWhoseCertificateTheCaBundleDoesNotVouchForFails) {
  register_webhook("Fail", json::object(), "", "stranger.pem");
  EXPECT_EQ(create_pod("ml").status, 500);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace tpustack::fakes
