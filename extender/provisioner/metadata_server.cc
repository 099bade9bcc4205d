#include "extender/provisioner/metadata_server.h"

#include <cpprest/http_client.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {
namespace {

constexpr auto kRefreshMargin = std::chrono::seconds(60);

}  // namespace

MetadataServer::MetadataServer(std::string base_url) : base_url_(std::move(base_url)) {}

Result<std::string> MetadataServer::get(const std::string& key) const {
  web::http::client::http_client_config config;
  config.set_timeout(std::chrono::seconds(10));
  // cpprestsdk reports a connection that fails by exception; converted here, naming the server.
  try {
    web::http::client::http_client client(base_url_, config);
    web::http::http_request request(web::http::methods::GET);
    request.set_request_uri("/computeMetadata/v1/" + key);
    request.headers().add("Metadata-Flavor", "Google");
    web::http::http_response response = client.request(request).get();
    std::string body = response.extract_utf8string(true).get();
    if (response.status_code() != 200) {
      return provider_error(response.status_code(), "",
                            "metadata server " + base_url_ + " refused " + key + ": " + body.substr(0, 200));
    }
    return body;
  } catch (const web::http::http_exception& e) {
    return provider_error(0, "UNAVAILABLE", "no answer from the metadata server " + base_url_ + ": " + e.what());
  }
}

Result<std::string> MetadataServer::access_token() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now < refresh_at_) return token_;
  const auto text = get("instance/service-accounts/default/token");
  if (!text) return text.error();
  nlohmann::json reply = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const auto token = reply.is_object() ? reply.find("access_token") : reply.end();
  const auto expires_in = reply.is_object() ? reply.find("expires_in") : reply.end();
  if (!reply.is_object() || token == reply.end() || !token->is_string()) {
    return provider_error(0, "UNAUTHENTICATED", "the metadata server gave no access_token");
  }
  token_ = token->get<std::string>();
  const bool counted = expires_in != reply.end() && expires_in->is_number_integer();
  auto lifetime = std::chrono::seconds(counted ? expires_in->get<std::int64_t>() : 0);
  refresh_at_ = now + std::max(std::chrono::seconds(0), lifetime - kRefreshMargin);
  spdlog::debug("metadata server: new access token, valid for {}s", lifetime.count());
  return token_;
}

void MetadataServer::invalidate_token() {
  std::lock_guard lock(mu_);
  token_.clear();
}

}  // namespace tpustack::provisioning
