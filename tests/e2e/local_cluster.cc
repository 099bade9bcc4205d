#include "tests/e2e/local_cluster.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/topology/topology.h"
#include "tests/e2e/http_call.h"
#include "tests/e2e/jobset_group.h"
#include "tests/support/free_port.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const fakes::GroupResource kPods{"", "pods"};
const fakes::GroupResource kNodes{"", "nodes"};
const fakes::GroupResource kConfigMaps{"", "configmaps"};
const fakes::GroupResource kNamespaces{"", "namespaces"};
const fakes::GroupResource kMutatingWebhooks{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"};
constexpr const char* kPoolLabel = "cloud.google.com/gke-nodepool";
constexpr const char* kSliceAnnotation = "tpustack.dev/slice";

std::string name_of(const json& object) { return object["metadata"].value("name", ""); }

std::string address() { return "127.0.0.1:" + std::to_string(testing::free_port()); }

std::string annotation(const json& object, const std::string& key) {
  return object["metadata"].value("annotations", json::object()).value(key, "");
}

std::string label(const json& object, const std::string& key) {
  return object["metadata"].value("labels", json::object()).value(key, "");
}

std::string phase(const json& pod) { return pod.value("status", json::object()).value("phase", "Pending"); }

bool active(const json& pod) { return phase(pod) != "Succeeded" && phase(pod) != "Failed"; }

// Hosts of the slice a node's labels name (chips in its topology over chips per host), 0 when they name none.
int slice_hosts(const json& node) {
  const int per_host = std::atoi(label(node, "cloud.google.com/gke-accelerator-count").c_str());
  const std::string topology = label(node, "cloud.google.com/gke-tpu-topology");
  if (per_host <= 0 || topology.empty()) return 0;
  const auto shape = topology::parse_topology_syntax(topology);
  return shape ? shape->chips() / per_host : 0;
}

}  // namespace

LocalCluster::LocalCluster(ClusterOptions options) : options_(std::move(options)) {
  std::filesystem::create_directories(options_.work_dir);
  api_.start();
  kubeconfig_ = options_.work_dir + "/kubeconfig";
  std::ofstream(kubeconfig_) << "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
                             << "clusters: [{name: local, cluster: {server: '" << api_.url() << "'}}]\n"
                             << "users: [{name: e2e, user: {token: e2e-token}}]\n"
                             << "contexts: [{name: local, context: {cluster: local, user: e2e}}]\n";
  std::ofstream(options_.work_dir + "/device-plugin.yaml")
      << "kubeconfig: " << kubeconfig_ << "\ndiscoveryRetry: 500ms\n";
  for (int replica = 0; replica < options_.extender_replicas; ++replica) {
    extender_urls_.push_back("http://" + address());
    if (options_.admission_webhook) webhook_addresses_.push_back(address());
  }
  if (options_.admission_webhook) register_webhook();
  extenders_.resize(extender_urls_.size());
  scheduler_ = std::make_unique<SchedulerDriver>(api_.store(), extender_urls_, options_.narrate,
                                                 options_.scheduler_flush_interval);
}

LocalCluster::~LocalCluster() {
  workers_.clear();
  agents_.clear();
  extenders_.clear();
  api_.stop();
}

void LocalCluster::register_webhook() {
  // As manifests/extender/webhook.yaml has it; tpu-extender fills in the caBundle of its own CA.
  api_.store().create(
      kMutatingWebhooks, "",
      {{"apiVersion", "admissionregistration.k8s.io/v1"},
       {"kind", "MutatingWebhookConfiguration"},
       {"metadata", {{"name", "tpu-extender-webhook"}}},
       {"webhooks", json::array({{{"name", "pods.tpustack.dev"},
                                  {"clientConfig",
                                   {{"service",
                                     {{"namespace", kExtenderNamespace},
                                      {"name", "tpu-extender-webhook"},
                                      {"path", "/mutate"},
                                      {"port", 443}}}}},
                                  {"rules", json::array({{{"operations", {"CREATE"}},
                                                          {"apiGroups", {""}},
                                                          {"apiVersions", {"v1"}},
                                                          {"resources", {"pods"}}}})},
                                  {"namespaceSelector", {{"matchLabels", {{"tpustack.dev/inject", "enabled"}}}}},
                                  {"failurePolicy", "Ignore"},
                                  {"sideEffects", "None"},
                                  {"timeoutSeconds", 5},
                                  {"reinvocationPolicy", "IfNeeded"},
                                  {"admissionReviewVersions", {"v1"}}}})}});
  api_.store().create(kNamespaces, "",
                      {{"apiVersion", "v1"},
                       {"kind", "Namespace"},
                       {"metadata", {{"name", "default"}, {"labels", {{"tpustack.dev/inject", "enabled"}}}}}});
  // The Service's endpoint: the first replica (a Service would pick any ready one).
  api_.route_service(std::string(kExtenderNamespace) + "/tpu-extender-webhook:443", webhook_addresses_.front());
}

HttpReply LocalCluster::create(const std::string& collection_path, const json& object) {
  return http_call("POST", api_.url(), collection_path, object.dump());
}

void LocalCluster::start_extender() {
  for (int replica = 0; replica < static_cast<int>(extenders_.size()); ++replica) start_extender(replica, true);
}

void LocalCluster::kill_extender() {
  for (int replica = 0; replica < static_cast<int>(extenders_.size()); ++replica) kill_extender(replica);
}

void LocalCluster::start_extender(int replica, bool wait_ready) {
  const std::string& url = extender_urls_.at(replica);
  const std::string listen = url.substr(std::string("http://").size());
  std::vector<std::string> argv{options_.binary_dir + "/extender/tpu-extender",
                                "serve",
                                "--kubeconfig",
                                kubeconfig_,
                                "--listen",
                                listen,
                                "--metrics-addr",
                                address(),
                                "--provisioner",
                                options_.provisioner,
                                "--simulated-node-delay",
                                options_.simulated_node_delay,
                                "--pool-deletion-grace",
                                options_.pool_deletion_grace,
                                "--max-pool-operations",
                                std::to_string(options_.max_pool_operations)};
  // One replica needs no Lease; several elect the one that provisions.
  if (extenders_.size() == 1) argv.push_back("--no-leader-election");
  if (options_.admission_webhook) {
    argv.push_back("--webhook-listen");
    argv.push_back(webhook_addresses_.at(replica));
  }
  testing::ChildProcess* process = nullptr;
  {
    std::lock_guard lock(extenders_mu_);
    const std::string log = options_.work_dir + "/tpu-extender-" + std::to_string(++extender_starts_) + ".log";
    extenders_[replica] = std::make_unique<testing::ChildProcess>(
        argv,
        std::vector<std::string>{"POD_NAME=tpu-extender-" + std::to_string(replica),
                                 std::string("POD_NAMESPACE=") + kExtenderNamespace},
        log);
    process = extenders_[replica].get();
  }
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (wait_ready && http_call("GET", url, "/readyz").status != 200) {
    if (!process->running() || std::chrono::steady_clock::now() > until) {
      throw std::runtime_error("tpu-extender did not become ready:\n" + process->output());
    }
    std::this_thread::sleep_for(100ms);
  }
  options_.narrate("tpu-extender serve is ready on " + listen +
                   " (filter/prioritize/bind for the scheduler, the simulated node-pool provisioner inside)");
}

void LocalCluster::kill_extender(int replica) {
  std::lock_guard lock(extenders_mu_);
  extenders_.at(replica)->signal(SIGKILL);
  extenders_[replica]->wait(10s);
}

bool LocalCluster::extender_ready(int replica) {
  return http_call("GET", extender_urls_.at(replica), "/readyz").status == 200;
}

std::string LocalCluster::extender_output() const {
  std::lock_guard lock(extenders_mu_);
  std::string output;
  for (std::size_t replica = 0; replica < extenders_.size(); ++replica) {
    if (!extenders_[replica]) continue;
    if (extenders_.size() > 1) output += "--- replica " + std::to_string(replica) + " (latest start)\n";
    output += extenders_[replica]->output();
  }
  return output;
}

std::string LocalCluster::diagnosis(int workers, const std::set<std::string>& finished) {
  std::string text = "scheduling:\n";
  const GroupTally tally = tally_groups(workers, finished);
  for (const auto& group : tally.partial) text += "partly bound: " + group + "\n";
  for (const auto& group : tally.waiting) text += "not bound: " + group + "\n";
  for (const auto& violation : violations_) text += "violation: " + violation + "\n";
  for (const auto& [pod, why] : scheduler_->failures()) text += pod + ": " + why + "\n";
  return text + "tpu-extender:\n" + extender_output();
}

std::vector<json> LocalCluster::nodes() { return api_.store().objects(kNodes); }
std::vector<json> LocalCluster::pods() { return api_.store().objects(kPods); }

GroupTally LocalCluster::tally_groups(int workers, const std::set<std::string>& finished) {
  std::map<std::string, int> bound;
  for (const json& pod : pods()) {
    bound[label(pod, "jobset.sigs.k8s.io/jobset-name")] += pod["spec"].value("nodeName", "").empty() ? 0 : 1;
  }
  GroupTally tally;
  for (const auto& [group, count] : bound) {
    if (finished.contains(group)) continue;
    (count == workers ? tally.placed : count == 0 ? tally.waiting : tally.partial).push_back(group);
  }
  return tally;
}

std::map<std::string, NodeAgent*> LocalCluster::agents() {
  std::map<std::string, NodeAgent*> result;
  for (auto& [name, agent] : agents_) result[name] = agent.get();
  return result;
}

void LocalCluster::tick() {
  sync_nodes();
  collect_orphans();
  // Only nodes whose allocatable this kubelet already keeps: a Node the provider wrote a moment ago still
  // shows the provider's capacity, not the chips a device plugin advertises.
  std::vector<json> known;
  for (const json& node : nodes()) {
    if (!options_.node_agents || agents_.contains(name_of(node))) known.push_back(node);
  }
  scheduler_->schedule_pending(known);
  if (options_.start_workers) start_bound_pods();
  check_promises();
  check_pools();
}

bool LocalCluster::run_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    tick();
    if (done()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

void LocalCluster::sync_nodes() {
  if (!options_.node_agents) return;
  std::set<std::string> present;
  for (const json& node : nodes()) {
    const std::string name = name_of(node);
    present.insert(name);
    const std::string pool = label(node, kPoolLabel);
    if (!pool.empty() && pools_seen_.insert(pool).second) {
      options_.narrate("provisioner: node pool " + pool + " is being created (simulated provider)");
    }
    if (!agents_.contains(name)) {
      options_.narrate("node " + name + " appeared: " + label(node, "cloud.google.com/gke-tpu-accelerator") + " " +
                       label(node, "cloud.google.com/gke-tpu-topology") +
                       ", taint google.com/tpu=present:NoSchedule; " +
                       "starting its fake kubelet and tpu-device-plugin --simulate node");
      // The chips the node's labels declare (v6e 4x4 hosts, v5e 2x2 hosts, ...), as on a provisioned node.
      agents_[name] = std::make_unique<NodeAgent>(name, "node", options_.binary_dir,
                                                  options_.work_dir + "/node" + std::to_string(++nodes_started_),
                                                  options_.work_dir + "/device-plugin.yaml");
      std::ofstream(options_.work_dir + "/node" + std::to_string(nodes_started_) + "/name") << name << "\n";
    }
    // The kubelet's part: allocatable follows the healthy chips the device plugin advertises.
    const int healthy = agents_[name]->healthy_chips();
    const json allocatable = node.value("status", json::object()).value("allocatable", json::object());
    if (allocatable.value("google.com/tpu", "") != std::to_string(healthy)) {
      api_.store().patch(kNodes, "", name,
                         {{"status", {{"allocatable", {{"google.com/tpu", std::to_string(healthy)}}}}}},
                         fakes::PatchKind::kMerge, true);
      if (healthy > 0) {
        options_.narrate("kubelet on " + name + ": tpu-device-plugin registered google.com/tpu, " +
                         std::to_string(healthy) + " healthy chips allocatable");
      }
    }
  }
  for (auto it = agents_.begin(); it != agents_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    options_.narrate("node " + it->first + " is gone: its pool was deleted; stopping its device plugin");
    it = agents_.erase(it);
  }
}

void LocalCluster::collect_orphans() {
  std::set<std::string> present;
  for (const json& node : nodes()) present.insert(name_of(node));
  for (const json& pod : pods()) {
    const std::string node = pod["spec"].value("nodeName", "");
    if (!active(pod) || node.empty() || present.contains(node)) continue;
    const std::string ns = pod["metadata"].value("namespace", "default");
    const std::string name = name_of(pod);
    orphaned_.push_back(ns + "/" + name + " on " + node);
    options_.narrate("pod " + name + " ran on node " + node +
                     ", which is gone: PodGC deletes it, its Job makes another");
    workers_.erase(name);  // its container went with the node
    api_.store().remove(kPods, ns, name);
    // The Job controller's replacement, from the same template: unbound, nothing the scheduler or extender wrote.
    json replacement = {
        {"apiVersion", "v1"}, {"kind", "Pod"}, {"spec", pod["spec"]}, {"status", {{"phase", "Pending"}}}};
    replacement["metadata"] = {{"name", name},
                               {"namespace", ns},
                               {"uid", name + "-uid-" + std::to_string(orphaned_.size())},
                               {"labels", pod["metadata"].value("labels", json::object())},
                               {"ownerReferences", pod["metadata"].value("ownerReferences", json::array())},
                               {"annotations", json::object()}};
    const json annotations = pod["metadata"].value("annotations", json::object());
    for (const auto& [key, value] : annotations.items()) {
      if (!key.starts_with("tpustack.dev/")) replacement["metadata"]["annotations"][key] = value;
    }
    replacement["spec"].erase("nodeName");
    api_.store().create(kPods, ns, replacement);
  }
}

void LocalCluster::start_bound_pods() {
  for (const json& pod : pods()) {
    const std::string name = name_of(pod);
    const std::string node = pod["spec"].value("nodeName", "");
    if (node.empty() || phase(pod) != "Pending" || workers_.contains(name) || !agents_.contains(node)) continue;
    if (agents_[node]->healthy_chips() < tpu_request(pod)) continue;
    RunningWorker& worker = workers_[name];
    worker.pod = name;
    worker.node = node;
    worker.env = agents_[node]->allocate(tpu_request(pod));
    // The manifests' downward-API entries: the placement the extender recorded at bind.
    worker.env["TPU_WORKER_ID"] = annotation(pod, "tpustack.dev/worker-id");
    worker.env["TPU_WORKER_HOSTNAMES"] = annotation(pod, "tpustack.dev/worker-hostnames");
    options_.narrate("kubelet on " + node + ": " + name + " gets " + std::to_string(tpu_request(pod)) +
                     " chips; Allocate says TPU_ACCELERATOR_TYPE=" + worker.env["TPU_ACCELERATOR_TYPE"] +
                     ", the placement says TPU_WORKER_ID=" + worker.env["TPU_WORKER_ID"]);
    start_worker(worker, pod);
    api_.store().patch(kPods, pod["metadata"].value("namespace", "default"), name, {{"status", {{"phase", "Running"}}}},
                       fakes::PatchKind::kMerge, true);
  }
}

void LocalCluster::start_worker(RunningWorker& worker, const json& pod) {
  std::vector<std::string> argv{
      options_.binary_dir + "/inferd/inferd", "serve", "--grpc-listen", "127.0.0.1:0", "--threads", "1"};
  for (const std::string& model : options_.models) {
    argv.push_back("--model");
    argv.push_back(model);
  }
  const std::string listen = address();
  argv.push_back("--listen");
  argv.push_back(listen);
  worker.url = "http://" + listen;
  std::vector<std::string> env;
  for (const auto& [key, value] : worker.env) env.push_back(key + "=" + value);
  worker.inferd =
      std::make_unique<testing::ChildProcess>(argv, env, options_.work_dir + "/inferd-" + worker.pod + ".log");
  if (!worker.inferd->wait_for_line("inferd serving", 60s)) {
    throw std::runtime_error("inferd for " + name_of(pod) + " did not start:\n" + worker.inferd->output());
  }
  const HttpReply info = http_call("GET", worker.url, "/info");
  worker.info = info.status == 200 ? json::parse(info.body) : json::object();
  const std::string model = options_.models.front().substr(0, options_.models.front().find('='));
  const HttpReply embed =
      http_call("POST", worker.url, "/embed", json{{"model", model}, {"inputs", "a TPU slice"}}.dump());
  worker.embed_dimensions = embed.status == 200 ? static_cast<int>(json::parse(embed.body).at(0).size()) : 0;
  const json role = worker.info.value("worker", json::object());
  options_.narrate("inferd in " + worker.pod + ": role " + role.value("role", "?") + " (worker " +
                   std::to_string(role.value("id", -1)) + " of " + std::to_string(role.value("workers", 0)) +
                   "), /embed answered a " + std::to_string(worker.embed_dimensions) + "-number vector");
}

void LocalCluster::restart_worker(const std::string& pod) {
  RunningWorker& worker = workers_.at(pod);
  worker.inferd.reset();
  for (const json& object : pods()) {
    if (name_of(object) == pod) start_worker(worker, object);
  }
}

void LocalCluster::finish_group(const std::string& ns, const std::string& name, int workers) {
  for (const json& pod : pods()) {
    if (label(pod, "jobset.sigs.k8s.io/jobset-name") != name || !workers_.contains(name_of(pod))) continue;
    RunningWorker& worker = workers_[name_of(pod)];
    if (worker.inferd) worker.inferd->terminate(30s);
  }
  complete_jobset_group(api_.store(), ns, name, workers);
  options_.narrate("group " + ns + "/" + name + " finished: its " + std::to_string(workers) +
                   " pods Succeeded, its Job Complete, its JobSet Completed");
}

void LocalCluster::violation(const std::string& text) {
  // Seen on every tick until it ends: once is enough.
  if (std::find(violations_.begin(), violations_.end(), text) == violations_.end()) violations_.push_back(text);
}

void LocalCluster::check_promises() {
  std::map<std::string, std::string> group_on_slice;
  std::map<std::string, std::string> slice_of_group;
  std::map<std::string, std::string> group_key_on_slice;  // as tpu-extender keys a JobSet's group
  std::map<std::string, int> chips_on_node;
  for (const json& pod : pods()) {
    if (!active(pod) || pod["spec"].value("nodeName", "").empty()) continue;
    chips_on_node[pod["spec"].value("nodeName", "")] += tpu_request(pod);
    const std::string slice = annotation(pod, kSliceAnnotation);
    const std::string group = label(pod, "jobset.sigs.k8s.io/jobset-name");
    if (slice.empty()) continue;
    group_key_on_slice[slice] =
        pod["metadata"].value("namespace", "default") + "/jobset-job:" + label(pod, "jobset.sigs.k8s.io/job-key");
    auto [holder, first] = group_on_slice.try_emplace(slice, group);
    if (!first && holder->second != group) {
      violation("slice " + slice + " holds " + holder->second + " and " + group);
    }
    auto [held, first_slice] = slice_of_group.try_emplace(group, slice);
    if (!first_slice && held->second != slice) {
      violation("group " + group + " is split across slices " + held->second + " and " + slice);
    }
  }
  for (const auto& [node, chips] : chips_on_node) {
    if (chips > 4) violation("node " + node + " has " + std::to_string(chips) + " chips bound");
  }
  // The reservations tpu-extender replicas share: group key → {slice, since}.
  const auto ledger = api_.store().find(kConfigMaps, kExtenderNamespace, "tpu-extender-reservations");
  if (!ledger) return;
  std::map<std::string, std::string> promised;
  const json entries = json::parse(ledger->value("data", json::object()).value("reservations", "{}"));
  for (const auto& [group, entry] : entries.items()) {
    const std::string slice = entry.value("slice", "");
    auto [holder, first] = promised.try_emplace(slice, group);
    if (!first) {
      violation("the reservations promise slice " + slice + " to " + holder->second + " and " + group);
    }
    auto bound = group_key_on_slice.find(slice);
    if (bound != group_key_on_slice.end() && group != bound->second) {
      violation("slice " + slice + " is reserved for " + group + " but holds " + group_on_slice[slice]);
    }
  }
}

void LocalCluster::check_pools() {
  // Pools made for one group (a workload's pools hold many groups' pods and are sized by them).
  std::map<std::string, std::set<std::string>> pools_of_group;
  std::map<std::string, int> nodes_of_pool;
  std::map<std::string, int> hosts_of_pool;
  for (const json& node : nodes()) {
    const std::string group = label(node, "tpustack.dev/group");
    if (group.empty() || label(node, "tpustack.dev/pool-kind") == "workload") continue;
    const std::string pool = label(node, kPoolLabel);
    pools_of_group[label(node, "tpustack.dev/group-namespace") + "/" + group].insert(pool);
    ++nodes_of_pool[pool];
    hosts_of_pool[pool] = slice_hosts(node);
  }
  for (const auto& [group, pools] : pools_of_group) {
    if (pools.size() > 1) {
      violation("group " + group + " has " + std::to_string(pools.size()) + " pools at once: " + *pools.begin() + ", " +
                *std::next(pools.begin()));
    }
  }
  for (const auto& [pool, count] : nodes_of_pool) {
    if (hosts_of_pool[pool] > 0 && count > hosts_of_pool[pool]) {
      violation("pool " + pool + " has " + std::to_string(count) + " nodes for a slice of " +
                std::to_string(hosts_of_pool[pool]) + " hosts");
    }
  }
}

}  // namespace tpustack::e2e
