#include "extender/admission/webhook_ca_secret.h"

#include <optional>

#include <spdlog/spdlog.h>

#include "common/encoding/base64.h"

namespace tpustack::admission {

namespace {

using nlohmann::json;

const kube::Resource kSecrets{"", "v1", "secrets", true};
const kube::Resource kMutatingWebhookConfigurations{"admissionregistration.k8s.io", "v1",
                                                    "mutatingwebhookconfigurations", false};
// Writes lost to another replica before this one gives up until its next check.
constexpr int kAttempts = 5;

std::string data_field(const json& secret, const char* key) {
  const auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return "";
  const auto value = data->find(key);
  if (value == data->end() || !value->is_string()) return "";
  auto decoded = base64_decode(value->get<std::string>());
  return decoded ? *decoded : "";  // unreadable is the same as missing: the decision replaces it
}

WebhookCertificates certificates_in(const json& secret) {
  return {{data_field(secret, "ca.crt"), data_field(secret, "ca.key")},
          {data_field(secret, "tls.crt"), data_field(secret, "tls.key")}};
}

json secret_data(const WebhookCertificates& certificates) {
  return {{"ca.crt", base64_encode(certificates.authority.certificate_pem)},
          {"ca.key", base64_encode(certificates.authority.key_pem)},
          {"tls.crt", base64_encode(certificates.serving.certificate_pem)},
          {"tls.key", base64_encode(certificates.serving.key_pem)}};
}

}  // namespace

WebhookCaSecret::WebhookCaSecret(kube::KubeClient& client, std::string ns, Now now)
    : client_(client), ns_(std::move(ns)), now_(std::move(now)) {}

Result<WebhookCertificates> WebhookCaSecret::ensure() {
  for (int attempt = 1;; ++attempt) {
    auto read = client_.get(kSecrets, ns_, kWebhookCaSecret);
    if (!read && !kube::not_found(read.error())) return read.error();
    std::optional<json> secret;
    if (read) secret = std::move(*read);
    std::optional<WebhookCertificates> stored;
    if (secret) stored = certificates_in(*secret);
    const auto now = now_();
    const auto decision = decide_certificates(stored, ns_, now);
    if (decision.action == CertificateAction::kKeep) return *stored;
    auto issued = apply_certificate_decision(stored, decision, ns_, now);
    if (!issued) return issued.error();
    const WebhookCertificates& renewed = *issued;
    Result<json> written = Error{};
    if (secret) {
      (*secret)["data"] = secret_data(renewed);
      written = client_.replace(kSecrets, ns_, kWebhookCaSecret, *secret);
    } else {
      written = client_.create(kSecrets, ns_,
                               {{"apiVersion", "v1"},
                                {"kind", "Secret"},
                                {"metadata",
                                 {{"name", kWebhookCaSecret},
                                  {"namespace", ns_},
                                  {"labels", {{"app.kubernetes.io/managed-by", "tpu-extender"}}}}},
                                {"type", "Opaque"},
                                {"data", secret_data(renewed)}});
    }
    if (written) {
      spdlog::info("webhook certificates: {} in Secret {}/{} ({})",
                   decision.action == CertificateAction::kNewAuthority ? "new CA and serving certificate"
                                                                       : "new serving certificate",
                   ns_, kWebhookCaSecret, decision.reason);
      return renewed;
    }
    // Another replica wrote first: use (or judge) what it wrote.
    if (!kube::conflict(written.error()) || attempt == kAttempts) return written.error();
    spdlog::debug("webhook certificates: Secret {}/{} written by another replica; reading it", ns_, kWebhookCaSecret);
  }
}

Result<bool> WebhookCaSecret::publish_ca_bundle(const std::string& ca_pem) {
  auto configuration = client_.get(kMutatingWebhookConfigurations, "", kWebhookConfiguration);
  if (!configuration) {
    if (kube::not_found(configuration.error())) return false;
    return configuration.error();
  }
  auto patch = ca_bundle_patch(*configuration, ca_pem);
  if (patch.empty()) return true;
  auto patched =
      client_.patch(kMutatingWebhookConfigurations, "", kWebhookConfiguration, patch, kube::PatchType::kJson);
  if (!patched) return patched.error();
  spdlog::info("webhook certificates: caBundle of MutatingWebhookConfiguration {} set to the CA in {}/{}",
               kWebhookConfiguration, ns_, kWebhookCaSecret);
  return true;
}

}  // namespace tpustack::admission
