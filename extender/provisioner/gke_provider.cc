#include "extender/provisioner/gke_provider.h"

#include <thread>

#include <cpprest/http_client.h>
#include <spdlog/spdlog.h>

#include "common/json/parse_json.h"
#include "common/lifecycle/interruptible_sleep.h"
#include "extender/provisioning/gke_node_pool_json.h"
#include "extender/provisioning/gke_operation.h"
#include "extender/provisioning/provider_error.h"
#include "extender/provisioning/workload_policy.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// Runs `attempt` (returning a Result) until it succeeds, `retry(error)` says no, or `patience` is spent, backing
// off in between.
template <typename Attempt, typename Retry>
auto patiently(const std::string& what, const GkeSettings& settings, Attempt attempt, Retry retry)
    -> decltype(attempt()) {
  retry::Backoff backoff(settings.start_retry);
  const auto deadline = Clock::now() + settings.start_patience;
  while (true) {
    auto result = attempt();
    if (result) return result;
    const Error& e = result.error();
    const auto delay = backoff.next();
    if (!retry(e) || Clock::now() + delay >= deadline) {
      return Error{what + ": " + e.message + " (tried " + std::to_string(backoff.attempts()) + " times)", e.kind,
                   e.peer};
    }
    spdlog::warn("gke provider: {}: {}; trying again in {}ms", what, e.message, delay.count());
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace

GkeProvider::GkeProvider(GkeSettings settings) : settings_(std::move(settings)), metadata_(settings_.metadata_url) {}

Result<std::unique_ptr<GkeProvider>> GkeProvider::start(GkeSettings settings) {
  std::unique_ptr<GkeProvider> provider(new GkeProvider(std::move(settings)));
  if (auto started = provider->connect(); !started) return started.error();
  return provider;
}

Result<void> GkeProvider::connect() {
  if (settings_.oauth_scopes.empty()) settings_.oauth_scopes = {kCloudPlatformScope};
  auto resolve = [this](std::string& value, const char* key) -> Result<void> {
    if (!value.empty()) return {};
    auto found = metadata_.get(key);
    if (!found) return found.error();
    value = std::move(*found);
    return {};
  };
  // Any refusal may be a Workload Identity metadata server that does not know this pod yet.
  auto asked = patiently(
      "asking the metadata server " + settings_.metadata_url, settings_,
      [&]() -> Result<void> {
        for (auto [value, key] : {std::pair{&settings_.project, "project/project-id"},
                                  std::pair{&settings_.location, "instance/attributes/cluster-location"},
                                  std::pair{&settings_.cluster, "instance/attributes/cluster-name"}}) {
          if (auto resolved = resolve(*value, key); !resolved) return resolved;
        }
        auto token = metadata_.access_token();
        if (!token) return token.error();
        return {};
      },
      [](const Error&) { return true; });
  if (!asked) return asked;
  const auto cluster = patiently(
      "reading cluster " + cluster_path(), settings_, [&] { return call("GET", cluster_path()); },
      [](const Error& e) { return failure_kind(e) == FailureKind::kTransient; });
  if (!cluster) return cluster.error();
  cluster_ = parse_cluster(*cluster);
  fit_ = fit_cluster(cluster_, settings_.defaults.node_locations);
  if (fit_.unusable) {
    return provider_error(400, "FAILED_PRECONDITION",
                          "cluster " + cluster_path() + " cannot be used: " + *fit_.unusable);
  }
  for (const std::string& warning : fit_.warnings) spdlog::warn("gke provider: {}", warning);
  spdlog::info("gke provider: cluster {} ({}, master {}), TPU pools in zone {}, auto-upgrade {}", cluster_path(),
               cluster_.regional() ? "regional" : "zonal", cluster_.master_version, fit_.default_zone,
               fit_.auto_upgrade_off ? "off" : "as the release channel " + cluster_.release_channel + " sets it");
  report_workload_policies();
  return {};
}

std::string GkeProvider::cluster_path() const {
  return "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/clusters/" + settings_.cluster;
}

Result<json> GkeProvider::call(const std::string& method, const std::string& path, const json& body,
                               const std::string& base) {
  const std::string& url = base.empty() ? settings_.api_url : base;
  auto reply = call_once(url, method, path, body);
  if (reply || peer_status(reply.error()) != 401) return reply;
  spdlog::warn("gke provider: {}; fetching a new token", reply.error().message);
  metadata_.invalidate_token();
  return call_once(url, method, path, body);
}

Result<json> GkeProvider::call_once(const std::string& base, const std::string& method, const std::string& path,
                                    const json& body) {
  auto token = metadata_.access_token();
  if (!token) return token.error();
  web::http::client::http_client_config config;
  config.set_timeout(settings_.request_timeout);
  // cpprestsdk reports a connection that fails by exception; converted here, naming the request.
  try {
    web::http::client::http_client client(base, config);
    web::http::http_request request(method);
    request.set_request_uri(path);
    request.headers().add("Authorization", "Bearer " + *token);
    if (!body.is_null()) request.set_body(body.dump(), "application/json");
    web::http::http_response response = client.request(request).get();
    std::string text = response.extract_utf8string(true).get();
    json reply = json::parse(text, nullptr, /*allow_exceptions=*/false);
    int status = response.status_code();
    if (status >= 200 && status < 300) {
      if (reply.is_discarded())
        return provider_error(status, "", "GKE answered " + method + " " + path + " with no JSON");
      return reply;
    }
    const json& error = tpustack::json::member(reply, "error");
    const json& message = tpustack::json::member(error, "message");
    const json& rpc_status = tpustack::json::member(error, "status");
    return provider_error(status, rpc_status.is_string() ? rpc_status.get<std::string>() : "",
                          "GKE " + method + " " + path + ": " + std::to_string(status) + " " +
                              (message.is_string() ? message.get<std::string>() : text.substr(0, 300)));
  } catch (const web::http::http_exception& e) {
    return provider_error(0, "UNAVAILABLE", "no answer from " + base + " for " + method + " " + path + ": " + e.what());
  }
}

Result<void> GkeProvider::wait_for(const json& operation, std::stop_token stop) {
  const std::string name = operation.value("name", "");
  const std::string path =
      "/v1/projects/" + settings_.project + "/locations/" + settings_.location + "/operations/" + name;
  const auto deadline = Clock::now() + settings_.operation_timeout;
  json current = operation;
  while (!operation_finished(current)) {
    if (Clock::now() >= deadline) {
      return provider_error(0, "DEADLINE_EXCEEDED", "GKE operation " + name + " did not finish in time");
    }
    if (!lifecycle::sleep_unless_stopped(stop, settings_.poll_interval)) {
      return provider_error(0, "CANCELLED", "stopped while waiting for GKE operation " + name);
    }
    auto polled = call("GET", path);
    if (polled) {
      current = std::move(*polled);
    } else if (failure_kind(polled.error()) != FailureKind::kTransient) {
      return polled.error();
    } else {
      spdlog::warn("gke provider: polling {}: {}; polling again", name, polled.error().message);
    }
  }
  if (auto failure = operation_failure(current)) return *failure;
  return {};
}

void GkeProvider::report_workload_policies() {
  const std::string region = region_of(cluster_.location);
  const std::string& prefix = settings_.defaults.workload_policy_prefix;
  auto list = call("GET", "/compute/v1/projects/" + settings_.project + "/regions/" + region + "/resourcePolicies",
                   nullptr, settings_.compute_url);
  if (!list) {
    spdlog::warn("gke provider: cannot list workload policies in {} ({}); each tpu7x multi-host pool checks its own",
                 region, list.error().message);
    return;
  }
  std::string found;
  for (const auto& [name, topology] : workload_policies(*list, prefix)) found += " " + name + " (" + topology + ")";
  spdlog::info(
      "gke provider: tpu7x multi-host pools can use the workload policies in {}:{}; any other topology "
      "fails until its policy {}<topology> is created",
      region, found.empty() ? " none" : found, prefix);
}

Result<void> GkeProvider::require_workload_policy(const PoolSpec& spec) {
  if (spec.workload_policy.empty()) return {};
  const WorkloadPolicyRef ref{settings_.project, region_of(cluster_.location), spec.workload_policy,
                              spec.slice.topology().to_string()};
  json policy;
  auto read =
      call("GET", "/compute/v1/projects/" + ref.project + "/regions/" + ref.region + "/resourcePolicies/" + ref.name,
           nullptr, settings_.compute_url);
  if (read) {
    policy = std::move(*read);
  } else if (peer_status(read.error()) != 404) {
    spdlog::warn("gke provider: cannot read workload policy {} ({}); GKE will say", ref.name, read.error().message);
    return {};
  }
  if (auto problem = workload_policy_problem(ref, policy)) return provider_error(400, "FAILED_PRECONDITION", *problem);
  return {};
}

Result<std::vector<PoolState>> GkeProvider::list() {
  auto reply = call("GET", cluster_path() + "/nodePools");
  if (!reply) return reply.error();
  const json& listed = tpustack::json::member(*reply, "nodePools");
  std::vector<PoolState> pools;
  if (!listed.is_array()) return pools;
  for (const json& pool : listed) pools.push_back(parse_node_pool(pool));
  return pools;
}

Result<void> GkeProvider::create(const PoolSpec& spec, std::stop_token stop) {
  auto zone = pool_zone(spec, cluster_, fit_);
  if (!zone) return zone.error();
  const GkePoolOptions options{*zone, fit_.auto_upgrade_off, settings_.oauth_scopes};
  if (auto policy = require_workload_policy(spec); !policy) return policy;
  auto operation =
      call("POST", cluster_path() + "/nodePools", node_pool_create_body(spec, settings_.defaults, options));
  if (!operation) {
    if (peer_status(operation.error()) == 409) return {};  // created earlier, by us
    return operation.error();                              // before a restart or a retry
  }
  return wait_for(*operation, stop);
}

Result<void> GkeProvider::resize(const std::string& pool, int node_count, std::stop_token stop) {
  auto operation = call("POST", cluster_path() + "/nodePools/" + pool + ":setSize", {{"nodeCount", node_count}});
  if (!operation) return operation.error();
  return wait_for(*operation, stop);
}

Result<void> GkeProvider::remove(const std::string& pool, std::stop_token stop) {
  auto operation = call("DELETE", cluster_path() + "/nodePools/" + pool);
  if (!operation) {
    if (peer_status(operation.error()) == 404) return {};
    return operation.error();
  }
  auto waited = wait_for(*operation, stop);
  if (!waited && peer_reason(waited.error()) == "NOT_FOUND") return {};
  return waited;
}

}  // namespace tpustack::provisioning
