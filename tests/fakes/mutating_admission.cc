#include "tests/fakes/mutating_admission.h"

#include <atomic>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/encoding/base64.h"
#include "tests/support/result_matchers.h"

namespace tpustack::fakes {
namespace {

using nlohmann::json;
using tpustack::testing::value_of;
namespace beast = boost::beast;
namespace asio = boost::asio;

const GroupResource kConfigurations{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"};
const GroupResource kNamespaces{"", "namespaces"};

bool lists(const json& values, const std::string& value) {
  if (!values.is_array()) return false;
  for (const auto& v : values) {
    if (v == "*" || v == value) return true;
  }
  return false;
}

bool rule_matches(const json& webhook, const GroupResource& resource, const std::string& version) {
  for (const auto& rule : webhook.value("rules", json::array())) {
    if (lists(rule.value("operations", json()), "CREATE") && lists(rule.value("apiGroups", json()), resource.group) &&
        lists(rule.value("apiVersions", json()), version) &&
        lists(rule.value("resources", json()), resource.resource)) {
      return true;
    }
  }
  return false;
}

// metav1.LabelSelector (matchLabels, matchExpressions) in the string form LabelSelector reads; absent matches all.
LabelSelector selector_of(const json& selector) {
  std::string text;
  auto add = [&](const std::string& requirement) { text += (text.empty() ? "" : ",") + requirement; };
  if (selector.is_object()) {
    const json match_labels = selector.value("matchLabels", json::object());  // items() must not outlive it
    for (const auto& [key, value] : match_labels.items()) {
      add(key + "=" + value.get<std::string>());
    }
    for (const auto& expression : selector.value("matchExpressions", json::array())) {
      const std::string key = expression.at("key");
      const std::string op = expression.at("operator");
      std::string values;
      for (const auto& v : expression.value("values", json::array())) {
        values += (values.empty() ? "" : ",") + v.get<std::string>();
      }
      if (op == "In") add(key + " in (" + values + ")");
      if (op == "NotIn") add(key + " notin (" + values + ")");
      if (op == "Exists") add(key);
      if (op == "DoesNotExist") add("!" + key);
    }
  }
  return LabelSelector::parse(text);
}

// Where a webhook call goes: the address connected to, the name its certificate must carry, the path.
struct Endpoint {
  std::string host;
  std::string port;
  std::string verify_name;
  std::string path;
};

Endpoint endpoint_of(const json& config, const MutatingAdmission::ServiceRoutes& services) {
  if (config.contains("url")) {
    static const std::regex kUrl(R"(https://([^/:]+):(\d+)(/.*)?)");
    const std::string url = config["url"];
    std::smatch parts;
    if (!std::regex_match(url, parts, kUrl)) throw std::runtime_error("not an https://HOST:PORT/PATH URL: " + url);
    return {parts[1], parts[2], parts[1], parts[3].matched ? parts[3].str() : "/"};
  }
  const json& service = config.at("service");
  const std::string name = service.at("name"), ns = service.at("namespace");
  const std::string key = ns + "/" + name + ":" + std::to_string(service.value("port", 443));
  auto route = services.find(key);
  if (route == services.end()) throw std::runtime_error("service " + key + " is not routed to anything in this test");
  const auto colon = route->second.rfind(':');
  return {route->second.substr(0, colon), route->second.substr(colon + 1), name + "." + ns + ".svc",
          service.value("path", "/")};
}

// POSTs `body` over HTTPS, trusting only `ca_pem`; the response body of a 200, else throws.
std::string post_https(const Endpoint& to, const std::string& ca_pem, std::chrono::seconds timeout,
                       const std::string& body) {
  asio::io_context io;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_peer);
  if (ca_pem.empty()) {
    tls.set_default_verify_paths();
  } else {
    tls.add_certificate_authority(asio::buffer(ca_pem));
  }
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  stream.set_verify_callback(asio::ssl::host_name_verification(to.verify_name));
  if (!SSL_set_tlsext_host_name(stream.native_handle(), to.verify_name.c_str())) {
    throw std::runtime_error("cannot set the TLS server name");
  }
  beast::get_lowest_layer(stream).expires_after(timeout);
  asio::ip::tcp::resolver resolver(io);
  beast::get_lowest_layer(stream).connect(resolver.resolve(to.host, to.port));
  stream.handshake(asio::ssl::stream_base::client);
  beast::http::request<beast::http::string_body> request(beast::http::verb::post, to.path, 11);
  request.set(beast::http::field::host, to.verify_name);
  request.set(beast::http::field::content_type, "application/json");
  request.set(beast::http::field::accept, "application/json");
  request.body() = body;
  request.prepare_payload();
  beast::http::write(stream, request);
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> response;
  beast::http::read(stream, buffer, response);
  if (response.result_int() != 200) {
    throw std::runtime_error("the webhook answered HTTP " + std::to_string(response.result_int()));
  }
  return response.body();
}

struct Call {
  const json& webhook;
  const GroupResource& resource;
  const std::string& version;
  const std::string& ns;
  const MutatingAdmission::ServiceRoutes& services;
};

// One webhook call: the object after its patch. Throws std::runtime_error for a failed call (subject to
// failurePolicy) and ApiFailure for a denial.
json call(const Call& c, const json& object, int counter) {
  const json& config = c.webhook.value("clientConfig", json::object());
  const Endpoint to = endpoint_of(config, c.services);
  const std::string uid = "admission-" + std::to_string(counter);
  const std::string kind = object.value("kind", "");
  const json group_kind = {{"group", c.resource.group}, {"version", c.version}, {"kind", kind}};
  const json group_resource = {{"group", c.resource.group}, {"version", c.version}, {"resource", c.resource.resource}};
  json review = {{"apiVersion", "admission.k8s.io/v1"},
                 {"kind", "AdmissionReview"},
                 {"request",
                  {{"uid", uid},
                   {"kind", group_kind},
                   {"resource", group_resource},
                   {"requestKind", group_kind},
                   {"requestResource", group_resource},
                   {"name", object["metadata"].value("name", "")},
                   {"namespace", c.ns},
                   {"operation", "CREATE"},
                   {"userInfo", {{"username", "system:serviceaccount:kube-system:job-controller"}}},
                   {"object", object},
                   {"oldObject", nullptr},
                   {"dryRun", false},
                   {"options", {{"apiVersion", "meta.k8s.io/v1"}, {"kind", "CreateOptions"}}}}}};
  const std::string ca =
      config.contains("caBundle") ? value_of(base64_decode(config["caBundle"].get<std::string>())) : "";
  const json answer =
      json::parse(post_https(to, ca, std::chrono::seconds(c.webhook.value("timeoutSeconds", 10)), review.dump()));
  if (answer.value("apiVersion", "") != "admission.k8s.io/v1" || answer.value("kind", "") != "AdmissionReview") {
    throw std::runtime_error("the webhook did not answer an admission.k8s.io/v1 AdmissionReview");
  }
  const json& response = answer.at("response");
  if (response.value("uid", "") != uid) throw std::runtime_error("the webhook answered for another request uid");
  if (!response.value("allowed", false)) {
    const json status = response.value("status", json::object());
    throw ApiFailure(
        status.value("code", 403), "Forbidden",
        "admission webhook \"" + c.webhook.value("name", "") + "\" denied the request: " + status.value("message", ""));
  }
  if (!response.contains("patch")) return object;
  if (response.value("patchType", "") != "JSONPatch") throw std::runtime_error("patchType must be JSONPatch");
  return object.patch(json::parse(value_of(base64_decode(response["patch"].get<std::string>()))));
}

}  // namespace

json MutatingAdmission::admit_create(const GroupResource& resource, const std::string& version, const std::string& ns,
                                     json object) const {
  json namespace_object = {{"metadata", json::object()}};
  if (!ns.empty()) {
    if (auto found = store_.find(kNamespaces, "", ns)) namespace_object = *found;
  }
  std::vector<json> webhooks;
  for (const json& configuration : store_.objects(kConfigurations)) {
    for (const json& webhook : configuration.value("webhooks", json::array())) {
      if (!rule_matches(webhook, resource, version)) continue;
      if (!ns.empty() && !selector_of(webhook.value("namespaceSelector", json())).matches(namespace_object)) continue;
      if (!selector_of(webhook.value("objectSelector", json())).matches(object)) continue;
      webhooks.push_back(webhook);
    }
  }
  static std::atomic<int> counter{0};
  std::vector<json> left(webhooks.size());  // the object as each webhook left it
  auto run = [&](std::size_t i) {
    const json& webhook = webhooks[i];
    try {
      object = call({webhook, resource, version, ns, services_}, object, ++counter);
      left[i] = object;
    } catch (const ApiFailure&) {
      throw;
    } catch (const std::exception& e) {
      const std::string message = "failed calling webhook \"" + webhook.value("name", "") + "\": " + e.what();
      if (webhook.value("failurePolicy", "Fail") == "Ignore") {
        spdlog::warn("fake API server: {}; ignored (failurePolicy Ignore)", message);
        return;
      }
      throw ApiFailure(500, "InternalError", "Internal error occurred: " + message);
    }
  };
  for (std::size_t i = 0; i < webhooks.size(); ++i) run(i);
  for (std::size_t i = 0; i < webhooks.size(); ++i) {
    if (webhooks[i].value("reinvocationPolicy", "Never") == "IfNeeded" && left[i] != object) run(i);
  }
  return object;
}

}  // namespace tpustack::fakes
