#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/http/http_server.h"
#include "common/result/result.h"

namespace tpustack::admission {

// The certificate and key files cert-manager keeps current in a mounted Secret, or an Error naming a file that
// cannot be read.
Result<http::TlsCertificate> read_certificate_files(const std::string& cert_file, const std::string& key_file);

// Re-reads the two files every `interval` and hands a changed pair to `on_change` (the kubelet swaps a mounted
// Secret's files through a symlink, so contents are compared, not modification times). A pair `on_change`
// refuses (half-written, key of another certificate) is logged once and tried again when the files change next.
class CertificateFileWatch {
 public:
  using OnChange = std::function<Result<void>(const http::TlsCertificate&)>;

  // `current`: the pair in use now.
  CertificateFileWatch(std::string cert_file, std::string key_file, http::TlsCertificate current,
                       std::chrono::milliseconds interval, OnChange on_change);
  ~CertificateFileWatch() { stop(); }

  void start();
  void stop();

 private:
  void check();

  std::string cert_file_;
  std::string key_file_;
  http::TlsCertificate last_seen_;
  std::chrono::milliseconds interval_;
  OnChange on_change_;
  std::jthread thread_;
};

}  // namespace tpustack::admission
