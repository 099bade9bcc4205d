#include "extender/admission/admission_webhook.h"

#include <spdlog/spdlog.h>

#include "common/lifecycle/interruptible_sleep.h"

namespace tpustack::admission {

namespace {

http::TlsCertificate serving_certificate(const WebhookCertificates& certificates) {
  // The chain a client verifies against the caBundle: the serving certificate, then its CA.
  return {certificates.serving.certificate_pem + certificates.authority.certificate_pem, certificates.serving.key_pem};
}

}  // namespace

AdmissionWebhook::AdmissionWebhook(AdmissionWebhookOptions options, kube::KubeClient& client)
    : options_(std::move(options)), secret_(client, options_.ns) {}

Result<void> AdmissionWebhook::start() {
  if (!options_.cert_file.empty()) {
    auto read = read_certificate_files(options_.cert_file, options_.key_file);
    if (!read) return read.error();
    const http::TlsCertificate& certificate = *read;
    listener_ = std::make_unique<WebhookListener>(options_.listener, certificate);
    file_watch_ = std::make_unique<CertificateFileWatch>(
        options_.cert_file, options_.key_file, certificate, options_.file_check_interval,
        [this](const http::TlsCertificate& changed) { return listener_->use_certificate(changed); });
    if (auto started = listener_->start(); !started) return started.error();
    file_watch_->start();
    spdlog::info("admission webhook: certificate from {} (re-read every {} ms)", options_.cert_file,
                 options_.file_check_interval.count());
    return {};
  }
  auto ensured = secret_.ensure();
  if (!ensured) {
    return Error{"admission webhook: the certificates in Secret " + secret_.ns() + "/" + std::string(kWebhookCaSecret) +
                 ": " + ensured.error().message};
  }
  const WebhookCertificates& certificates = *ensured;
  serving_pem_ = certificates.serving.certificate_pem;
  listener_ = std::make_unique<WebhookListener>(options_.listener, serving_certificate(certificates));
  if (auto started = listener_->start(); !started) return started.error();
  auto published = secret_.publish_ca_bundle(certificates.authority.certificate_pem);
  if (!published) {
    spdlog::warn("admission webhook: cannot set the caBundle yet (retrying): {}", published.error().message);
  } else if (!*published) {
    spdlog::warn("admission webhook: no MutatingWebhookConfiguration {} yet; caBundle set once it exists",
                 kWebhookConfiguration);
  }
  spdlog::info("admission webhook: certificate from Secret {}/{}", secret_.ns(), kWebhookCaSecret);
  secret_keeper_ = std::jthread([this](std::stop_token stop) { keep_secret(stop); });
  return {};
}

void AdmissionWebhook::stop() {
  secret_keeper_ = {};
  file_watch_.reset();
  if (listener_) listener_->stop();
}

void AdmissionWebhook::keep_secret(std::stop_token stop) {
  while (lifecycle::sleep_unless_stopped(stop, options_.secret_check_interval)) {
    Result<void> checked = Error{};
    try {
      checked = check_secret();
    } catch (const std::exception& e) {
      checked = Error{e.what()};  // this thread's boundary: keep checking
    }
    if (!checked) {
      spdlog::warn("admission webhook: checking the certificates in Secret {}/{} failed, retrying: {}", secret_.ns(),
                   kWebhookCaSecret, checked.error().message);
    }
  }
}

Result<void> AdmissionWebhook::check_secret() {
  auto certificates = secret_.ensure();
  if (!certificates) return certificates.error();
  if (certificates->serving.certificate_pem != serving_pem_) {
    if (auto used = listener_->use_certificate(serving_certificate(*certificates)); !used) return used.error();
    serving_pem_ = certificates->serving.certificate_pem;
    spdlog::info("admission webhook: serving the renewed certificate from Secret {}/{}", secret_.ns(),
                 kWebhookCaSecret);
  }
  // Every check, not only after a change: someone may have re-applied the manifests with an empty caBundle.
  auto published = secret_.publish_ca_bundle(certificates->authority.certificate_pem);
  if (!published) return published.error();
  return {};
}

}  // namespace tpustack::admission
