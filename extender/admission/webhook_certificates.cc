#include "extender/admission/webhook_certificates.h"

#include <algorithm>
#include <ctime>
#include <optional>

#include "common/encoding/base64.h"

namespace tpustack::admission {

namespace {

std::string date_of(Clock::time_point when) {
  const std::time_t t = Clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
  return text;
}

// Why the serving certificate cannot stay; nullopt when it can.
std::optional<std::string> serving_problem(const WebhookCertificates& stored, const std::string& ns,
                                           Clock::time_point now) {
  auto facts = read_certificate(stored.serving.certificate_pem);
  if (!facts) return "the serving certificate cannot be read";
  if (!key_matches(stored.serving.certificate_pem, stored.serving.key_pem)) {
    return "the serving key does not match its certificate";
  }
  if (!issued_by(stored.serving.certificate_pem, stored.authority.certificate_pem)) {
    return "the serving certificate was not issued by the CA";
  }
  auto wanted = serving_profile(ns).dns_names;
  auto names = facts->dns_names;
  std::sort(wanted.begin(), wanted.end());
  std::sort(names.begin(), names.end());
  if (!std::includes(names.begin(), names.end(), wanted.begin(), wanted.end())) {
    return "the serving certificate does not name " + wanted.front();
  }
  if (facts->not_after - now < kRenewBefore) return "the serving certificate expires " + date_of(facts->not_after);
  return std::nullopt;
}

}  // namespace

CertificateProfile authority_profile() { return {"tpu-extender-webhook-ca", {}, kAuthorityValidity, true}; }

CertificateProfile serving_profile(const std::string& ns) {
  const std::string service = std::string(kWebhookService) + "." + ns + ".svc";
  return {service, {service, service + ".cluster.local"}, kServingValidity, false};
}

CertificateDecision decide_certificates(const std::optional<WebhookCertificates>& stored, const std::string& ns,
                                        Clock::time_point now) {
  if (!stored) return {CertificateAction::kNewAuthority, "no certificates yet"};
  auto authority = read_certificate(stored->authority.certificate_pem);
  if (!authority || !authority->certificate_authority ||
      !key_matches(stored->authority.certificate_pem, stored->authority.key_pem)) {
    return {CertificateAction::kNewAuthority, "the CA certificate or its key cannot be used"};
  }
  if (authority->not_after - now < kRenewBefore) {
    return {CertificateAction::kNewAuthority, "the CA expires " + date_of(authority->not_after)};
  }
  if (auto problem = serving_problem(*stored, ns, now)) return {CertificateAction::kIssueServing, *problem};
  return {CertificateAction::kKeep, ""};
}

Result<WebhookCertificates> apply_certificate_decision(const std::optional<WebhookCertificates>& stored,
                                                       const CertificateDecision& decision, const std::string& ns,
                                                       Clock::time_point now) {
  WebhookCertificates result = stored.value_or(WebhookCertificates{});
  if (decision.action == CertificateAction::kKeep) return result;
  if (decision.action == CertificateAction::kNewAuthority) {
    auto authority = issue_certificate(authority_profile(), nullptr, now);
    if (!authority) return authority.error();
    result.authority = std::move(*authority);
  }
  auto serving = issue_certificate(serving_profile(ns), &result.authority, now);
  if (!serving) return serving.error();
  result.serving = std::move(*serving);
  return result;
}

nlohmann::json ca_bundle_patch(const nlohmann::json& configuration, const std::string& ca_pem) {
  nlohmann::json patch = nlohmann::json::array();
  const auto webhooks = configuration.find("webhooks");
  if (webhooks == configuration.end() || !webhooks->is_array()) return patch;
  const std::string bundle = base64_encode(ca_pem);
  for (std::size_t i = 0; i < webhooks->size(); ++i) {
    const auto& webhook = (*webhooks)[i];
    if (!webhook.is_object()) continue;
    auto client = webhook.find("clientConfig");
    const bool has_client = client != webhook.end() && client->is_object();
    if (has_client && client->value("caBundle", "") == bundle) continue;
    const std::string at = "/webhooks/" + std::to_string(i);
    patch.push_back({{"op", "test"}, {"path", at + "/name"}, {"value", webhook.value("name", "")}});
    if (has_client) {
      patch.push_back({{"op", "add"}, {"path", at + "/clientConfig/caBundle"}, {"value", bundle}});
    } else {
      patch.push_back({{"op", "add"}, {"path", at + "/clientConfig"}, {"value", {{"caBundle", bundle}}}});
    }
  }
  return patch;
}

}  // namespace tpustack::admission
