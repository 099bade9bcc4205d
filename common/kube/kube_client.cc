#include "common/kube/kube_client.h"

#include <mutex>
#include <optional>
#include <thread>

#include <cpprest/http_client.h>
#include <spdlog/spdlog.h>

#include "common/kube/rotating_token.h"
#include "common/kube/token_bucket.h"

namespace tpustack::kube {
namespace {

namespace http = web::http;
using nlohmann::json;

constexpr std::string_view kJson = "application/json";

std::string_view content_type(PatchType type) {
  return type == PatchType::kMerge ? "application/merge-patch+json" : "application/json-patch+json";
}

std::string describe(const http::method& method, const std::string& target) { return method + " " + target; }

}  // namespace

struct KubeClient::Transport {
  struct Reply {
    int status = 0;
    std::string body;
  };

  Transport(ClusterConfig cfg, ClientOptions opts)
      : config(std::move(cfg)),
        options(std::move(opts)),
        limiter(options.qps, options.burst, TokenBucket::Clock::now()),
        client(config.server, client_config(options.request_timeout)),
        watch_client(config.server, client_config(options.watch_idle_timeout)) {
    if (!config.token_file.empty()) token_file.emplace(config.token_file);
  }

  http::client::http_client_config client_config(std::chrono::seconds timeout) const {
    http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(!config.insecure_skip_tls_verify);
    if (!config.ca_pem.empty() || !config.client_cert_pem.empty()) {
      cfg.set_ssl_context_callback([ca = config.ca_pem, cert = config.client_cert_pem,
                                    key = config.client_key_pem](boost::asio::ssl::context& ctx) {
        if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca));
        if (!cert.empty()) {
          ctx.use_certificate_chain(boost::asio::buffer(cert));
          ctx.use_private_key(boost::asio::buffer(key), boost::asio::ssl::context::pem);
        }
      });
    }
    return cfg;
  }

  // Waits for a token of the client-side rate limit.
  void throttle() {
    TokenBucket::Clock::duration wait;
    {
      std::lock_guard lock(limiter_mu);
      wait = limiter.reserve(TokenBucket::Clock::now());
    }
    if (wait > TokenBucket::Clock::duration::zero()) std::this_thread::sleep_for(wait);
  }

  Result<http::http_request> make_request(const http::method& method, const std::string& target,
                                          const std::string* body, std::string_view type) {
    http::http_request request(method);
    request.set_request_uri(target);
    request.headers().add("Accept", std::string(kJson));
    request.headers().add("User-Agent", options.user_agent);
    auto token = token_file ? token_file->get() : Result<std::string>(config.token);
    if (!token) return token.error();
    if (!token->empty()) request.headers().add("Authorization", "Bearer " + *token);
    if (body != nullptr) request.set_body(*body, std::string(type));
    return request;
  }

  Result<Reply> send(const http::method& method, const std::string& target, const std::string* body = nullptr,
                     std::string_view type = kJson) {
    throttle();
    auto request = make_request(method, target, body, type);
    if (!request) return api_error(0, "", describe(method, target) + ": " + request.error().message);
    try {
      auto response = client.request(*request).get();
      Reply reply{response.status_code(), response.extract_utf8string(/*ignore_content_type=*/true).get()};
      spdlog::debug("kube {} -> {}", describe(method, target), reply.status);
      return reply;
    } catch (const std::exception& e) {
      return api_error(0, "", describe(method, target) + ": " + e.what());
    }
  }

  Result<json> call(const http::method& method, const std::string& target, const json* body = nullptr,
                    std::string_view type = kJson) {
    std::string text = body ? body->dump() : "";
    auto reply = send(method, target, body ? &text : nullptr, type);
    if (!reply) return reply.error();
    if (reply->status < 200 || reply->status > 299) {
      return error_from_response(reply->status, reply->body, describe(method, target));
    }
    auto doc = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded())
      return error_from_response(502, reply->body, describe(method, target) + ": reply is not JSON");
    return doc;
  }

  ClusterConfig config;
  ClientOptions options;
  std::mutex limiter_mu;
  TokenBucket limiter;
  std::optional<RotatingToken> token_file;
  http::client::http_client client;
  http::client::http_client watch_client;
};

KubeClient::KubeClient(ClusterConfig config, ClientOptions options)
    : transport_(std::make_unique<Transport>(std::move(config), std::move(options))) {}

KubeClient::~KubeClient() = default;

const ClusterConfig& KubeClient::config() const { return transport_->config; }

Result<json> KubeClient::get(const Resource& resource, std::string_view ns, std::string_view name,
                             std::string_view subresource) {
  return transport_->call(http::methods::GET, object_path(resource, ns, name, subresource));
}

Result<ObjectList> KubeClient::list(const Resource& resource, std::string_view ns, const ListOptions& options) {
  auto reply = transport_->call(http::methods::GET, collection_path(resource, ns) + list_query(options));
  if (!reply) return reply.error();
  ObjectList list;
  if (auto items = reply->find("items"); items != reply->end() && items->is_array()) {
    list.items.reserve(items->size());
    for (auto& item : *items) list.items.push_back(std::move(item));
  }
  if (auto metadata = reply->find("metadata"); metadata != reply->end() && metadata->is_object()) {
    list.resource_version = metadata->value("resourceVersion", "");
    list.continue_token = metadata->value("continue", "");
  }
  return list;
}

Result<ObjectList> KubeClient::list_all(const Resource& resource, std::string_view ns, ListOptions options) {
  auto all = list(resource, ns, options);
  if (!all) return all;
  while (!all->continue_token.empty()) {
    options.continue_token = all->continue_token;
    auto page = list(resource, ns, options);
    if (!page) return page;
    std::move(page->items.begin(), page->items.end(), std::back_inserter(all->items));
    all->continue_token = page->continue_token;
  }
  return all;
}

Result<json> KubeClient::create(const Resource& resource, std::string_view ns, const json& object) {
  return transport_->call(http::methods::POST, collection_path(resource, ns), &object);
}

Result<json> KubeClient::replace(const Resource& resource, std::string_view ns, std::string_view name,
                                 const json& object, std::string_view subresource) {
  return transport_->call(http::methods::PUT, object_path(resource, ns, name, subresource), &object);
}

Result<json> KubeClient::patch(const Resource& resource, std::string_view ns, std::string_view name, const json& patch,
                               PatchType type, std::string_view subresource) {
  return transport_->call(http::methods::PATCH, object_path(resource, ns, name, subresource), &patch,
                          content_type(type));
}

Result<json> KubeClient::remove(const Resource& resource, std::string_view ns, std::string_view name,
                                const DeleteOptions& options) {
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds >= 0) body["gracePeriodSeconds"] = options.grace_period_seconds;
  return transport_->call(http::methods::DEL, object_path(resource, ns, name), &body);
}

Result<void> KubeClient::bind_pod(std::string_view ns, std::string_view pod, std::string_view node) {
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", pod}, {"namespace", ns}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  auto bound = transport_->call(http::methods::POST, object_path(resources::kPods, ns, pod, "binding"), &binding);
  if (!bound) return bound.error();
  return {};
}

Result<json> KubeClient::create_event(const json& involved, EventType type, std::string_view reason,
                                      std::string_view message) {
  json event =
      make_event(involved, type, reason, message, transport_->options.component, std::chrono::system_clock::now());
  const std::string ns = event["metadata"]["namespace"];
  return create(resources::kEvents, ns, event);
}

Result<void> KubeClient::watch(const Resource& resource, std::string_view ns, const WatchOptions& options,
                               const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  Transport& t = *transport_;
  const std::string target = collection_path(resource, ns) + watch_query(options);
  const std::string what = describe(http::methods::GET, target);
  t.throttle();

  pplx::cancellation_token_source cancel;
  // Both cancel the request and end the body, so a read blocked on a silent stream returns at once.
  std::optional<concurrency::streams::streambuf<uint8_t>> body;
  std::mutex body_mu;
  std::stop_callback on_stop(stop, [&] {
    cancel.cancel();
    std::lock_guard lock(body_mu);
    if (body) body->close(std::ios_base::out).wait();
  });
  if (stop.stop_requested()) return {};

  auto request = t.make_request(http::methods::GET, target, nullptr, kJson);
  if (!request) return api_error(0, "", what + ": " + request.error().message);
  http::http_response response;
  try {
    response = t.watch_client.request(*request, cancel.get_token()).get();
  } catch (const std::exception& e) {
    if (stop.stop_requested()) return {};
    return api_error(0, "", what + ": " + e.what());
  }
  if (response.status_code() != http::status_codes::OK) {
    std::string text;
    try {
      text = response.extract_utf8string(true).get();
    } catch (const std::exception&) {
      // The status alone still says what went wrong.
    }
    return error_from_response(response.status_code(), text, what);
  }
  {
    std::lock_guard lock(body_mu);
    body = response.body().streambuf();
    if (stop.stop_requested()) return {};
  }

  LineSplitter lines;
  std::vector<char> buffer(64 * 1024);
  while (!stop.stop_requested()) {
    std::size_t got = 0;
    try {
      std::size_t want = std::clamp<std::size_t>(body->in_avail(), 1, buffer.size());
      got = body->getn(reinterpret_cast<uint8_t*>(buffer.data()), want).get();
    } catch (const std::exception& e) {
      if (stop.stop_requested()) return {};
      return api_error(0, "", what + ": watch stream broke: " + e.what());
    }
    if (got == 0) {
      if (stop.stop_requested()) return {};
      // A clean end leaves no partial line; a stream cut mid-event is a broken one.
      if (lines.pending() > 0) return api_error(0, "", what + ": watch stream ended inside an event");
      try {
        response.content_ready().wait();
      } catch (const std::exception& e) {
        return api_error(0, "", what + ": watch stream broke: " + e.what());
      }
      return {};
    }
    for (const std::string& line : lines.feed(std::string_view(buffer.data(), got))) {
      auto event = parse_watch_event(line);
      if (!event) return api_error(502, "InvalidResponse", what + ": " + event.error().message);
      if (!on_event(*event)) return {};
    }
  }
  return {};
}

}  // namespace tpustack::kube
