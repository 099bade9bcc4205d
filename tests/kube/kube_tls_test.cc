// The client over real TLS: CA verification, client-certificate auth and bearer tokens, against a
// small mutual-TLS server with a CA and certificates minted at test time.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/encoding/base64.h"
#include "common/kube/kube_client.h"

#include "tests/support/result_matchers.h"
#include "tests/support/temp_dir.h"

namespace tpustack::kube {
namespace {

using tpustack::testing::value_of;

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using nlohmann::json;

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("openssl: ") + what);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

// A certificate and its key, in PEM, as a kubeconfig or a TLS context takes them.
struct Credential {
  KeyPtr key{nullptr, &EVP_PKEY_free};
  CertPtr cert{nullptr, &X509_free};

  std::string cert_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    check(PEM_write_bio_X509(bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
    return bio_text(bio.get());
  }
  std::string key_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    return bio_text(bio.get());
  }
};

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  check(extension != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A P-256 certificate valid for an hour, signed by `issuer` (self-signed when null). A CA when
// `subject_alt_name` is empty, otherwise a leaf usable by servers and clients.
Credential issue(const std::string& common_name, const Credential* issuer, const std::string& subject_alt_name) {
  static std::atomic<long> next_serial{1};
  Credential out;
  out.key.reset(EVP_EC_gen("P-256"));
  check(out.key != nullptr, "EVP_EC_gen");
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  ASN1_INTEGER_set(X509_get_serialNumber(cert), next_serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  if (subject_alt_name.empty()) {
    add_extension(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, &ctx, NID_basic_constraints, "CA:FALSE");
    add_extension(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    add_extension(cert, &ctx, NID_subject_alt_name, subject_alt_name.c_str());
  }
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
  check(X509_sign(cert, signing_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

// What the server saw of the last request that completed a handshake.
struct SeenRequest {
  std::string request_line;
  std::string authorization;
  std::string client_common_name;
};

// Accepts one request per connection on 127.0.0.1, requiring a client certificate signed by the CA,
// and answers GET /api/v1/namespaces/default/pods/p with a Pod.
class MutualTlsServer {
 public:
  MutualTlsServer(const Credential& server, const std::string& client_ca_pem)
      : tls_(ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    const std::string cert = server.cert_pem(), key = server.key_pem();
    tls_.use_certificate_chain(asio::buffer(cert));
    tls_.use_private_key(asio::buffer(key), ssl::context::pem);
    tls_.add_certificate_authority(asio::buffer(client_ca_pem));
    tls_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }

  ~MutualTlsServer() {
    stopping_ = true;
    // Wakes the blocking accept so the loop sees the flag.
    asio::ip::tcp::socket wake(io_);
    boost::system::error_code ignored;
    wake.connect({asio::ip::make_address("127.0.0.1"), port_}, ignored);
    wake.close();
    thread_.join();
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  SeenRequest last_request() {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  void serve() {
    while (!stopping_) {
      ssl::stream<asio::ip::tcp::socket> stream(io_, tls_);
      boost::system::error_code error;
      acceptor_.accept(stream.lowest_layer(), error);
      if (error || stopping_) continue;
      stream.handshake(ssl::stream_base::server, error);
      if (error) continue;  // a client that does not trust us, or that we do not trust
      answer(stream);
    }
  }

  void answer(ssl::stream<asio::ip::tcp::socket>& stream) {
    boost::system::error_code error;
    asio::streambuf buffer;
    asio::read_until(stream, buffer, "\r\n\r\n", error);
    if (error) return;
    std::istream head(&buffer);
    SeenRequest seen;
    std::getline(head, seen.request_line);
    for (std::string line; std::getline(head, line) && line != "\r";) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      // cpprestsdk writes "Name:value", without the optional space.
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (colon != std::string::npos && name == "authorization") {
        seen.authorization = line.substr(colon + 1);
        seen.authorization.erase(0, seen.authorization.find_first_not_of(' '));
      }
    }
    if (X509* peer = SSL_get0_peer_certificate(stream.native_handle())) {
      char common_name[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, common_name, sizeof(common_name));
      seen.client_common_name = common_name;
    }
    const bool is_pod = seen.request_line.rfind("GET /api/v1/namespaces/default/pods/p HTTP/", 0) == 0;
    {
      std::lock_guard lock(mu_);
      last_ = seen;
    }
    const std::string body =
        is_pod ? json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}, {"namespace", "default"}}}}
                     .dump()
               : json{{"kind", "Status"}, {"status", "Failure"}, {"reason", "NotFound"}, {"code", 404}}.dump();
    const std::string reply = std::string(is_pod ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found") +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
    asio::write(stream, asio::buffer(reply), error);
    stream.shutdown(error);
  }

  asio::io_context io_;
  ssl::context tls_;
  asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  SeenRequest last_;
  std::thread thread_;
};

class KubeTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tpustack::testing::make_temp_dir("kube_tls_test");
    write("ca.crt", ca_.cert_pem());
    write("client.crt", client_.cert_pem());
    write("client.key", client_.key_pem());
    server_ = std::make_unique<MutualTlsServer>(server_cert_, ca_.cert_pem());
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }

  // A kubeconfig for the server; `cluster` and `user` are the indented fields that differ per test.
  ClusterConfig load(const std::string& cluster, const std::string& user) {
    write("config",
          "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
          "contexts:\n- name: test\n  context: {cluster: tls, user: tester}\n"
          "clusters:\n- name: tls\n  cluster:\n    server: " +
              server_->url() + "\n" + cluster + "users:\n- name: tester\n  user:\n" + user);
    return load_kubeconfig((dir_ / "config").string()).value();
  }

  // The client's error for a GET of the pod, or a failed expectation when it succeeds.
  Error get_error(const ClusterConfig& config) {
    KubeClient client(config, {.request_timeout = std::chrono::seconds(10)});
    auto pod = client.get(resources::kPods, "default", "p");
    if (!pod.ok()) return pod.error();
    ADD_FAILURE() << "the GET succeeded";
    return api_error(-1, "", "");
  }

  Credential ca_ = issue("test-ca", nullptr, "");
  Credential server_cert_ = issue("apiserver", &ca_, "IP:127.0.0.1");
  Credential client_ = issue("tester", &ca_, "DNS:tester");
  std::filesystem::path dir_;
  std::unique_ptr<MutualTlsServer> server_;
};

TEST_F(KubeTlsTest, FilePathsVerifyTheServerAndPresentTheClientCertificate) {
  // Relative paths: taken from the kubeconfig's directory.
  ClusterConfig config =
      load("    certificate-authority: ca.crt\n", "    client-certificate: client.crt\n    client-key: client.key\n");
  KubeClient client(config);
  json pod = value_of(client.get(resources::kPods, "default", "p"));
  EXPECT_EQ(pod["metadata"]["name"], "p");
  SeenRequest seen = server_->last_request();
  EXPECT_EQ(seen.client_common_name, "tester");
  EXPECT_EQ(seen.authorization, "");
}

TEST_F(KubeTlsTest, Base64DataFormsAndBearerToken) {
  ClusterConfig config =
      load("    certificate-authority-data: " + base64_encode(ca_.cert_pem()) + "\n",
           "    client-certificate-data: " + base64_encode(client_.cert_pem()) +
               "\n    client-key-data: " + base64_encode(client_.key_pem()) + "\n    token: s3cret\n");
  KubeClient client(config);
  EXPECT_EQ(value_of(client.get(resources::kPods, "default", "p"))["kind"], "Pod");
  SeenRequest seen = server_->last_request();
  EXPECT_EQ(seen.request_line.substr(0, 42), "GET /api/v1/namespaces/default/pods/p HTTP");
  EXPECT_EQ(seen.client_common_name, "tester");
  EXPECT_EQ(seen.authorization, "Bearer s3cret");
}

TEST_F(KubeTlsTest, ServerFromAnotherCaIsRefused) {
  Credential other_ca = issue("other-ca", nullptr, "");
  write("other-ca.crt", other_ca.cert_pem());
  Error error = get_error(load("    certificate-authority: other-ca.crt\n",
                               "    client-certificate: client.crt\n    client-key: client.key\n"));
  EXPECT_EQ(peer_status(error), 0);
  EXPECT_NE(error.message.find("GET /api/v1/namespaces/default/pods/p"), std::string::npos) << error.message;
  // cpprestsdk's wording: the handshake is named, the verification detail is not.
  EXPECT_NE(error.message.find("SSL handshake"), std::string::npos) << error.message;
}

TEST_F(KubeTlsTest, ServerRefusesAClientWithoutACertificate) {
  Error error = get_error(load("    certificate-authority: ca.crt\n", "    token: s3cret\n"));
  EXPECT_EQ(peer_status(error), 0) << error.message;
  EXPECT_EQ(server_->last_request().request_line, "");
}

}  // namespace
}  // namespace tpustack::kube
