#include "tests/e2e/scheduler_driver.h"

#include <algorithm>
#include <future>

#include "tests/e2e/http_call.h"

namespace tpustack::e2e {
namespace {

using nlohmann::json;

const fakes::GroupResource kPods{"", "pods"};
constexpr const char* kTpu = "google.com/tpu";

std::string name_of(const json& object) { return object["metadata"].value("name", ""); }
std::string key_of(const json& pod) { return pod["metadata"].value("namespace", "default") + "/" + name_of(pod); }

int quantity(const json& map, const std::string& name) {
  if (!map.is_object() || !map.contains(name)) return 0;
  const json& value = map[name];
  return value.is_string() ? std::stoi(value.get<std::string>()) : value.get<int>();
}

bool terminated(const json& pod) {
  const std::string phase = pod.value("status", json::object()).value("phase", "");
  return phase == "Succeeded" || phase == "Failed";
}

bool tolerates(const json& pod, const json& taint) {
  const json tolerations = pod["spec"].value("tolerations", json::array());
  for (const json& toleration : tolerations) {
    const bool key_matches = !toleration.contains("key") || toleration.value("key", "") == taint.value("key", "");
    const bool value_matches =
        toleration.value("operator", "Equal") == "Exists" || toleration.value("value", "") == taint.value("value", "");
    const bool effect_matches =
        toleration.value("effect", "").empty() || toleration.value("effect", "") == taint["effect"];
    if (key_matches && value_matches && effect_matches) return true;
  }
  return false;
}

// What kube-scheduler compares to decide that an update of a parked pod may help it: everything but status.
std::string pod_fingerprint(const json& pod) {
  json meta = pod.value("metadata", json::object());
  return json{{"labels", meta.value("labels", json::object())},
              {"annotations", meta.value("annotations", json::object())},
              {"spec", pod.value("spec", json::object())}}
      .dump();
}

// The Node fields whose change moves parked pods (kube-scheduler's nodeSchedulingPropertiesChange).
std::string node_fingerprint(const json& node) {
  const json status = node.value("status", json::object());
  const json spec = node.value("spec", json::object());
  return json{{"labels", node["metadata"].value("labels", json::object())},
              {"taints", spec.value("taints", json::array())},
              {"unschedulable", spec.value("unschedulable", false)},
              {"allocatable", status.value("allocatable", json::object())},
              {"conditions", status.value("conditions", json::array())}}
      .dump();
}

// kube-scheduler's numFeasibleNodesToFind with the default percentageOfNodesToScore: every node below 100,
// else 50% less 1% per 125 nodes (at least 5%), and never fewer than 100.
std::size_t feasible_nodes_to_find(std::size_t all) {
  if (all < 100) return all;
  const std::size_t percentage = std::max<std::size_t>(5, 50 - std::min<std::size_t>(45, all / 125));
  return std::max<std::size_t>(100, all * percentage / 100);
}

// podInitialBackoffSeconds 1, podMaxBackoffSeconds 10: doubled per attempt.
std::chrono::nanoseconds backoff(int attempts) {
  std::chrono::nanoseconds delay = std::chrono::seconds(1);
  for (int i = 1; i < attempts && delay < std::chrono::seconds(10); ++i) delay *= 2;
  return std::min<std::chrono::nanoseconds>(delay, std::chrono::seconds(10));
}

bool ready(const json& node) {
  const json conditions = node.value("status", json::object()).value("conditions", json::array());
  for (const json& condition : conditions) {
    if (condition.value("type", "") == "Ready") return condition.value("status", "") == "True";
  }
  return false;
}

// "0/6 nodes are available: 2 reason A, 4 reason B." as kube-scheduler summarises.
std::string summary(size_t total, const std::map<std::string, std::string>& reason_by_node) {
  std::map<std::string, int> counts;
  for (const auto& [node, reason] : reason_by_node) ++counts[reason];
  std::string message = "0/" + std::to_string(total) + " nodes are available";
  std::string separator = ": ";
  for (const auto& [reason, count] : counts) {
    message += separator + std::to_string(count) + " " + reason;
    separator = ", ";
  }
  return message + ".";
}

// How kube-scheduler's HTTP extender client words a request that got no usable answer.
std::string extender_failure(const std::string& url, const std::string& path, const HttpReply& reply) {
  const std::string post = "Post \"" + url + path + "\": ";
  return reply.status == 0 ? post + "connection refused" : post + "status " + std::to_string(reply.status);
}

}  // namespace

int tpu_request(const json& pod) {
  int chips = 0;
  const json containers = pod["spec"].value("containers", json::array());
  for (const json& container : containers) {
    chips += quantity(container.value("resources", json::object()).value("requests", json::object()), kTpu);
  }
  return chips;
}

SchedulerDriver::SchedulerDriver(fakes::FakeApiStore& store, std::vector<std::string> extender_urls, Narrate narrate,
                                 std::chrono::nanoseconds flush_interval)
    : store_(store),
      extender_urls_(std::move(extender_urls)),
      pick_(std::random_device{}()),
      narrate_(std::move(narrate)),
      flush_interval_(flush_interval) {}

const std::string& SchedulerDriver::extender() {
  return extender_urls_[std::uniform_int_distribution<std::size_t>(0, extender_urls_.size() - 1)(pick_)];
}

int SchedulerDriver::attempts(const std::string& pod_key) const {
  auto it = attempts_.find(pod_key);
  return it == attempts_.end() ? 0 : it->second.count;
}

bool SchedulerDriver::cluster_event(const std::vector<json>& nodes, const std::vector<json>& pods) {
  bool moved = false;
  std::map<std::string, std::string> fingerprints;
  for (const json& node : nodes) {
    auto& fingerprint = fingerprints[name_of(node)] = node_fingerprint(node);
    auto before = node_fingerprints_.find(name_of(node));
    moved = moved || before == node_fingerprints_.end() || before->second != fingerprint;
  }
  node_fingerprints_ = std::move(fingerprints);
  std::set<std::string> assigned;
  for (const json& pod : pods) {
    if (!pod["spec"].value("nodeName", "").empty()) assigned.insert(key_of(pod));
  }
  for (const auto& key : assigned_) moved = moved || !assigned.contains(key);
  assigned_ = std::move(assigned);
  return moved;
}

void SchedulerDriver::schedule_pending(const std::vector<json>& nodes) {
  finish_binds(false);
  std::vector<json> pods = store_.objects(kPods);
  const bool moved_all = cluster_event(nodes, pods);
  const auto now = Clock::now();
  std::vector<json> queue;
  std::set<std::string> pending;
  for (const json& pod : pods) {
    if (pod["spec"].value("schedulerName", "") != "tpu-scheduler" || !pod["spec"].value("nodeName", "").empty() ||
        terminated(pod)) {
      continue;
    }
    const std::string key = key_of(pod);
    pending.insert(key);
    if (std::any_of(binding_.begin(), binding_.end(), [&](const Binding& b) { return key_of(b.pod) == key; })) continue;
    if (auto parked = parked_.find(key); parked != parked_.end()) {
      Parked& p = parked->second;
      const std::string fingerprint = pod_fingerprint(pod);
      const bool updated_in_backoff = p.moved && fingerprint != p.moved_fingerprint;
      if (!p.moved && (moved_all || p.fingerprint != fingerprint || now - p.since >= flush_interval_)) {
        p.moved = true;
        p.moved_fingerprint = fingerprint;
      }
      const Attempts& tried = attempts_[key];
      if (!p.moved || (!updated_in_backoff && now - tried.last < backoff(tried.count))) continue;
      parked_.erase(parked);
    }
    queue.push_back(pod);
  }
  std::erase_if(parked_, [&](const auto& entry) { return !pending.contains(entry.first); });
  // kube-scheduler's active queue: oldest first. The store lists by name, so within a second a group's pods
  // come in worker order.
  std::stable_sort(queue.begin(), queue.end(), [](const json& a, const json& b) {
    return a["metadata"].value("creationTimestamp", "") < b["metadata"].value("creationTimestamp", "");
  });
  for (const json& pod : queue) {
    const std::string key = key_of(pod);
    auto& tried = attempts_[key];
    ++tried.count;
    tried.last = Clock::now();
    if (!schedule(pod, nodes, pods)) {
      // The fingerprint is the one it was tried with: an update during the attempt (a nudge) moves it at once.
      parked_[key] = Parked{pod_fingerprint(pod), Clock::now(), false, ""};
    }
    pods = store_.objects(kPods);  // a bind changes what the next pod may use
  }
}

std::string SchedulerDriver::predicate_failure(const json& pod, const json& node,
                                               const std::map<std::string, int>& used_chips) const {
  const json labels = node["metadata"].value("labels", json::object());
  const json selector = pod["spec"].value("nodeSelector", json::object());
  for (const auto& [key, value] : selector.items()) {
    if (!labels.contains(key) || labels[key] != value) return "node(s) didn't match Pod's node affinity/selector";
  }
  const json taints = node["spec"].value("taints", json::array());
  for (const json& taint : taints) {
    const std::string effect = taint.value("effect", "");
    if ((effect == "NoSchedule" || effect == "NoExecute") && !tolerates(pod, taint)) {
      return "node(s) had untolerated taint {" + taint.value("key", "") + ": " + taint.value("value", "") + "}";
    }
  }
  if (!ready(node)) return "node(s) were not ready";
  const auto used_here = used_chips.find(name_of(node));
  const int used = used_here == used_chips.end() ? 0 : used_here->second;
  if (quantity(node["status"].value("allocatable", json::object()), kTpu) - used < tpu_request(pod)) {
    return std::string("Insufficient ") + kTpu;
  }
  return "";
}

bool SchedulerDriver::schedule(const json& pod, const std::vector<json>& nodes, const std::vector<json>& pods) {
  std::map<std::string, std::string> failed;
  json feasible = json::array();
  std::map<std::string, int> used_chips;
  for (const json& other : pods) {
    const std::string node = other["spec"].value("nodeName", "");
    if (!node.empty() && !terminated(other)) used_chips[node] += tpu_request(other);
  }
  for (const Binding& assumed : binding_) used_chips[assumed.node] += assumed.chips;
  // kube-scheduler goes through the nodes from where its last cycle stopped, and stops once it has found
  // numFeasibleNodesToFind of them: the extender sees other nodes, in another order, from one pod to the next.
  const std::size_t wanted = feasible_nodes_to_find(nodes.size());
  std::size_t processed = 0;
  for (; processed < nodes.size() && feasible.size() < wanted; ++processed) {
    const json& node = nodes[(next_start_node_ + processed) % nodes.size()];
    std::string failure = predicate_failure(pod, node, used_chips);
    if (failure.empty()) {
      feasible.push_back(name_of(node));
    } else {
      failed[name_of(node)] = failure;
    }
  }
  if (!nodes.empty()) next_start_node_ = (next_start_node_ + processed) % nodes.size();
  if (feasible.empty()) {
    mark_failed(pod, "Unschedulable", summary(nodes.size(), failed));
    return false;
  }

  const json args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", feasible}};
  const std::string url = extender();
  const HttpReply filter = http_call("POST", url, "/filter", args.dump());
  // The extender is away or answered an error: the attempt fails on an error, which kube-scheduler writes as
  // reason SchedulerError, and the pod is parked like any other.
  if (filter.status != 200) {
    mark_failed(pod, "SchedulerError", extender_failure(url, "/filter", filter));
    return false;
  }
  const json result = json::parse(filter.body);
  if (const std::string error = result.value("Error", ""); !error.empty()) {
    mark_failed(pod, "SchedulerError", error);
    return false;
  }
  for (const char* field : {"FailedNodes", "FailedAndUnresolvableNodes"}) {
    if (result.contains(field) && result[field].is_object()) {
      for (const auto& [node, reason] : result[field].items()) failed[node] = reason.get<std::string>();
    }
  }
  const json passed = result.value("NodeNames", json::array());
  if (passed.is_null() || passed.empty()) {
    mark_failed(pod, "Unschedulable", summary(nodes.size(), failed));
    return false;
  }

  const json prioritize_args = {{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", passed}};
  const HttpReply prioritize = http_call("POST", extender(), "/prioritize", prioritize_args.dump());
  std::string best = passed[0];
  long best_score = -1;
  // kube-scheduler ignores a prioritize error: the extender's scores are simply missing.
  const json scores = prioritize.status == 200 ? json::parse(prioritize.body) : json::array();
  for (const json& host : scores) {
    if (host.value("Score", 0L) > best_score) {
      best_score = host.value("Score", 0L);
      best = host.value("Host", "");
    }
  }
  const json binding = {{"PodName", name_of(pod)},
                        {"PodNamespace", pod["metadata"].value("namespace", "default")},
                        {"PodUID", pod["metadata"].value("uid", "")},
                        {"Node", best}};
  // The binding cycle runs on its own, as kube-scheduler's goroutine does; the pod is assumed on `best` meanwhile.
  const std::string bind_url = extender();
  binding_.push_back({pod, best, tpu_request(pod), pod_fingerprint(pod), bind_url,
                      std::async(std::launch::async, [bind_url, body = binding.dump()] {
                        return http_call("POST", bind_url, "/bind", body);
                      })});
  return true;
}

void SchedulerDriver::finish_binds(bool wait) {
  for (auto it = binding_.begin(); it != binding_.end();) {
    if (!wait && it->reply.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ++it;
      continue;
    }
    const HttpReply bind = it->reply.get();
    const std::string error =
        bind.status == 200 ? json::parse(bind.body).value("Error", "") : extender_failure(it->url, "/bind", bind);
    const std::string key = key_of(it->pod);
    if (error.empty()) {
      failures_.erase(key);
      narrate_("scheduler: bound " + name_of(it->pod) + " to " + it->node +
               " (extender's filter, prioritize and bind)");
    } else {
      // The assumed pod is forgotten and goes back to the unschedulable queue, like any failed attempt.
      parked_[key] = Parked{it->fingerprint, Clock::now(), false, ""};
      mark_failed(it->pod, "SchedulerError", "binding rejected: " + error);
    }
    it = binding_.erase(it);
  }
}

SchedulerDriver::~SchedulerDriver() { finish_binds(true); }

void SchedulerDriver::mark_failed(const json& pod, const std::string& reason, const std::string& message) {
  // kube-scheduler leaves the pod alone when the condition it would write is already there.
  auto [previous, first] = failures_.try_emplace(key_of(pod), reason + ": " + message);
  if (!first && previous->second == reason + ": " + message) return;
  previous->second = reason + ": " + message;
  const json patch = {
      {"status",
       {{"conditions",
         json::array({{{"type", "PodScheduled"}, {"status", "False"}, {"reason", reason}, {"message", message}}})}}}};
  store_.patch(kPods, pod["metadata"].value("namespace", "default"), name_of(pod), patch, fakes::PatchKind::kMerge,
               true);
  narrate_("scheduler: " + name_of(pod) + " is " + reason + ": " + message);
}

}  // namespace tpustack::e2e
