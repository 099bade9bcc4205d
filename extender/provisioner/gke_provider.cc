#include "extender/provisioner/gke_provider.h"

#include <thread>

#include <cpprest/http_client.h>
#include <spdlog/spdlog.h>

#include "common/lifecycle/interruptible_sleep.h"
#include "extender/provisioning/gke_node_pool_json.h"
#include "extender/provisioning/gke_operation.h"
#include "extender/provisioning/provider_error.h"
#include "extender/provisioning/workload_policy.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Runs `attempt` until it succeeds, `retry(error)` says no, or `patience` is spent, backing off in between.
template <typename Attempt, typename Retry>
auto patiently(const std::string& what, const GkeSettings& settings, Attempt attempt, Retry retry) {
  retry::Backoff backoff(settings.start_retry);
  const auto deadline = Clock::now() + settings.start_patience;
  while (true) {
    try {
      return attempt();
    } catch (const ProviderError& e) {
      const auto delay = backoff.next();
      if (!retry(e) || Clock::now() + delay >= deadline) {
        throw ProviderError(e.http_status(), e.rpc_status(),
                            what + ": " + e.what() + " (tried " + std::to_string(backoff.attempts()) + " times)");
      }
      spdlog::warn("gke provider: {}: {}; trying again in {}ms", what, e.what(), delay.count());
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace

GkeProvider::GkeProvider(GkeSettings settings) : settings_(std::move(settings)), metadata_(settings_.metadata_url) {
  if (settings_.oauth_scopes.empty()) settings_.oauth_scopes = {kCloudPlatformScope};
  auto resolve = [this](std::string& value, const char* key) {
    if (value.empty()) value = metadata_.get(key);
  };
  // Any refusal may be a Workload Identity metadata server that does not know this pod yet.
  patiently(
      "asking the metadata server " + settings_.metadata_url, settings_,
      [&] {
        resolve(settings_.project, "project/project-id");
        resolve(settings_.location, "instance/attributes/cluster-location");
        resolve(settings_.cluster, "instance/attributes/cluster-name");
        return metadata_.access_token();
      },
      [](const ProviderError&) { return true; });
  const json cluster = patiently(
      "reading cluster " + cluster_path(), settings_, [&] { return call("GET", cluster_path()); },
      [](const ProviderError& e) { return e.kind() == FailureKind::kTransient; });
  cluster_ = parse_cluster(cluster);
  fit_ = fit_cluster(cluster_, settings_.defaults.node_locations);
  if (fit_.unusable) {
    throw ProviderError(400, "FAILED_PRECONDITION", "cluster " + cluster_path() + " cannot be used: " + *fit_.unusable);
  }
  for (const std::string& warning : fit_.warnings) spdlog::warn("gke provider: {}", warning);
  spdlog::info("gke provider: cluster {} ({}, master {}), TPU pools in zone {}, auto-upgrade {}", cluster_path(),
               cluster_.regional() ? "regional" : "zonal", cluster_.master_version, fit_.default_zone,
               fit_.auto_upgrade_off ? "off" : "as the release channel " + cluster_.release_channel + " sets it");
  report_workload_policies();
}

std::string GkeProvider::cluster_path() const {
  return "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/clusters/" + settings_.cluster;
}

json GkeProvider::call(const std::string& method, const std::string& path, const json& body, const std::string& base) {
  const std::string& url = base.empty() ? settings_.api_url : base;
  try {
    return call_once(url, method, path, body);
  } catch (const ProviderError& e) {
    if (e.http_status() != 401) throw;
    spdlog::warn("gke provider: {}; fetching a new token", e.what());
    metadata_.invalidate_token();
    return call_once(url, method, path, body);
  }
}

json GkeProvider::call_once(const std::string& base, const std::string& method, const std::string& path,
                            const json& body) {
  web::http::client::http_client_config config;
  config.set_timeout(settings_.request_timeout);
  try {
    web::http::client::http_client client(base, config);
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
    throw ProviderError(0, "UNAVAILABLE", "no answer from " + base + " for " + method + " " + path + ": " + e.what());
  }
}

void GkeProvider::wait_for(const json& operation, std::stop_token stop) {
  const std::string name = operation.value("name", "");
  const std::string path =
      "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/operations/" + name;
  const auto deadline = Clock::now() + settings_.operation_timeout;
  json current = operation;
  while (!operation_finished(current)) {
    if (Clock::now() >= deadline) {
      throw ProviderError(0, "DEADLINE_EXCEEDED", "GKE operation " + name + " did not finish in time");
    }
    if (!lifecycle::sleep_unless_stopped(stop, settings_.poll_interval)) {
      throw ProviderError(0, "CANCELLED", "stopped while waiting for GKE operation " + name);
    }
    try {
      current = call("GET", path);
    } catch (const ProviderError& e) {
      if (e.kind() != FailureKind::kTransient) throw;
      spdlog::warn("gke provider: polling {}: {}; polling again", name, e.what());
    }
  }
  if (auto failure = operation_failure(current)) throw *failure;
}

void GkeProvider::report_workload_policies() {
  const std::string region = region_of(cluster_.location);
  const std::string& prefix = settings_.defaults.workload_policy_prefix;
  try {
    json list = call("GET", "/compute/v1/projects/" + settings_.project + "/regions/" + region + "/resourcePolicies",
                     nullptr, settings_.compute_url);
    std::string found;
    for (const auto& [name, topology] : workload_policies(list, prefix)) found += " " + name + " (" + topology + ")";
    spdlog::info(
        "gke provider: tpu7x multi-host pools can use the workload policies in {}:{}; any other topology "
        "fails until its policy {}<topology> is created",
        region, found.empty() ? " none" : found, prefix);
  } catch (const ProviderError& e) {
    spdlog::warn("gke provider: cannot list workload policies in {} ({}); each tpu7x multi-host pool checks its own",
                 region, e.what());
  }
}

void GkeProvider::require_workload_policy(const PoolSpec& spec) {
  if (spec.workload_policy.empty()) return;
  const WorkloadPolicyRef ref{settings_.project, region_of(cluster_.location), spec.workload_policy,
                              spec.slice.topology().to_string()};
  json policy;
  try {
    policy =
        call("GET", "/compute/v1/projects/" + ref.project + "/regions/" + ref.region + "/resourcePolicies/" + ref.name,
             nullptr, settings_.compute_url);
  } catch (const ProviderError& e) {
    if (e.http_status() != 404) {
      spdlog::warn("gke provider: cannot read workload policy {} ({}); GKE will say", ref.name, e.what());
      return;
    }
  }
  if (auto problem = workload_policy_problem(ref, policy)) throw ProviderError(400, "FAILED_PRECONDITION", *problem);
}

std::vector<PoolState> GkeProvider::list() {
  json reply = call("GET", cluster_path() + "/nodePools");
  std::vector<PoolState> pools;
  for (const json& pool : reply.value("nodePools", json::array())) pools.push_back(parse_node_pool(pool));
  return pools;
}

void GkeProvider::create(const PoolSpec& spec, std::stop_token stop) {
  const GkePoolOptions options{pool_zone(spec, cluster_, fit_), fit_.auto_upgrade_off, settings_.oauth_scopes};
  require_workload_policy(spec);
  json operation;
  try {
    operation = call("POST", cluster_path() + "/nodePools", node_pool_create_body(spec, settings_.defaults, options));
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
