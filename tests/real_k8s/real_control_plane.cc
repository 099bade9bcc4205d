#include "tests/real_k8s/real_control_plane.h"

#include <cpprest/http_client.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/kube/event.h"
#include "common/kube/resource.h"
#include "common/topology/slice_spec.h"
#include "tests/support/free_port.h"
#include "tests/support/result_matchers.h"

namespace tpustack::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string read_file(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tail(const std::string& text, size_t bytes = 4000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

std::string random_token() {
  std::random_device random;
  std::ostringstream token;
  for (int i = 0; i < 4; ++i) token << std::hex << random();
  return token.str();
}

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

// Runs a short command (openssl) to completion; throws with its output when it fails.
void run(const std::vector<std::string>& argv, const std::string& log) {
  ChildProcess child(argv, {}, log);
  const std::optional<int> status = child.wait(60s);
  if (status != 0) throw std::runtime_error(argv[0] + " " + argv[1] + " failed:\n" + child.output());
}

// Polls `url` until it answers 200, the process dies, or `timeout` passes.
void wait_until_ok(ChildProcess& process, const std::string& what, const std::string& url, const std::string& ca_pem,
                   const std::string& token, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (http_get_status(url, ca_pem, token) != 200) {
    if (!process.running()) throw std::runtime_error(what + " exited:\n" + tail(process.output()));
    if (std::chrono::steady_clock::now() > until) {
      throw std::runtime_error(what + " not ready at " + url + " after " + std::to_string(timeout.count()) + "s:\n" +
                               tail(process.output()));
    }
    std::this_thread::sleep_for(250ms);
  }
}

}  // namespace

json kubelet_node_status(const std::string& node_name, int chips) {
  json resources = {{"cpu", "8"}, {"memory", "64Gi"}, {"pods", "110"}};
  if (chips > 0) resources["google.com/tpu"] = std::to_string(chips);
  const std::string now = kube::rfc3339(std::chrono::system_clock::now());
  return {{"status",
           {{"capacity", resources},
            {"allocatable", resources},
            {"addresses", {{{"type", "Hostname"}, {"address", node_name}}}},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"reason", "KubeletReady"},
               {"message", "no kubelet: written by the test"},
               {"lastHeartbeatTime", now},
               {"lastTransitionTime", now}}}}}}};
}

int http_get_status(const std::string& url, const std::string& ca_pem, const std::string& token) {
  web::http::client::http_client_config config;
  config.set_timeout(5s);
  if (!ca_pem.empty()) {
    config.set_ssl_context_callback(
        [ca_pem](boost::asio::ssl::context& ctx) { ctx.add_certificate_authority(boost::asio::buffer(ca_pem)); });
  }
  try {
    web::http::client::http_client client(url, config);
    web::http::http_request request(web::http::methods::GET);
    if (!token.empty()) request.headers().add("Authorization", "Bearer " + token);
    web::http::http_response response = client.request(request).get();
    response.extract_utf8string(true).get();
    return response.status_code();
  } catch (const std::exception&) {
    return 0;
  }
}

std::string default_kubernetes_cache() {
  const char* cache = std::getenv("TPUSTACK_K8S_CACHE");
  return cache != nullptr && *cache != '\0' ? cache : "/var/cache/tpustack/kubernetes-1.20.2";
}

bool kubernetes_cache_ready(const std::string& cache_dir) {
  namespace fs = std::filesystem;
  if (!fs::exists(cache_dir + "/.built-v1.20.2")) return false;
  for (const char* binary : {"etcd", "kube-apiserver", "kube-scheduler"}) {
    if (!fs::exists(cache_dir + "/bin/" + binary)) return false;
  }
  return true;
}

RealControlPlane::RealControlPlane(ControlPlaneOptions options) : options_(std::move(options)) {
  if (!kubernetes_cache_ready(options_.cache_dir)) {
    throw std::runtime_error("no Kubernetes build in " + options_.cache_dir + " (run scripts/build-kubernetes.sh)");
  }
  std::filesystem::create_directories(options_.work_dir);
  make_certificates();
  start_etcd();
  start_apiserver();
}

RealControlPlane::~RealControlPlane() {
  // Clients first, then the processes in the reverse order of their start.
  client_.reset();
  scheduler_.reset();
  apiserver_.reset();
  etcd_.reset();
}

void RealControlPlane::make_certificates() {
  // A CA, the apiserver's serving certificate for 127.0.0.1/localhost, and the service-account key pair
  // (v1.20 requires an issuer and a signing key). The admin identity is a bearer token in system:masters.
  std::ofstream(path("openssl.cnf")) << "[req]\ndistinguished_name = dn\n[dn]\n"
                                     << "[ca]\nbasicConstraints = critical,CA:TRUE\n"
                                     << "keyUsage = critical,keyCertSign,cRLSign,digitalSignature\n"
                                     << "subjectKeyIdentifier = hash\n"
                                     << "[server]\nbasicConstraints = CA:FALSE\n"
                                     << "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                     << "extendedKeyUsage = serverAuth\n"
                                     << "subjectAltName = IP:127.0.0.1,DNS:localhost\n";
  const std::string log = path("openssl.log");
  const std::string cnf = path("openssl.cnf");
  run({"openssl", "req", "-x509", "-config", cnf, "-extensions", "ca", "-newkey", "rsa:2048", "-nodes", "-keyout",
       path("ca.key"), "-out", path("ca.crt"), "-days", "3650", "-subj", "/CN=tpustack-test-ca"},
      log);
  run({"openssl", "req", "-new", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", path("apiserver.key"),
       "-out", path("apiserver.csr"), "-subj", "/CN=kube-apiserver"},
      log);
  run({"openssl", "x509", "-req", "-in", path("apiserver.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
       "-set_serial", "2", "-days", "3650", "-extfile", cnf, "-extensions", "server", "-out", path("apiserver.crt")},
      log);
  run({"openssl", "genrsa", "-out", path("sa.key"), "2048"}, log);
  run({"openssl", "rsa", "-in", path("sa.key"), "-pubout", "-out", path("sa.pub")}, log);
  token_ = random_token();
  std::ofstream(path("tokens.csv")) << token_ << ",admin,admin,\"system:masters\"\n";
}

void RealControlPlane::start_etcd() {
  const std::string client_url = "http://" + loopback(free_port());
  const std::string peer_url = "http://" + loopback(free_port());
  etcd_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{options_.cache_dir + "/bin/etcd", "--name", "tpustack", "--data-dir", path("etcd"),
                               "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                               "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                               "--initial-cluster", "tpustack=" + peer_url, "--logger", "zap"},
      std::vector<std::string>{}, path("etcd.log"));
  wait_until_ok(*etcd_, "etcd", client_url + "/health", "", "", options_.start_timeout);
  etcd_url_ = client_url;
}

void RealControlPlane::start_apiserver() {
  const int port = free_port();
  server_ = "https://" + loopback(port);
  apiserver_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{
          options_.cache_dir + "/bin/kube-apiserver",
          "--etcd-servers=" + etcd_url_,
          "--bind-address=127.0.0.1",
          "--secure-port=" + std::to_string(port),
          "--insecure-port=0",  // v1.20 still opens http://127.0.0.1:8080 by default
          "--advertise-address=127.0.0.1",
          "--endpoint-reconciler-type=none",  // a loopback address is invalid in the `kubernetes` Endpoints
          "--tls-cert-file=" + path("apiserver.crt"),
          "--tls-private-key-file=" + path("apiserver.key"),
          "--cert-dir=" + path("apiserver-certs"),
          "--token-auth-file=" + path("tokens.csv"),
          "--authorization-mode=RBAC",
          "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
          "--service-account-key-file=" + path("sa.pub"),
          "--service-account-signing-key-file=" + path("sa.key"),
          "--service-cluster-ip-range=10.96.0.0/16",
          // No controller-manager creates the `default` ServiceAccount, and no node lifecycle controller
          // removes the not-ready taint that TaintNodesByCondition puts on every new Node.
          "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
          "--profiling=false",
      },
      std::vector<std::string>{}, path("kube-apiserver.log"));
  wait_until_ok(*apiserver_, "kube-apiserver", server_ + "/readyz", read_file(path("ca.crt")), token_,
                options_.start_timeout);
  kubeconfig_ = path("kubeconfig");
  std::ofstream(kubeconfig_)
      << "apiVersion: v1\nkind: Config\ncurrent-context: real\n"
      << "clusters:\n- name: real\n  cluster:\n    server: " << server_ << "\n"
      << "    certificate-authority: " << path("ca.crt") << "\n"
      << "users:\n- name: admin\n  user:\n    token: " << token_ << "\n"
      << "contexts:\n- name: real\n  context: {cluster: real, user: admin, namespace: default}\n";
  client_ = std::make_unique<kube::KubeClient>(cluster_config());
}

void RealControlPlane::start_scheduler(const SchedulerOptions& options) {
  // v1beta1 is the newest KubeSchedulerConfiguration v1.20 reads. An empty healthz/metrics address is
  // replaced by 0.0.0.0:10251, so both get a free loopback port; HTTPS serving is off (--secure-port=0).
  // The queue's backoff timings stay at their defaults.
  const std::string health = loopback(free_port());
  std::ofstream config(path("kube-scheduler.yaml"));
  config << "apiVersion: kubescheduler.config.k8s.io/v1beta1\nkind: KubeSchedulerConfiguration\n"
         << "clientConnection:\n  kubeconfig: " << kubeconfig_ << "\n"
         << "leaderElection:\n  leaderElect: false\n"
         << "healthzBindAddress: " << health << "\nmetricsBindAddress: " << health << "\n"
         << "percentageOfNodesToScore: 100\n"
         << "profiles:\n- schedulerName: " << options.scheduler_name << "\n";
  if (!options.extender_url.empty()) {
    config << "extenders:\n- urlPrefix: " << options.extender_url << "\n"
           << "  filterVerb: filter\n  prioritizeVerb: prioritize\n  bindVerb: bind\n  weight: 1\n"
           << "  nodeCacheCapable: true\n  ignorable: false\n";
    if (options.extender_url.rfind("https://", 0) == 0) {
      config << "  enableHTTPS: true\n  tlsConfig:\n    certFile: " << options.extender_tls.cert_file
             << "\n    keyFile: " << options.extender_tls.key_file << "\n    caFile: " << options.extender_tls.ca_file
             << "\n";
    }
    config << "  managedResources:\n  - name: google.com/tpu\n    ignoredByScheduler: "
           << (options.ignored_by_scheduler ? "true" : "false") << "\n";
  }
  config.close();
  scheduler_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{options_.cache_dir + "/bin/kube-scheduler", "--config=" + path("kube-scheduler.yaml"),
                               "--secure-port=0", "--v=2"},
      std::vector<std::string>{}, path("kube-scheduler.log"));
  wait_until_ok(*scheduler_, "kube-scheduler", "http://" + health + "/healthz", "", "", options_.start_timeout);
}

kube::ClusterConfig RealControlPlane::cluster_config() const { return kube::load_kubeconfig(kubeconfig_).value(); }

json RealControlPlane::create_tpu_node(const TpuNodeSpec& spec) {
  const std::string chips = std::to_string(spec.chips);
  json labels = {{"kubernetes.io/hostname", spec.name},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", "amd64"},
                 {"cloud.google.com/gke-tpu-accelerator", spec.accelerator},
                 {"cloud.google.com/gke-tpu-topology", spec.topology},
                 {"cloud.google.com/gke-nodepool", spec.pool.empty() ? spec.name : spec.pool},
                 {"cloud.google.com/gke-accelerator-count", chips}};
  try {
    labels["node.kubernetes.io/instance-type"] =
        topology::SliceSpec::make(spec.accelerator, spec.topology, spec.chips).value().machine_type();
  } catch (const std::exception&) {
    // A shape no VM builds: a test of how the extender treats odd nodes; no machine type then.
  }
  for (const auto& [key, value] : spec.labels) labels[key] = value;
  json taints = json::array();
  if (spec.tpu_taint) taints.push_back({{"key", "google.com/tpu"}, {"value", "present"}, {"effect", "NoSchedule"}});
  value_of(client_->create(kube::resources::kNodes, "",
                           {{"apiVersion", "v1"},
                            {"kind", "Node"},
                            {"metadata", {{"name", spec.name}, {"labels", labels}}},
                            {"spec", {{"taints", taints}}}}));
  // Nothing else updates the status, so the node stays Ready.
  return value_of(client_->patch(kube::resources::kNodes, "", spec.name, kubelet_node_status(spec.name, spec.chips),
                                 kube::PatchType::kMerge, "status"));
}

void RealControlPlane::install_jobset_crd() {
  const kube::Resource crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
  const json schema = {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}};
  const json version = {{"name", kube::resources::kJobSets.version},
                        {"served", true},
                        {"storage", true},
                        {"subresources", {{"status", json::object()}}},
                        {"schema", schema}};
  const json spec = {{"group", kube::resources::kJobSets.group},
                     {"scope", "Namespaced"},
                     {"names", {{"plural", "jobsets"}, {"singular", "jobset"}, {"kind", "JobSet"}}},
                     {"versions", json::array({version})}};
  value_of(client_->create(crds, "",
                           {{"apiVersion", crds.api_version()},
                            {"kind", "CustomResourceDefinition"},
                            {"metadata", {{"name", "jobsets." + kube::resources::kJobSets.group}}},
                            {"spec", spec}}));
  // Established comes first; the REST path is served a moment later.
  const auto until = std::chrono::steady_clock::now() + options_.start_timeout;
  while (true) {
    auto jobsets = client_->list(kube::resources::kJobSets, "default");
    if (jobsets) return;
    if (!kube::not_found(jobsets.error()) || std::chrono::steady_clock::now() > until) {
      throw std::runtime_error(jobsets.error().message);
    }
    std::this_thread::sleep_for(100ms);
  }
}

std::string RealControlPlane::etcd_output() const { return etcd_ ? etcd_->output() : ""; }
std::string RealControlPlane::apiserver_output() const { return apiserver_ ? apiserver_->output() : ""; }
std::string RealControlPlane::scheduler_output() const { return scheduler_ ? scheduler_->output() : ""; }

}  // namespace tpustack::testing
