#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/kube/kube_client.h"
#include "extender/admission/certificate_files.h"
#include "extender/admission/webhook_ca_secret.h"
#include "extender/admission/webhook_listener.h"

namespace tpustack::admission {

struct AdmissionWebhookOptions {
  WebhookListenerOptions listener;
  // cert-manager's files (both or neither). Without them tpu-extender keeps its own CA (WebhookCaSecret).
  std::string cert_file;
  std::string key_file;
  std::chrono::milliseconds file_check_interval = std::chrono::seconds(5);
  // Self-kept certificates: where the Secret and the webhook's Service live, and how often the Secret and the
  // caBundle are checked (a renewal by the other replica is picked up then).
  std::string ns = "tpu-system";
  std::chrono::milliseconds secret_check_interval = std::chrono::minutes(1);
};

// tpu-extender's admission webhook put together: the listener and where its certificate comes from (files
// re-read when they change, or the CA Secret kept and renewed, with the caBundle published).
class AdmissionWebhook {
 public:
  AdmissionWebhook(AdmissionWebhookOptions options, kube::KubeClient& client);
  ~AdmissionWebhook() { stop(); }

  // Reads or makes the certificate and starts serving. An Error names certificate files that cannot be read or
  // a Secret that cannot be read or written; a busy address (std::runtime_error) is thrown.
  Result<void> start();
  void stop();
  int port() const { return listener_ ? listener_->port() : 0; }

 private:
  void keep_secret(std::stop_token stop);
  Result<void> check_secret();

  AdmissionWebhookOptions options_;
  WebhookCaSecret secret_;
  std::string serving_pem_;  // the serving certificate in use (self-kept mode)
  std::unique_ptr<WebhookListener> listener_;
  std::unique_ptr<CertificateFileWatch> file_watch_;
  std::jthread secret_keeper_;
};

}  // namespace tpustack::admission
