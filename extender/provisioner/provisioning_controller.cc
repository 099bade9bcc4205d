#include "extender/provisioner/provisioning_controller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/lifecycle/interruptible_sleep.h"

namespace tpustack::provisioning {
namespace {

using nlohmann::json;

std::string seconds_text(std::chrono::milliseconds delay) { return fmt::format("{:.1f}s", delay.count() / 1000.0); }

}  // namespace

ProvisioningController::ProvisioningController(kube::KubeClient& client, NodePoolProvider& provider,
                                               ControllerSettings settings, metrics::MetricsRegistry& registry)
    : client_(client),
      provider_(provider),
      settings_(std::move(settings)),
      created_(registry.counter("tpustack_provisioner_pools_created_total", "Node pools created").unlabelled()),
      resized_(
          registry.counter("tpustack_provisioner_pools_resized_total", "Workload node pools resized").unlabelled()),
      deleted_(registry.counter("tpustack_provisioner_pools_deleted_total", "Node pools deleted").unlabelled()),
      failed_(registry.counter("tpustack_provisioner_pool_operations_failed_total",
                               "Failed node-pool operations by operation (create, resize, delete) and failure kind",
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
  // Only changes that can alter a decision wake the loop: a pod to serve, a group ending, nodes coming.
  auto on_pod = [this](const json& pod) {
    if (wakes_provisioner(pod_facts(pod))) notify();
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

std::optional<std::string> ProvisioningController::unready_reason() const {
  std::lock_guard lock(mu_);
  if (!settings_.lease || leading_ || !lease_failing_since_) return std::nullopt;
  const auto failing = Clock::now() - *lease_failing_since_;
  if (failing < settings_.lease->duration) return std::nullopt;
  return fmt::format("provisioner not leading for {:.0f}s: cannot take Lease {}/{}: {}",
                     std::chrono::duration<double>(failing).count(), settings_.lease->ns, settings_.lease->name,
                     lease_failure_);
}

void ProvisioningController::keep_lease(std::stop_token stop) {
  const auto period = std::max(std::chrono::milliseconds(100),
                               std::chrono::duration_cast<std::chrono::milliseconds>(settings_.lease->duration) / 3);
  while (!stop.stop_requested()) {
    note_lease(elector_->try_acquire_or_renew());
    lifecycle::sleep_unless_stopped(stop, period);
  }
}

void ProvisioningController::note_lease(const LeaseAttempt& attempt) {
  const bool leader = attempt.leading();
  if (leader != leading_.exchange(leader)) {
    spdlog::info("provisioner: {} leading", leader ? "now" : "no longer");
    leader_gauge_.set(leader ? 1 : 0);
    if (leader) notify();
  }
  const auto now = Clock::now();
  std::lock_guard lock(mu_);
  if (attempt.outcome != LeaseOutcome::kFailed) {
    lease_failing_since_.reset();
    return;
  }
  if (!lease_failing_since_) lease_failing_since_ = now;
  lease_failure_ = attempt.detail;
  // Renewals run every third of a lease period: once a minute is enough to be seen, not to flood.
  if (!lease_warned_at_ || now - *lease_warned_at_ >= std::chrono::minutes(1)) {
    lease_warned_at_ = now;
    spdlog::warn("provisioner: cannot take Lease {}/{}, so nothing is provisioned: {}", settings_.lease->ns,
                 settings_.lease->name, attempt.detail);
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
    if (!trigger_blocker(pod) && pod.group && pod.group->owner_kind != OwnerKind::kPods) {
      wanted[pod.group->owner_kind].insert(owner_key(pod.group->owner_kind, pod.group->ns, pod.group->owner));
    }
  }
  std::map<std::string, OwnerState> owners;
  for (const auto& [kind, keys] : wanted) {
    const kube::Resource& resource = kind == OwnerKind::kJobSet ? kube::resources::kJobSets : kube::resources::kJobs;
    auto listed = client_.list_all(resource, "");
    // Without the JobSet CRD there are no JobSets: their pools are orphans. Any other failure leaves
    // the owners unknown, hence active: a failed lookup must never delete a pool.
    if (!listed && !kube::not_found(listed.error())) {
      spdlog::warn("provisioner: listing {}: {}", resource.plural, listed.error().message);
      continue;
    }
    const std::vector<json> objects = listed ? std::move(listed->items) : std::vector<json>{};
    for (const json& owner : objects) {
      const json& meta = owner.value("metadata", json::object());
      std::string key = owner_key(kind, meta.value("namespace", "default"), meta.value("name", ""));
      if (keys.contains(key)) owners[key] = owner_state(kind, owner);
    }
    for (const std::string& key : keys) owners.try_emplace(key, OwnerState::kGone);
  }
  return owners;
}

Result<ClusterSnapshot> ProvisioningController::read_cluster() {
  auto objects = [this](const std::unique_ptr<kube::Informer>& informer,
                        const kube::Resource& resource) -> Result<std::vector<json>> {
    if (informer && informer->has_synced()) return informer->cache().list();
    auto listed = client_.list_all(resource, "");
    if (!listed) return Error{"listing " + resource.plural + ": " + listed.error().message};
    return std::move(listed->items);
  };
  auto pods = objects(pods_, kube::resources::kPods);
  if (!pods) return pods.error();
  auto nodes = objects(nodes_, kube::resources::kNodes);
  if (!nodes) return nodes.error();
  ClusterSnapshot snapshot;
  for (const json& pod : *pods) {
    PodFacts facts = pod_facts(pod);
    if (facts.tpu_chips > 0 || facts.group) snapshot.pods.push_back(std::move(facts));
  }
  for (const json& node : *nodes) snapshot.nodes.push_back(node_facts(node));
  auto pools = provider_.list();
  if (!pools) return Error{"listing node pools via " + provider_.name() + ": " + pools.error().message};
  snapshot.pools = std::move(*pools);
  snapshot.owners = read_owners(snapshot.pools, snapshot.pods);
  std::lock_guard lock(mu_);
  snapshot.asked_nodes = asked_nodes_;
  for (const auto& [name, op] : operations_) snapshot.busy_pools.insert(name);
  for (const auto& [name, failure] : failures_) snapshot.retry_not_before[name] = failure.not_before;
  return snapshot;
}

void ProvisioningController::reconcile_once() {
  reap_finished();
  auto read = read_cluster();
  if (!read) {
    // A round that cannot see the pools plans nothing; the next round asks again.
    spdlog::warn("provisioner: round failed: {}", read.error().message);
    return;
  }
  ClusterSnapshot& snapshot = *read;
  const auto now = Clock::now();
  ProvisioningPlan plan;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> waiting;
    for (const PodFacts& pod : snapshot.pods) {
      if (trigger_blocker(pod)) continue;
      waiting.insert(pod.uid);
      first_triggered_.try_emplace(pod.uid, now);
    }
    std::erase_if(first_triggered_, [&](const auto& entry) { return !waiting.contains(entry.first); });
    std::erase_if(last_blocked_reason_, [&](const auto& entry) { return !waiting.contains(entry.first); });
    plan = plan_provisioning(snapshot, settings_.plan, now, surplus_since_);
    surplus_since_ = plan.surplus_since;
    // Sizes asked for while this round read the cluster are not in the plan's copy yet.
    for (const auto& [pool, nodes] : asked_nodes_) {
      if (snapshot.busy_pools.contains(pool) || !snapshot.asked_nodes.contains(pool)) plan.asked_nodes[pool] = nodes;
    }
    asked_nodes_ = plan.asked_nodes;
  }
  observe_ready(snapshot.nodes);
  report_blocked(plan.blocked);

  auto listed = [&](const std::string& name) -> const PoolState* {
    auto pool =
        std::find_if(snapshot.pools.begin(), snapshot.pools.end(), [&](const PoolState& p) { return p.name == name; });
    return pool == snapshot.pools.end() ? nullptr : &*pool;
  };
  // A batch (a multislice unit's pools) counts as one operation: once its first starts, the rest start with it.
  std::string started_batch;
  auto room_for = [&](const std::string& batch) {
    const bool with_started = !batch.empty() && batch == started_batch;
    started_batch = batch;
    return with_started || operations_in_flight() < settings_.max_operations;
  };
  for (const DeleteAction& action : plan.deletes) {
    if (!room_for(action.batch)) break;
    if (const PoolState* pool = listed(action.pool)) launch(delete_operation(action, *pool));
  }
  for (const ResizeAction& action : plan.resizes) {
    if (operations_in_flight() >= settings_.max_operations) break;
    if (const PoolState* pool = listed(action.pool)) launch(resize_operation(action, *pool));
  }
  for (const CreateAction& action : plan.creates) {
    if (!room_for(action.batch)) break;
    Clock::time_point triggered = now;
    {
      std::lock_guard lock(mu_);
      if (auto it = first_triggered_.find(action.pod.uid); it != first_triggered_.end()) triggered = it->second;
    }
    launch(create_operation(action, triggered));
  }
}

void ProvisioningController::launch(PoolOperation operation) {
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mu_);
  if (operations_.contains(operation.pool)) return;
  in_flight_gauge_.inc();
  const std::string pool = operation.pool;
  operations_[pool] =
      Operation{std::jthread([this, operation = std::move(operation), done](std::stop_token stop) {
                  // The thread's entry point: a programming error ends the operation, not the
                  // process.
                  try {
                    execute(operation, stop);
                  } catch (const std::exception& e) {
                    spdlog::error("provisioner: {} stopped by an unexpected error: {}", operation.started, e.what());
                  }
                  in_flight_gauge_.dec();
                  done->store(true);
                  notify();
                }),
                done};
}

ProvisioningController::PoolOperation ProvisioningController::create_operation(const CreateAction& action,
                                                                               Clock::time_point triggered) {
  const PoolSpec& spec = action.spec;
  const std::string shape = fmt::format("{} x{}, topology {}{}", spec.slice.machine_type(), spec.node_count,
                                        spec.slice.topology().to_string(), spec.spot ? ", spot" : "");
  return {spec.name,
          "create",
          "NodePoolCreation",
          action.pod.reference,
          "pod " + action.pod.ns + "/" + action.pod.name,
          "creating node pool " + spec.name + " (" + shape + ") via " + provider_.name(),
          "node pool " + spec.name + " (" + shape + ") created",
          &created_,
          [this, spec](std::stop_token stop) { return provider_.create(spec, stop); },
          [this, spec, triggered] {
            awaiting_ready_[spec.name] = {triggered, spec.node_count};
            if (spec.for_workload) asked_nodes_[spec.name] = spec.node_count;
          }};
}

ProvisioningController::PoolOperation ProvisioningController::resize_operation(const ResizeAction& action,
                                                                               const PoolState& pool) {
  return {
      action.pool,
      "resize",
      "NodePoolResize",
      event_target(pool),
      "",
      fmt::format("resizing node pool {} from {} to {} nodes: {}", action.pool, action.from, action.to, action.reason),
      fmt::format("node pool {} resized to {} nodes", action.pool, action.to),
      &resized_,
      [this, action](std::stop_token stop) { return provider_.resize(action.pool, action.to, stop); },
      [this, action] {
        asked_nodes_[action.pool] = action.to;
        surplus_since_.erase(action.pool);
      }};
}

ProvisioningController::PoolOperation ProvisioningController::delete_operation(const DeleteAction& action,
                                                                               const PoolState& pool) {
  return {action.pool,
          "delete",
          "NodePoolDeletion",
          event_target(pool),
          "",
          "deleting node pool " + action.pool + ": " + action.reason,
          "node pool " + action.pool + " deleted",
          &deleted_,
          [this, action](std::stop_token stop) { return provider_.remove(action.pool, stop); },
          [this, action] {
            surplus_since_.erase(action.pool);
            awaiting_ready_.erase(action.pool);
            asked_nodes_.erase(action.pool);
          }};
}

void ProvisioningController::execute(const PoolOperation& operation, std::stop_token stop) {
  spdlog::info("provisioner: {}{}", operation.started, operation.what_for.empty() ? "" : " for " + operation.what_for);
  event(operation.involved, kube::EventType::kNormal, operation.event_prefix + "Started", operation.started);
  if (const Result<void> done = operation.work(stop); !done) {
    if (stop.stop_requested()) return;
    const FailureKind kind = failure_kind(done.error());
    const std::string& why = done.error().message;
    auto delay = record_failure(operation.pool, kind);
    failed_.labels({operation.kind, to_string(kind)}).inc();
    spdlog::warn("provisioner: {} failed ({}): {}; retrying in {}", operation.started, to_string(kind), why,
                 seconds_text(delay));
    event(operation.involved, kube::EventType::kWarning, operation.event_prefix + "Failed",
          fmt::format("node pool {}: {}; retrying in {}", operation.pool, why, seconds_text(delay)));
    return;
  }
  operation.succeeded_total->inc();
  {
    std::lock_guard lock(mu_);
    failures_.erase(operation.pool);
    operation.on_success();
  }
  spdlog::info("provisioner: {}", operation.succeeded);
  event(operation.involved, kube::EventType::kNormal, operation.event_prefix + "Succeeded", operation.succeeded);
}

std::chrono::milliseconds ProvisioningController::record_failure(const std::string& pool, FailureKind kind) {
  const retry::Backoff::Policy& policy = kind == FailureKind::kTransient  ? settings_.transient_retry
                                         : kind == FailureKind::kCapacity ? settings_.capacity_retry
                                                                          : settings_.permanent_retry;
  std::lock_guard lock(mu_);
  auto it = failures_.find(pool);
  if (it == failures_.end() || it->second.kind != kind) {
    failures_.erase(pool);
    it = failures_.emplace(pool, Failure{kind, retry::Backoff(policy), {}}).first;
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
      std::string& last = last_blocked_reason_[b.pod.uid];
      if (last == b.reason) continue;
      last = b.reason;
    }
    spdlog::info("provisioner: no pool for {}/{}: {}", b.pod.ns, b.pod.name, b.reason);
    event(b.pod.reference, b.error ? kube::EventType::kWarning : kube::EventType::kNormal,
          b.error ? "NodePoolCreationFailed" : "NodePoolCreationWaiting", b.reason);
  }
}

void ProvisioningController::event(const json& involved, kube::EventType type, const std::string& reason,
                                   const std::string& message) {
  if (auto recorded = client_.create_event(involved, type, reason, message); !recorded) {
    spdlog::warn("provisioner: could not record Event {}: {}", reason, recorded.error().message);
  }
}

}  // namespace tpustack::provisioning
