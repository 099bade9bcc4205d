#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "extender/admission/x509_certificate.h"

// The certificates of tpu-extender's webhook when it keeps them itself (no cert-manager): a CA whose
// certificate goes into the MutatingWebhookConfiguration's caBundle, and the serving certificate it signs for
// the webhook's Service. What goes into them and when they are renewed; the Secret and API calls are elsewhere.
namespace tpustack::admission {

inline constexpr std::string_view kWebhookService = "tpu-extender-webhook";
inline constexpr std::string_view kWebhookConfiguration = "tpu-extender-webhook";
inline constexpr std::string_view kWebhookCaSecret = "tpu-extender-webhook-ca";

inline constexpr std::chrono::seconds kAuthorityValidity = std::chrono::years(10);
inline constexpr std::chrono::seconds kServingValidity = std::chrono::days(365);
// A certificate is replaced this long before it expires, so no replica ever serves an expired one.
inline constexpr std::chrono::seconds kRenewBefore = std::chrono::days(30);

// The Secret's keys, PEM each (ca.key lets every replica renew the serving certificate under the same CA).
struct WebhookCertificates {
  IssuedCertificate authority;  // ca.crt, ca.key
  IssuedCertificate serving;    // tls.crt, tls.key
};

CertificateProfile authority_profile();
// For the Service in `ns`: tpu-extender-webhook.<ns>.svc and .svc.cluster.local.
CertificateProfile serving_profile(const std::string& ns);

enum class CertificateAction {
  kKeep,
  kIssueServing,  // a new serving certificate under the same CA: the caBundle stays
  kNewAuthority,  // a new CA and serving certificate: the caBundle changes
};

struct CertificateDecision {
  CertificateAction action = CertificateAction::kKeep;
  std::string reason;  // for the log: "no certificates yet", "serving certificate expires 2027-01-01"
};

// What to do with the certificates found (nullopt: none yet) for the webhook's Service in `ns` at `now`.
CertificateDecision decide_certificates(const std::optional<WebhookCertificates>& stored, const std::string& ns,
                                        Clock::time_point now);

// `stored` after `decision`: new certificates where it says so, the rest kept.
Result<WebhookCertificates> apply_certificate_decision(const std::optional<WebhookCertificates>& stored,
                                                       const CertificateDecision& decision, const std::string& ns,
                                                       Clock::time_point now);

// JSON Patch operations that set caBundle (base64 of `ca_pem`) on every webhook of a MutatingWebhookConfiguration
// that does not carry it yet, each guarded by a test of the webhook's name so that a list reordered meanwhile
// fails instead of patching the wrong entry. Empty when all carry it.
nlohmann::json ca_bundle_patch(const nlohmann::json& configuration, const std::string& ca_pem);

}  // namespace tpustack::admission
