#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

// X.509 certificates and EC P-256 keys with OpenSSL: issue one, read one back. No files, no network.
namespace tpustack::admission {

using Clock = std::chrono::system_clock;

// What goes into a certificate.
struct CertificateProfile {
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  std::chrono::seconds validity{0};
  bool certificate_authority = false;  // CA:TRUE, keyCertSign; otherwise a TLS server certificate (serverAuth)
};

// A certificate and its private key, PEM (the key PKCS#8, unencrypted).
struct IssuedCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

// A new key and a certificate for it, signed by `issuer` (self-signed when null), valid from an hour before
// `now` (clocks of the API server and this pod may differ) for the profile's validity; an Error when OpenSSL fails,
// or the issuer's PEM cannot be read.
Result<IssuedCertificate> issue_certificate(const CertificateProfile& profile, const IssuedCertificate* issuer,
                                            Clock::time_point now);

// What a certificate says of itself.
struct CertificateFacts {
  std::string common_name;
  std::vector<std::string> dns_names;
  Clock::time_point not_after;
  bool certificate_authority = false;
};

// Nullopt when `pem` holds no readable certificate.
std::optional<CertificateFacts> read_certificate(std::string_view pem);
// Whether `issuer_pem`'s key signed `certificate_pem`.
bool issued_by(std::string_view certificate_pem, std::string_view issuer_pem);
// Whether `key_pem` is the private key of `certificate_pem`.
bool key_matches(std::string_view certificate_pem, std::string_view key_pem);

}  // namespace tpustack::admission
