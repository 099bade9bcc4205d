#include "extender/admission/certificate_files.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "common/files/file_text.h"
#include "common/lifecycle/interruptible_sleep.h"

namespace tpustack::admission {

Result<http::TlsCertificate> read_certificate_files(const std::string& cert_file, const std::string& key_file) {
  auto chain = files::read_file_text(cert_file, "webhook certificate");
  if (!chain) return chain.error();
  auto key = files::read_file_text(key_file, "webhook private key");
  if (!key) return key.error();
  return http::TlsCertificate{std::move(*chain), std::move(*key)};
}

CertificateFileWatch::CertificateFileWatch(std::string cert_file, std::string key_file, http::TlsCertificate current,
                                           std::chrono::milliseconds interval, OnChange on_change)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      last_seen_(std::move(current)),
      interval_(interval),
      on_change_(std::move(on_change)) {}

void CertificateFileWatch::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (lifecycle::sleep_unless_stopped(stop, interval_)) check();
  });
}

void CertificateFileWatch::stop() { thread_ = {}; }

void CertificateFileWatch::check() {
  const auto read = read_certificate_files(cert_file_, key_file_);
  if (!read) {
    spdlog::debug("webhook certificate files: {}", read.error().message);  // mid-swap; the next check sees both
    return;
  }
  const http::TlsCertificate& now = *read;
  if (now.chain_pem == last_seen_.chain_pem && now.key_pem == last_seen_.key_pem) return;
  last_seen_ = now;
  if (auto used = on_change_(now); !used) {
    spdlog::warn("webhook certificate files {} and {} changed but cannot be used, keeping the previous one: {}",
                 cert_file_, key_file_, used.error().message);
    return;
  }
  spdlog::info("webhook certificate reloaded from {}", cert_file_);
}

}  // namespace tpustack::admission
