#include "extender/admission/x509_certificate.h"

#include <ctime>
#include <memory>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace tpustack::admission {

namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using BigNumber = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// OpenSSL's failure, thrown from deep inside the steps of issuing and turned into issue_certificate's Error there.
struct OpenSslFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char reason[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, reason, sizeof(reason));
  ERR_clear_error();
  throw OpenSslFailure("cannot " + what + ": " + reason);
}

Bio memory_of(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) fail("allocate a buffer");
  return bio;
}

Certificate certificate_of(std::string_view pem) {
  auto bio = memory_of(pem);
  Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return certificate;
}

Key key_of(std::string_view pem) {
  auto bio = memory_of(pem);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

template <class Write>
std::string pem_text(Write write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) fail("write PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

void set_time(ASN1_TIME* field, Clock::time_point when) {
  if (!ASN1_TIME_set(field, Clock::to_time_t(when))) fail("set a validity date");
}

void add_extension(X509* certificate, X509V3_CTX& context, int nid, const std::string& value) {
  Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension || !X509_add_ext(certificate, extension.get(), -1)) fail("add extension " + value);
}

IssuedCertificate issued(const CertificateProfile& profile, const IssuedCertificate* issuer, Clock::time_point now) {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("generate an EC P-256 key");
  Certificate issuer_certificate;
  Key issuer_key;
  if (issuer) {
    issuer_certificate = certificate_of(issuer->certificate_pem);
    issuer_key = key_of(issuer->key_pem);
    if (!issuer_certificate || !issuer_key) throw OpenSslFailure("cannot read the issuing CA's certificate or key");
  }
  Certificate certificate(X509_new());
  if (!certificate || !X509_set_version(certificate.get(), 2)) fail("make a certificate");
  BigNumber serial(BN_new());
  if (!serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get()))) {
    fail("draw a serial number");
  }
  set_time(X509_getm_notBefore(certificate.get()), now - std::chrono::hours(1));
  set_time(X509_getm_notAfter(certificate.get()), now + profile.validity);
  X509_NAME* subject = X509_get_subject_name(certificate.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(profile.common_name.c_str());
  if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0)) fail("set the common name");
  X509* signer = issuer ? issuer_certificate.get() : certificate.get();
  if (!X509_set_issuer_name(certificate.get(), X509_get_subject_name(signer)) ||
      !X509_set_pubkey(certificate.get(), key.get())) {
    fail("set the issuer and public key");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, signer, certificate.get(), nullptr, nullptr, 0);
  add_extension(certificate.get(), context, NID_subject_key_identifier, "hash");
  add_extension(certificate.get(), context, NID_authority_key_identifier, "keyid:always");
  if (profile.certificate_authority) {
    add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(certificate.get(), context, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(certificate.get(), context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(certificate.get(), context, NID_key_usage, "critical,digitalSignature");
    add_extension(certificate.get(), context, NID_ext_key_usage, "serverAuth");
  }
  if (!profile.dns_names.empty()) {
    std::string names;
    for (const auto& name : profile.dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + name;
    add_extension(certificate.get(), context, NID_subject_alt_name, names);
  }
  if (!X509_sign(certificate.get(), issuer ? issuer_key.get() : key.get(), EVP_sha256())) fail("sign the certificate");
  return {pem_text([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate.get()); }), pem_text([&](BIO* bio) {
            return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

}  // namespace

Result<IssuedCertificate> issue_certificate(const CertificateProfile& profile, const IssuedCertificate* issuer,
                                            Clock::time_point now) {
  try {
    return issued(profile, issuer, now);
  } catch (const OpenSslFailure& e) {
    return Error{e.what()};
  }
}

std::optional<CertificateFacts> read_certificate(std::string_view pem) {
  auto certificate = certificate_of(pem);
  if (!certificate) return std::nullopt;
  CertificateFacts facts;
  char cn[256] = "";
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()), NID_commonName, cn, sizeof(cn)) > 0) {
    facts.common_name = cn;
  }
  GeneralNames names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    const auto* text = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
    facts.dns_names.emplace_back(text, static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
  }
  std::tm not_after{};
  if (!ASN1_TIME_to_tm(X509_get0_notAfter(certificate.get()), &not_after)) return std::nullopt;
  facts.not_after = Clock::from_time_t(timegm(&not_after));
  facts.certificate_authority = X509_check_ca(certificate.get()) > 0;
  ERR_clear_error();
  return facts;
}

bool issued_by(std::string_view certificate_pem, std::string_view issuer_pem) {
  auto certificate = certificate_of(certificate_pem);
  auto issuer = certificate_of(issuer_pem);
  if (!certificate || !issuer) return false;
  const bool verified = X509_verify(certificate.get(), X509_get0_pubkey(issuer.get())) == 1;
  ERR_clear_error();
  return verified;
}

bool key_matches(std::string_view certificate_pem, std::string_view key_pem) {
  auto certificate = certificate_of(certificate_pem);
  auto key = key_of(key_pem);
  if (!certificate || !key) return false;
  const bool matches = X509_check_private_key(certificate.get(), key.get()) == 1;
  ERR_clear_error();
  return matches;
}

}  // namespace tpustack::admission
