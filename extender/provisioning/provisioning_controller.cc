#include "extender/provisioning/provisioning_controller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "extender/provisioning/interruptible_sleep.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

json owner_reference(const PoolState& pool) {
  auto kind = parse_owner_kind(pool.label(kOwnerKindLabel));
  std::string ns = pool.label(kGroupNamespaceLabel);
  if (kind == OwnerKind::kJobSet) {
    return {{"apiVersion", kube::resources::kJobSets.api_version()},
            {"kind", "JobSet"},
            {"metadata", {{"namespace", ns}, {"name", pool.label(kOwnerNameLabel)}}}};
  }
  if (kind == OwnerKind::kJob) {
    return {{"apiVersion", "batch/v1"},
            {"kind", "Job"},
            {"metadata", {{"namespace", ns}, {"name", pool.label(kOwnerNameLabel)}}}};
  }
  // Groups of bare pods and orphans have no object of their own; their namespace stands in.
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns.empty() ? "default" : ns}}}};
}

bool condition_true(const json& object, const char* type) {
  for (const json& condition : object.value("status", json::object()).value("conditions", json::array())) {
    if (condition.value("type", "") == type && condition.value("status", "") == "True") return true;
  }
  return false;
}

std::string seconds_text(std::chrono::milliseconds delay) { return fmt::format("{:.1f}s", delay.count() / 1000.0); }

}  // namespace

ProvisioningController::ProvisioningController(kube::KubeClient& client, NodePoolProvider& provider,
                                               ControllerSettings settings, metrics::MetricsRegistry& registry)
    : client_(client),
      provider_(provider),
      settings_(std::move(settings)),
      created_(registry.counter("tpustack_provisioner_pools_created_total", "Node pools created").unlabelled()),
      deleted_(registry.counter("tpustack_provisioner_pools_deleted_total", "Node pools deleted").unlabelled()),
      failed_(registry.counter("tpustack_provisioner_pool_operations_failed_total",
                               "Failed node-pool operations by operation (create, delete) and failure kind",
                               {"operation", "kind"})),
      in_flight_gauge_(registry.gauge("tpustack_provisioner_pool_operations_in_flight", "Node-pool operations running")
                           .unlabelled()),
      leader_gauge_(registry.gauge("tpustack_provisioner_leader", "1 while this replica holds the provisioner lease")
                        .unlabelled()),
      trigger_to_ready_(registry
                            .histogram("tpustack_provisioner_trigger_to_ready_seconds",
                                       "From a leader found waiting to every node of its new pool Ready", {},
                                       {1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600})
                            .unlabelled()) {
  if (settings_.lease) elector_.emplace(client_, *settings_.lease);
}

ProvisioningController::~ProvisioningController() { stop(); }

void ProvisioningController::start() {
  pods_ = std::make_unique<kube::Informer>(client_, kube::resources::kPods, kube::Informer::Options{});
  nodes_ = std::make_unique<kube::Informer>(client_, kube::resources::kNodes, kube::Informer::Options{});
  // Only changes that can alter a decision wake the loop: a leader to serve, a group ending, nodes coming.
  auto on_pod = [this](const json& pod) {
    PodFacts facts = pod_facts(pod);
    if (facts.tpu_chips > 0 && (trigger_blocker(facts).empty() || facts.terminated())) notify();
  };
  pods_->add_handlers(
      {on_pod, [on_pod](const json&, const json& pod) { on_pod(pod); }, [this](const json&) { notify(); }});
  nodes_->add_handlers({[this](const json&) { notify(); }, nullptr, [this](const json&) { notify(); }});
  pods_->start();
  nodes_->start();
  if (elector_) {
    lease_loop_ = std::jthread([this](std::stop_token stop) { keep_lease(stop); });
  } else {
    leading_ = true;
    leader_gauge_.set(1);
  }
  loop_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void ProvisioningController::stop() {
  for (std::jthread* thread : {&loop_, &lease_loop_}) {
    if (!thread->joinable()) continue;
    thread->request_stop();
    thread->join();
  }
  for (auto* informer : {&pods_, &nodes_}) {
    if (*informer) (*informer)->stop();
    informer->reset();
  }
  std::map<std::string, Operation> operations;
  {
    std::lock_guard lock(mu_);
    operations.swap(operations_);
  }
  for (auto& [name, op] : operations) op.thread.request_stop();
  operations.clear();  // joins
  if (elector_) elector_->release();
  leading_ = false;
  leader_gauge_.set(0);
}

void ProvisioningController::notify() {
  std::lock_guard lock(mu_);
  notified_ = true;
  wake_.notify_all();
}

int ProvisioningController::operations_in_flight() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [name, op] : operations_) n += !op.done->load();
  return n;
}

void ProvisioningController::keep_lease(std::stop_token stop) {
  const auto period = std::max(std::chrono::milliseconds(100),
                               std::chrono::duration_cast<std::chrono::milliseconds>(settings_.lease->duration) / 3);
  while (!stop.stop_requested()) {
    bool leader = elector_->try_acquire_or_renew();
    if (leader != leading_.exchange(leader)) {
      spdlog::info("provisioner: {} leading", leader ? "now" : "no longer");
      leader_gauge_.set(leader ? 1 : 0);
      if (leader) notify();
    }
    sleep_unless_stopped(stop, period);
  }
}

void ProvisioningController::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    if (leading_) {
      try {
        reconcile_once();
      } catch (const std::exception& e) {
        spdlog::warn("provisioner: round failed: {}", e.what());
      }
    }
    std::unique_lock lock(mu_);
    wake_.wait_for(lock, stop, settings_.resync, [this] { return notified_; });
    notified_ = false;
  }
}

void ProvisioningController::reap_finished() {
  std::map<std::string, Operation> finished;
  {
    std::lock_guard lock(mu_);
    for (auto it = operations_.begin(); it != operations_.end();) {
      if (it->second.done->load()) {
        finished.insert(operations_.extract(it++));
      } else {
        ++it;
      }
    }
  }
  // Destroying them joins threads that have already returned.
}

std::map<std::string, OwnerState> ProvisioningController::read_owners(const std::vector<PoolState>& pools,
                                                                      const std::vector<PodFacts>& pods) {
  // The owners that matter: those our pools name, and those of leaders waiting for a pool.
  std::map<OwnerKind, std::set<std::string>> wanted;
  for (const PoolState& pool : pools) {
    auto kind = parse_owner_kind(pool.label(kOwnerKindLabel));
    if (managed(pool) && kind && *kind != OwnerKind::kPods) {
      wanted[*kind].insert(owner_key(*kind, pool.label(kGroupNamespaceLabel), pool.label(kOwnerNameLabel)));
    }
  }
  for (const PodFacts& pod : pods) {
    if (trigger_blocker(pod).empty() && pod.group->owner_kind != OwnerKind::kPods) {
      wanted[pod.group->owner_kind].insert(owner_key(pod.group->owner_kind, pod.group->ns, pod.group->owner));
    }
  }
  std::map<std::string, OwnerState> owners;
  for (const auto& [kind, keys] : wanted) {
    const kube::Resource& resource = kind == OwnerKind::kJobSet ? kube::resources::kJobSets : kube::resources::kJobs;
    std::vector<json> objects;
    try {
      objects = client_.list_all(resource, "").items;
    } catch (const kube::KubeError& e) {
      // Without the JobSet CRD there are no JobSets: their pools are orphans. Any other failure leaves
      // the owners unknown, hence active: a failed lookup must never delete a pool.
      if (!e.not_found()) {
        spdlog::warn("provisioner: listing {}: {}", resource.plural, e.what());
        continue;
      }
    }
    for (const json& owner : objects) {
      const json& meta = owner.value("metadata", json::object());
      std::string key = owner_key(kind, meta.value("namespace", "default"), meta.value("name", ""));
      bool finished = kind == OwnerKind::kJobSet ? condition_true(owner, "Completed") || condition_true(owner, "Failed")
                                                 : condition_true(owner, "Complete") || condition_true(owner, "Failed");
      if (keys.contains(key)) owners[key] = finished ? OwnerState::kFinished : OwnerState::kActive;
    }
    for (const std::string& key : keys) owners.try_emplace(key, OwnerState::kGone);
  }
  return owners;
}

ClusterSnapshot ProvisioningController::read_cluster() {
  auto objects = [this](const std::unique_ptr<kube::Informer>& informer, const kube::Resource& resource) {
    return informer && informer->has_synced() ? informer->cache().list() : client_.list_all(resource, "").items;
  };
  ClusterSnapshot snapshot;
  for (const json& pod : objects(pods_, kube::resources::kPods)) {
    PodFacts facts = pod_facts(pod);
    if (facts.tpu_chips > 0 || facts.group) snapshot.pods.push_back(std::move(facts));
  }
  for (const json& node : objects(nodes_, kube::resources::kNodes)) snapshot.nodes.push_back(node_facts(node));
  snapshot.pools = provider_.list();
  snapshot.owners = read_owners(snapshot.pools, snapshot.pods);
  std::lock_guard lock(mu_);
  for (const auto& [name, op] : operations_) snapshot.busy_pools.insert(name);
  for (const auto& [name, failure] : failures_) snapshot.retry_not_before[name] = failure.not_before;
  return snapshot;
}

void ProvisioningController::reconcile_once() {
  reap_finished();
  ClusterSnapshot snapshot = read_cluster();
  const auto now = Clock::now();
  ProvisioningPlan plan;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> waiting;
    for (const PodFacts& pod : snapshot.pods) {
      if (!trigger_blocker(pod).empty()) continue;
      waiting.insert(pod.uid);
      first_triggered_.try_emplace(pod.uid, now);
    }
    std::erase_if(first_triggered_, [&](const auto& entry) { return !waiting.contains(entry.first); });
    std::erase_if(last_blocked_reason_, [&](const auto& entry) { return !waiting.contains(entry.first); });
    plan = plan_provisioning(snapshot, settings_.plan, now, finished_since_);
    finished_since_ = plan.finished_since;
  }
  observe_ready(snapshot.nodes);
  report_blocked(plan.blocked);

  for (const DeleteAction& action : plan.deletes) {
    if (operations_in_flight() >= settings_.max_operations) break;
    auto pool = std::find_if(snapshot.pools.begin(), snapshot.pools.end(),
                             [&](const PoolState& p) { return p.name == action.pool; });
    if (pool == snapshot.pools.end()) continue;
    launch(action.pool, [this, action, state = *pool](std::stop_token stop) { run_delete(action, state, stop); });
  }
  for (const CreateAction& action : plan.creates) {
    if (operations_in_flight() >= settings_.max_operations) break;
    Clock::time_point triggered = now;
    {
      std::lock_guard lock(mu_);
      if (auto it = first_triggered_.find(action.leader.uid); it != first_triggered_.end()) triggered = it->second;
    }
    launch(action.spec.name, [this, action, triggered](std::stop_token stop) { run_create(action, triggered, stop); });
  }
}

void ProvisioningController::launch(const std::string& pool, std::function<void(std::stop_token)> work) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  if (operations_.contains(pool)) return;
  in_flight_gauge_.inc();
  operations_[pool] = Operation{std::jthread([this, work = std::move(work), done](std::stop_token stop) {
                                  work(stop);
                                  in_flight_gauge_.dec();
                                  done->store(true);
                                  notify();
                                }),
                                done};
}

void ProvisioningController::run_create(const CreateAction& action, Clock::time_point triggered, std::stop_token stop) {
  const PoolSpec& spec = action.spec;
  const std::string shape = fmt::format("{} x{}, topology {}{}", spec.slice.machine_type(), spec.node_count(),
                                        spec.slice.topology().to_string(), spec.spot ? ", spot" : "");
  spdlog::info("provisioner: creating pool {} ({}) for {}/{} via {}", spec.name, shape, action.leader.ns,
               action.leader.name, provider_.name());
  event(action.leader.reference, kube::EventType::kNormal, "NodePoolCreationStarted",
        "creating node pool " + spec.name + " (" + shape + ") via " + provider_.name());
  try {
    provider_.create(spec, stop);
  } catch (const ProviderError& e) {
    if (stop.stop_requested()) return;
    auto delay = record_failure(spec.name, e.kind());
    failed_.labels({"create", to_string(e.kind())}).inc();
    spdlog::warn("provisioner: creating pool {} failed ({}): {}; retrying in {}", spec.name, to_string(e.kind()),
                 e.what(), seconds_text(delay));
    event(action.leader.reference, kube::EventType::kWarning, "NodePoolCreationFailed",
          fmt::format("node pool {}: {}; retrying in {}", spec.name, e.what(), seconds_text(delay)));
    return;
  }
  created_.inc();
  {
    std::lock_guard lock(mu_);
    failures_.erase(spec.name);
    awaiting_ready_[spec.name] = {triggered, spec.node_count()};
  }
  spdlog::info("provisioner: pool {} created", spec.name);
  event(action.leader.reference, kube::EventType::kNormal, "NodePoolCreationSucceeded",
        "node pool " + spec.name + " (" + shape + ") created");
}

void ProvisioningController::run_delete(const DeleteAction& action, const PoolState& pool, std::stop_token stop) {
  const json owner = owner_reference(pool);
  spdlog::info("provisioner: deleting pool {}: {}", action.pool, action.reason);
  event(owner, kube::EventType::kNormal, "NodePoolDeletionStarted",
        "deleting node pool " + action.pool + ": " + action.reason);
  try {
    provider_.remove(action.pool, stop);
  } catch (const ProviderError& e) {
    if (stop.stop_requested()) return;
    auto delay = record_failure(action.pool, e.kind());
    failed_.labels({"delete", to_string(e.kind())}).inc();
    spdlog::warn("provisioner: deleting pool {} failed: {}; retrying in {}", action.pool, e.what(),
                 seconds_text(delay));
    event(owner, kube::EventType::kWarning, "NodePoolDeletionFailed",
          fmt::format("node pool {}: {}; retrying in {}", action.pool, e.what(), seconds_text(delay)));
    return;
  }
  deleted_.inc();
  {
    std::lock_guard lock(mu_);
    failures_.erase(action.pool);
    finished_since_.erase(action.pool);
    awaiting_ready_.erase(action.pool);
  }
  spdlog::info("provisioner: pool {} deleted", action.pool);
  event(owner, kube::EventType::kNormal, "NodePoolDeletionSucceeded", "node pool " + action.pool + " deleted");
}

std::chrono::milliseconds ProvisioningController::record_failure(const std::string& pool, FailureKind kind) {
  const kube::Backoff::Policy& policy = kind == FailureKind::kTransient  ? settings_.transient_retry
                                        : kind == FailureKind::kCapacity ? settings_.capacity_retry
                                                                         : settings_.permanent_retry;
  std::lock_guard lock(mu_);
  auto it = failures_.find(pool);
  if (it == failures_.end() || it->second.kind != kind) {
    failures_.erase(pool);
    it = failures_.emplace(pool, Failure{kind, kube::Backoff(policy), {}}).first;
  }
  auto delay = it->second.backoff.next();
  it->second.not_before = Clock::now() + delay;
  return delay;
}

void ProvisioningController::observe_ready(const std::vector<NodeFacts>& nodes) {
  std::lock_guard lock(mu_);
  for (auto it = awaiting_ready_.begin(); it != awaiting_ready_.end();) {
    int ready = 0;
    for (const NodeFacts& node : nodes) ready += node.ready && node.label(kNodePoolLabel) == it->first;
    if (ready < it->second.nodes) {
      ++it;
      continue;
    }
    double seconds = std::chrono::duration<double>(Clock::now() - it->second.triggered).count();
    trigger_to_ready_.observe(seconds);
    spdlog::info("provisioner: pool {} has {} Ready nodes, {:.1f}s after its leader was found waiting", it->first,
                 ready, seconds);
    it = awaiting_ready_.erase(it);
  }
}

void ProvisioningController::report_blocked(const std::vector<Blocked>& blocked) {
  for (const Blocked& b : blocked) {
    {
      std::lock_guard lock(mu_);
      std::string& last = last_blocked_reason_[b.leader.uid];
      if (last == b.reason) continue;
      last = b.reason;
    }
    spdlog::info("provisioner: no pool for {}/{}: {}", b.leader.ns, b.leader.name, b.reason);
    event(b.leader.reference, b.error ? kube::EventType::kWarning : kube::EventType::kNormal,
          b.error ? "NodePoolCreationFailed" : "NodePoolCreationWaiting", b.reason);
  }
}

void ProvisioningController::event(const json& involved, kube::EventType type, const std::string& reason,
                                   const std::string& message) {
  try {
    client_.create_event(involved, type, reason, message);
  } catch (const kube::KubeError& e) {
    spdlog::warn("provisioner: could not record Event {}: {}", reason, e.what());
  }
}

}  // namespace tpustack::provisioning
