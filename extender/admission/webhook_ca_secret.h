#pragma once

#include <functional>
#include <string>

#include "common/kube/kube_client.h"
#include "extender/admission/webhook_certificates.h"

namespace tpustack::admission {

// The webhook's self-kept certificates in the Secret tpu-extender-webhook-ca (ca.crt, ca.key, tls.crt, tls.key)
// and the caBundle of the MutatingWebhookConfiguration tpu-extender-webhook. Every replica calls ensure(): the
// first to find no Secret creates it, the others lose the create (409) and read the winner's; a renewal is a
// PUT with the resourceVersion read, so two replicas never keep different certificates. Every call is blocking
// I/O and fails when the API refuses or is away.
class WebhookCaSecret {
 public:
  using Now = std::function<Clock::time_point()>;

  // `ns`: where the Secret and the webhook's Service live.
  WebhookCaSecret(kube::KubeClient& client, std::string ns, Now now = Clock::now);

  // The certificates as stored after creating or renewing what needed it.
  Result<WebhookCertificates> ensure();
  // Sets caBundle on every webhook of the configuration lacking `ca_pem`; false when the configuration does not
  // exist (yet: the manifests may be applied after tpu-extender starts).
  Result<bool> publish_ca_bundle(const std::string& ca_pem);

  const std::string& ns() const { return ns_; }

 private:
  kube::KubeClient& client_;
  std::string ns_;
  Now now_;
};

}  // namespace tpustack::admission
