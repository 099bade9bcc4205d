// tpu-extender's admission webhook over real TLS: POST /mutate as kube-apiserver calls it, a certificate file
// replaced on disk (cert-manager's rotation), and the self-kept CA in a Secret on a fake API server shared by two
// replicas, with the MutatingWebhookConfiguration's caBundle patched.
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "common/encoding/base64.h"
#include "common/kube/kube_client.h"
#include "extender/admission/admission_webhook.h"
#include "extender/admission/webhook_ca_secret.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/support/raw_http_client.h"
#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::admission {
namespace {

using nlohmann::json;
using tpustack::testing::value_of;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

const fakes::GroupResource kFakeSecrets{"", "secrets"};
const fakes::GroupResource kFakeConfigurations{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"};

kube::ClusterConfig cluster_at(const std::string& url) {
  kube::ClusterConfig cluster;
  cluster.server = url;
  return cluster;
}

struct Reply {
  int status = 0;  // 0: the handshake or the exchange failed
  std::string body;
};

// One request over TLS to 127.0.0.1:`port`, trusting only `ca_pem`, with `server_name` as SNI and checked
// against the certificate's names (as kube-apiserver checks the Service's DNS name).
Reply https(int port, const std::string& ca_pem, const std::string& method, const std::string& path,
            const std::string& body = "", const std::string& server_name = "localhost") {
  try {
    asio::io_context io;
    ssl::context context(ssl::context::tls_client);
    context.add_certificate_authority(asio::buffer(ca_pem));
    context.set_verify_mode(ssl::verify_peer);
    ssl::stream<asio::ip::tcp::socket> stream(io, context);
    SSL_set_tlsext_host_name(stream.native_handle(), server_name.c_str());
    stream.set_verify_callback(ssl::host_name_verification(server_name));
    stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    stream.handshake(ssl::stream_base::client);
    const std::string request = testing::request_bytes(method, path, body, "Connection: close\r\n");
    asio::write(stream, asio::buffer(request));
    std::string raw;
    boost::system::error_code ec;
    char buffer[4096];
    for (;;) {
      const std::size_t got = stream.read_some(asio::buffer(buffer), ec);
      raw.append(buffer, got);
      if (ec) break;
    }
    if (raw.rfind("HTTP/1.1 ", 0) != 0) return {};
    const auto end = raw.find("\r\n\r\n");
    return {std::stoi(raw.substr(9, 3)), end == std::string::npos ? "" : raw.substr(end + 4)};
  } catch (const std::exception&) {
    return {};
  }
}

// A CA and a serving certificate for "localhost", as cert-manager would write them.
WebhookCertificates localhost_certificates() {
  auto authority =
      value_of(issue_certificate({"test webhook CA", {}, std::chrono::hours(24), true}, nullptr, Clock::now()));
  auto serving = value_of(
      issue_certificate({"localhost", {"localhost"}, std::chrono::hours(24), false}, &authority, Clock::now()));
  return {authority, serving};
}

void write_file(const std::string& path, const std::string& text) {
  // Written aside and renamed, as the kubelet swaps a Secret volume's files: never seen half-written.
  std::ofstream(path + ".new") << text;
  std::filesystem::rename(path + ".new", path);
}

const json kJobSetPodReview = {
    {"apiVersion", "admission.k8s.io/v1"},
    {"kind", "AdmissionReview"},
    {"request",
     {{"uid", "u-1"},
      {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
      {"namespace", "ml"},
      {"operation", "CREATE"},
      {"object",
       {{"metadata",
         {{"generateName", "train-slice-0-0-"},
          {"labels",
           {{"jobset.sigs.k8s.io/jobset-name", "train"},
            {"jobset.sigs.k8s.io/replicatedjob-name", "slice"},
            {"jobset.sigs.k8s.io/replicatedjob-replicas", "1"},
            {"jobset.sigs.k8s.io/job-index", "0"},
            {"jobset.sigs.k8s.io/job-key", "k"},
            {"batch.kubernetes.io/job-name", "train-slice-0"},
            {"batch.kubernetes.io/job-completion-index", "0"}}}}},
        {"spec",
         {{"schedulerName", "default-scheduler"},
          {"subdomain", "train"},
          {"nodeSelector",
           {{"cloud.google.com/gke-tpu-accelerator", "tpu-v6e-slice"}, {"cloud.google.com/gke-tpu-topology", "4x4"}}},
          {"containers",
           json::array({{{"name", "jax"}, {"resources", {{"limits", {{"google.com/tpu", "4"}}}}}}})}}}}}}}};

class WebhookFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("webhook");
    options_.listener.listen = "127.0.0.1:0";
    options_.cert_file = dir_ + "/tls.crt";
    options_.key_file = dir_ + "/tls.key";
    options_.file_check_interval = std::chrono::milliseconds(50);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void install(const WebhookCertificates& certificates) {
    write_file(options_.key_file, certificates.serving.key_pem);
    write_file(options_.cert_file, certificates.serving.certificate_pem);
  }

  std::string dir_;
  AdmissionWebhookOptions options_;
  // Never called in file mode: nothing listens there.
  kube::KubeClient unused_client_{cluster_at("http://127.0.0.1:9")};
};

TEST_F(WebhookFilesTest, MutatesOverTlsAndRefusesWhatIsNotAReview) {
  auto certificates = localhost_certificates();
  install(certificates);
  AdmissionWebhook webhook(options_, unused_client_);
  ASSERT_TRUE(webhook.start());
  const auto& ca = certificates.authority.certificate_pem;
  auto reply = https(webhook.port(), ca, "POST", "/mutate", kJobSetPodReview.dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto response = json::parse(reply.body)["response"];
  EXPECT_EQ(response["uid"], "u-1");
  EXPECT_EQ(response["allowed"], true);
  auto patch = json::parse(value_of(base64_decode(response["patch"].get<std::string>())));
  auto pod = kJobSetPodReview["request"]["object"].patch(patch);
  EXPECT_EQ(pod["spec"]["schedulerName"], "tpu-scheduler");
  EXPECT_EQ(pod["spec"]["containers"][0]["env"][1]["value"],
            "train-slice-0-0.train,train-slice-0-1.train,train-slice-0-2.train,train-slice-0-3.train");

  auto bad = https(webhook.port(), ca, "POST", "/mutate", "{\"kind\":");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("AdmissionReview is not valid JSON"), std::string::npos) << bad.body;
  EXPECT_EQ(https(webhook.port(), ca, "GET", "/healthz").status, 200);
  EXPECT_EQ(https(webhook.port(), ca, "GET", "/mutate").status, 405);
  EXPECT_EQ(https(webhook.port(), ca, "POST", "/other", "{}").status, 404);
  // Plain HTTP gets nothing: TLS is required.
  EXPECT_NE(testing::round_trip(webhook.port(), "GET", "/healthz").status, 200);
}

TEST_F(WebhookFilesTest, ACertificateReplacedOnDiskServesNewConnections) {
  auto first = localhost_certificates();
  install(first);
  AdmissionWebhook webhook(options_, unused_client_);
  ASSERT_TRUE(webhook.start());
  ASSERT_EQ(https(webhook.port(), first.authority.certificate_pem, "GET", "/healthz").status, 200);

  auto second = localhost_certificates();  // another CA: only the new certificate verifies against it
  install(second);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (https(webhook.port(), second.authority.certificate_pem, "GET", "/healthz").status != 200 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(https(webhook.port(), second.authority.certificate_pem, "GET", "/healthz").status, 200);
  EXPECT_EQ(https(webhook.port(), first.authority.certificate_pem, "GET", "/healthz").status, 0);

  // A key that does not fit its certificate is not taken: the last good pair stays.
  write_file(options_.key_file, first.serving.key_pem);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(https(webhook.port(), second.authority.certificate_pem, "GET", "/healthz").status, 200);
}

TEST_F(WebhookFilesTest, UnreadableFilesStopTheStartWithTheirName) {
  AdmissionWebhook webhook(options_, unused_client_);
  const auto started = webhook.start();
  ASSERT_FALSE(started) << "started without certificate files";
  EXPECT_NE(started.error().message.find(options_.cert_file), std::string::npos) << started.error().message;
}

class WebhookSecretTest : public ::testing::Test {
 protected:
  void SetUp() override { api_.start(); }
  kube::ClusterConfig cluster() const { return cluster_at(api_.url()); }
  void add_configuration() {
    api_.store().create(
        kFakeConfigurations, "",
        {{"apiVersion", "admissionregistration.k8s.io/v1"},
         {"kind", "MutatingWebhookConfiguration"},
         {"metadata", {{"name", "tpu-extender-webhook"}}},
         {"webhooks",
          json::array(
              {{{"name", "pods.tpustack.dev"},
                {"clientConfig",
                 {{"service",
                   {{"name", "tpu-extender-webhook"}, {"namespace", "tpu-system"}, {"path", "/mutate"}}}}}}})}});
  }
  std::string stored_ca_bundle() {
    auto configuration = api_.store().get(kFakeConfigurations, "", "tpu-extender-webhook");
    return value_of(base64_decode(configuration["webhooks"][0]["clientConfig"].value("caBundle", "")));
  }

  fakes::FakeApiServer api_;
};

TEST_F(WebhookSecretTest, TheFirstReplicaCreatesTheSecretAndTheSecondReusesIt) {
  kube::KubeClient first_client(cluster());
  kube::KubeClient second_client(cluster());
  WebhookCaSecret first(first_client, "tpu-system");
  WebhookCaSecret second(second_client, "tpu-system");
  auto made = value_of(first.ensure());
  auto reused = value_of(second.ensure());
  EXPECT_EQ(reused.authority.certificate_pem, made.authority.certificate_pem);
  EXPECT_EQ(reused.serving.certificate_pem, made.serving.certificate_pem);
  EXPECT_EQ(api_.request_count("POST", "/api/v1/namespaces/tpu-system/secrets"), 1u);
  auto secret = api_.store().get(kFakeSecrets, "tpu-system", "tpu-extender-webhook-ca");
  EXPECT_EQ(value_of(base64_decode(secret["data"]["ca.crt"].get<std::string>())), made.authority.certificate_pem);
  EXPECT_EQ(value_of(base64_decode(secret["data"]["tls.crt"].get<std::string>())), made.serving.certificate_pem);
  EXPECT_EQ(value_of(base64_decode(secret["data"]["tls.key"].get<std::string>())), made.serving.key_pem);
}

TEST_F(WebhookSecretTest, TwoReplicasStartingTogetherEndWithTheSameCertificates) {
  for (int round = 0; round < 5; ++round) {
    if (round > 0) api_.store().remove(kFakeSecrets, "tpu-system", "tpu-extender-webhook-ca");
    WebhookCertificates results[2];
    std::vector<std::thread> replicas;
    for (auto& result : results) {
      replicas.emplace_back([&] {
        kube::KubeClient client(cluster());
        auto ensured = WebhookCaSecret(client, "tpu-system").ensure();
        ASSERT_TRUE(ensured) << ensured.error().message;
        result = std::move(*ensured);
      });
    }
    for (auto& replica : replicas) replica.join();
    EXPECT_EQ(results[0].serving.certificate_pem, results[1].serving.certificate_pem);
    auto secret = api_.store().get(kFakeSecrets, "tpu-system", "tpu-extender-webhook-ca");
    EXPECT_EQ(value_of(base64_decode(secret["data"]["tls.crt"].get<std::string>())),
              results[0].serving.certificate_pem);
  }
}

TEST_F(WebhookSecretTest, ARenewalKeepsTheCaAndIsWrittenOnce) {
  kube::KubeClient client(cluster());
  auto made = value_of(WebhookCaSecret(client, "tpu-system").ensure());
  const auto later = [] { return Clock::now() + std::chrono::days(340); };
  auto renewed = value_of(WebhookCaSecret(client, "tpu-system", later).ensure());
  EXPECT_EQ(renewed.authority.certificate_pem, made.authority.certificate_pem);
  EXPECT_NE(renewed.serving.certificate_pem, made.serving.certificate_pem);
  EXPECT_EQ(value_of(WebhookCaSecret(client, "tpu-system", later).ensure()).serving.certificate_pem,
            renewed.serving.certificate_pem);
  EXPECT_EQ(api_.request_count("PUT", "/api/v1/namespaces/tpu-system/secrets/tpu-extender-webhook-ca"), 1u);
}

TEST_F(WebhookSecretTest, TheCaBundleIsPublishedOnceTheConfigurationExists) {
  kube::KubeClient client(cluster());
  WebhookCaSecret secret(client, "tpu-system");
  auto certificates = value_of(secret.ensure());
  EXPECT_FALSE(value_of(secret.publish_ca_bundle(certificates.authority.certificate_pem)));
  add_configuration();
  EXPECT_TRUE(value_of(secret.publish_ca_bundle(certificates.authority.certificate_pem)));
  EXPECT_EQ(stored_ca_bundle(), certificates.authority.certificate_pem);
  api_.clear_requests();
  EXPECT_TRUE(value_of(secret.publish_ca_bundle(certificates.authority.certificate_pem)));
  EXPECT_EQ(api_.request_count("PATCH", "/apis/admissionregistration.k8s.io"), 0u) << "already set: no write";
}

TEST_F(WebhookSecretTest, ASelfKeptWebhookServesTheSecretsCertificateForItsService) {
  add_configuration();
  kube::KubeClient client(cluster());
  AdmissionWebhookOptions options;
  options.listener.listen = "127.0.0.1:0";
  options.ns = "tpu-system";
  AdmissionWebhook webhook(options, client);
  ASSERT_TRUE(webhook.start());
  auto secret = api_.store().get(kFakeSecrets, "tpu-system", "tpu-extender-webhook-ca");
  const auto ca = value_of(base64_decode(secret["data"]["ca.crt"].get<std::string>()));
  EXPECT_EQ(stored_ca_bundle(), ca);
  // Verified as kube-apiserver verifies it: against the caBundle, for the Service's DNS name.
  auto reply =
      https(webhook.port(), ca, "POST", "/mutate", kJobSetPodReview.dump(), "tpu-extender-webhook.tpu-system.svc");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(https(webhook.port(), ca, "GET", "/healthz", "", "somewhere-else.example").status, 0);
}

}  // namespace
}  // namespace tpustack::admission
