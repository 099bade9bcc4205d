#include "extender/provisioning/gke_provider.h"

#include <cpprest/http_client.h>
#include <spdlog/spdlog.h>

#include "extender/provisioning/gke_node_pool_json.h"
#include "extender/provisioning/interruptible_sleep.h"
#include "extender/provisioning/provider_error.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

// google.rpc.Code numbers as Operation.error carries them.
std::string rpc_status_name(int code) {
  switch (code) {
    case 3:
      return "INVALID_ARGUMENT";
    case 4:
      return "DEADLINE_EXCEEDED";
    case 5:
      return "NOT_FOUND";
    case 6:
      return "ALREADY_EXISTS";
    case 7:
      return "PERMISSION_DENIED";
    case 8:
      return "RESOURCE_EXHAUSTED";
    case 9:
      return "FAILED_PRECONDITION";
    case 10:
      return "ABORTED";
    case 13:
      return "INTERNAL";
    case 14:
      return "UNAVAILABLE";
    default:
      return "UNKNOWN";
  }
}

std::string resolve(const std::string& value, MetadataServer& metadata, const char* key) {
  return value.empty() ? metadata.get(key) : value;
}

}  // namespace

GkeProvider::GkeProvider(GkeSettings settings) : settings_(std::move(settings)), metadata_(settings_.metadata_url) {
  settings_.project = resolve(settings_.project, metadata_, "project/project-id");
  settings_.location = resolve(settings_.location, metadata_, "instance/attributes/cluster-location");
  settings_.cluster = resolve(settings_.cluster, metadata_, "instance/attributes/cluster-name");
  spdlog::info("gke provider: cluster {}", cluster_path());
}

std::string GkeProvider::cluster_path() const {
  return "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/clusters/" + settings_.cluster;
}

json GkeProvider::call(const std::string& method, const std::string& path, const json& body) {
  web::http::client::http_client_config config;
  config.set_timeout(settings_.request_timeout);
  try {
    web::http::client::http_client client(settings_.api_url, config);
    web::http::http_request request(method);
    request.set_request_uri(path);
    request.headers().add("Authorization", "Bearer " + metadata_.access_token());
    if (!body.is_null()) request.set_body(body.dump(), "application/json");
    web::http::http_response response = client.request(request).get();
    std::string text = response.extract_utf8string(true).get();
    json reply = json::parse(text, nullptr, /*allow_exceptions=*/false);
    int status = response.status_code();
    if (status >= 200 && status < 300) {
      if (reply.is_discarded())
        throw ProviderError(status, "", "GKE answered " + method + " " + path + " with no JSON");
      return reply;
    }
    const json error = reply.is_object() ? reply.value("error", json::object()) : json::object();
    std::string message = error.value("message", text.substr(0, 300));
    throw ProviderError(status, error.value("status", ""),
                        "GKE " + method + " " + path + ": " + std::to_string(status) + " " + message);
  } catch (const web::http::http_exception& e) {
    throw ProviderError(0, "UNAVAILABLE", "no answer from GKE for " + method + " " + path + ": " + e.what());
  }
}

void GkeProvider::wait_for(const json& operation, std::stop_token stop) {
  const std::string name = operation.value("name", "");
  const std::string path =
      "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/operations/" + name;
  const auto deadline = std::chrono::steady_clock::now() + settings_.operation_timeout;
  json current = operation;
  while (current.value("status", "") != "DONE") {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw ProviderError(0, "DEADLINE_EXCEEDED", "GKE operation " + name + " did not finish in time");
    }
    if (!sleep_unless_stopped(stop, settings_.poll_interval)) {
      throw ProviderError(0, "CANCELLED", "stopped while waiting for GKE operation " + name);
    }
    try {
      current = call("GET", path);
    } catch (const ProviderError& e) {
      if (e.kind() != FailureKind::kTransient) throw;
      spdlog::warn("gke provider: polling {}: {}; polling again", name, e.what());
    }
  }
  if (current.contains("error") && current["error"].is_object()) {
    const json& error = current["error"];
    throw ProviderError(200, rpc_status_name(error.value("code", 2)),
                        "GKE operation " + name + " failed: " + error.value("message", "no message"));
  }
}

std::vector<PoolState> GkeProvider::list() {
  json reply = call("GET", cluster_path() + "/nodePools");
  std::vector<PoolState> pools;
  for (const json& pool : reply.value("nodePools", json::array())) pools.push_back(parse_node_pool(pool));
  return pools;
}

void GkeProvider::create(const PoolSpec& spec, std::stop_token stop) {
  json operation;
  try {
    operation = call("POST", cluster_path() + "/nodePools", node_pool_create_body(spec, settings_.defaults));
  } catch (const ProviderError& e) {
    if (e.http_status() == 409) return;  // created earlier, by us before a restart or a retry
    throw;
  }
  wait_for(operation, stop);
}

void GkeProvider::resize(const std::string& pool, int node_count, std::stop_token stop) {
  wait_for(call("POST", cluster_path() + "/nodePools/" + pool + ":setSize", {{"nodeCount", node_count}}), stop);
}

void GkeProvider::remove(const std::string& pool, std::stop_token stop) {
  json operation;
  try {
    operation = call("DELETE", cluster_path() + "/nodePools/" + pool);
  } catch (const ProviderError& e) {
    if (e.http_status() == 404) return;
    throw;
  }
  try {
    wait_for(operation, stop);
  } catch (const ProviderError& e) {
    if (e.rpc_status() != "NOT_FOUND") throw;
  }
}

}  // namespace tpustack::provisioning
