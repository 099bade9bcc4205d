// The webhook's self-kept certificates without the API server: what OpenSSL makes of the profiles, when a
// certificate is renewed, and the caBundle patch.
#include "extender/admission/webhook_certificates.h"

#include <gtest/gtest.h>

#include "common/encoding/base64.h"
#include "tests/support/result_matchers.h"

namespace tpustack::admission {
namespace {

using nlohmann::json;
using std::chrono::days;
using tpustack::testing::value_of;

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);  // 2027-01-15

WebhookCertificates fresh(const std::string& ns = "tpu-system", Clock::time_point at = kNow) {
  return value_of(apply_certificate_decision(std::nullopt, {CertificateAction::kNewAuthority, ""}, ns, at));
}

TEST(X509Certificate, IssuesACaAndAServingCertificateItSigned) {
  auto certificates = fresh();
  auto ca = read_certificate(certificates.authority.certificate_pem);
  ASSERT_TRUE(ca);
  EXPECT_TRUE(ca->certificate_authority);
  EXPECT_EQ(ca->common_name, "tpu-extender-webhook-ca");
  EXPECT_EQ(ca->not_after, kNow + kAuthorityValidity);
  auto serving = read_certificate(certificates.serving.certificate_pem);
  ASSERT_TRUE(serving);
  EXPECT_FALSE(serving->certificate_authority);
  EXPECT_EQ(serving->dns_names, (std::vector<std::string>{"tpu-extender-webhook.tpu-system.svc",
                                                          "tpu-extender-webhook.tpu-system.svc.cluster.local"}));
  EXPECT_EQ(serving->not_after, kNow + kServingValidity);
  EXPECT_TRUE(issued_by(certificates.serving.certificate_pem, certificates.authority.certificate_pem));
  EXPECT_TRUE(key_matches(certificates.serving.certificate_pem, certificates.serving.key_pem));
  EXPECT_FALSE(key_matches(certificates.serving.certificate_pem, certificates.authority.key_pem));
  EXPECT_NE(certificates.serving.key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(read_certificate("not a certificate"));
}

TEST(WebhookCertificates, NothingStoredMeansANewCa) {
  EXPECT_EQ(decide_certificates(std::nullopt, "tpu-system", kNow).action, CertificateAction::kNewAuthority);
  WebhookCertificates garbage{{"x", "y"}, {"z", "w"}};
  EXPECT_EQ(decide_certificates(garbage, "tpu-system", kNow).action, CertificateAction::kNewAuthority);
}

TEST(WebhookCertificates, FreshOnesAreKeptUntilThirtyDaysBeforeTheServingOneExpires) {
  auto certificates = fresh();
  EXPECT_EQ(decide_certificates(certificates, "tpu-system", kNow).action, CertificateAction::kKeep);
  EXPECT_EQ(decide_certificates(certificates, "tpu-system", kNow + days(334)).action, CertificateAction::kKeep);
  auto late = decide_certificates(certificates, "tpu-system", kNow + days(336));
  EXPECT_EQ(late.action, CertificateAction::kIssueServing);
  EXPECT_EQ(late.reason, "the serving certificate expires 2028-01-15");
  // The renewal keeps the CA, so the caBundle stays valid.
  auto renewed = value_of(apply_certificate_decision(certificates, late, "tpu-system", kNow + days(336)));
  EXPECT_EQ(renewed.authority.certificate_pem, certificates.authority.certificate_pem);
  EXPECT_NE(renewed.serving.certificate_pem, certificates.serving.certificate_pem);
  EXPECT_EQ(decide_certificates(renewed, "tpu-system", kNow + days(336)).action, CertificateAction::kKeep);
}

TEST(WebhookCertificates, AServingCertificateForAnotherNamespaceOrCaIsReissued) {
  auto certificates = fresh();
  auto moved = decide_certificates(certificates, "ml-platform", kNow);
  EXPECT_EQ(moved.action, CertificateAction::kIssueServing);
  EXPECT_EQ(moved.reason, "the serving certificate does not name tpu-extender-webhook.ml-platform.svc");
  auto mixed = certificates;
  mixed.serving = fresh().serving;
  EXPECT_EQ(decide_certificates(mixed, "tpu-system", kNow).reason, "the serving certificate was not issued by the CA");
  auto wrong_key = certificates;
  wrong_key.serving.key_pem = certificates.authority.key_pem;
  EXPECT_EQ(decide_certificates(wrong_key, "tpu-system", kNow).action, CertificateAction::kIssueServing);
}

TEST(WebhookCertificates, ACaNearItsEndIsReplacedWithEverything) {
  auto certificates = fresh();
  auto decision = decide_certificates(certificates, "tpu-system", kNow + kAuthorityValidity - days(10));
  EXPECT_EQ(decision.action, CertificateAction::kNewAuthority);
  EXPECT_EQ(decision.reason.rfind("the CA expires ", 0), 0u) << decision.reason;
}

TEST(WebhookCertificates, TheCaBundlePatchSetsOnlyWhatIsMissing) {
  const std::string ca = fresh().authority.certificate_pem;
  const std::string bundle = base64_encode(ca);
  json configuration = {
      {"webhooks", json::array({{{"name", "pods.tpustack.dev"}, {"clientConfig", {{"service", {{"name", "s"}}}}}},
                                {{"name", "done.tpustack.dev"}, {"clientConfig", {{"caBundle", bundle}}}},
                                {{"name", "bare.tpustack.dev"}}})}};
  auto patch = ca_bundle_patch(configuration, ca);
  EXPECT_EQ(patch,
            json::array({{{"op", "test"}, {"path", "/webhooks/0/name"}, {"value", "pods.tpustack.dev"}},
                         {{"op", "add"}, {"path", "/webhooks/0/clientConfig/caBundle"}, {"value", bundle}},
                         {{"op", "test"}, {"path", "/webhooks/2/name"}, {"value", "bare.tpustack.dev"}},
                         {{"op", "add"}, {"path", "/webhooks/2/clientConfig"}, {"value", {{"caBundle", bundle}}}}}));
  EXPECT_TRUE(ca_bundle_patch(configuration.patch(patch), ca).empty());
}

}  // namespace
}  // namespace tpustack::admission
