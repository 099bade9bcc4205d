#include "extender/service/extender_service.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "extender/placement/bind_decision.h"
#include "extender/placement/multislice_unit.h"
#include "extender/placement/node_judge.h"
#include "extender/placement/pod_request.h"
#include "extender/placement/preemption.h"
#include "extender/placement/slice_reservation.h"
#include "extender/wire/extender_codec.h"

namespace tpustack::extender {

namespace {

constexpr const char* kNotSynced = "tpu-extender has not finished reading Nodes and Pods yet";
// Claims one filter makes before it answers an Error: each refused claim means another replica took that slice
// a moment ago, and the next free one is tried.
constexpr int kMaxClaimsPerFilter = 8;
// How long a reservation of a group this replica knows no pod of is kept: the pods may not have reached this
// replica's informer yet.
constexpr std::chrono::seconds kAbandonedGrace{60};
// A pod accepted or nudged but not bound after kFirstRetry is nudged again, backing off to kLastRetry (the
// period of kube-scheduler's own flush of parked pods, beyond which a nudge gains nothing).
constexpr std::chrono::seconds kFirstRetry{5};
constexpr std::chrono::minutes kLastRetry{5};

// The status of prioritize's and preempt's errors, which kube-scheduler logs as the extender's: 400 for what the
// request got wrong (its body, a pod that is not ours), 409 for what the present state refuses.
int error_status(const Error& error) { return error.kind == ErrorKind::kInvalidInput ? 400 : 409; }

std::string object_name(const nlohmann::json& object) {
  const auto& metadata = object.value("metadata", nlohmann::json::object());
  return metadata.value("namespace", "") + (metadata.contains("namespace") ? "/" : "") + metadata.value("name", "");
}

// "a" or "a, b": the slices of a reservation (a multislice unit's are made together).
std::string slice_list(const Reservations& reservations) {
  std::string list;
  for (const auto& [group, slice] : reservations) list += (list.empty() ? "" : ", ") + slice;
  return list;
}

class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

ExtenderService::ExtenderService(PodBinder& binder, metrics::MetricsRegistry& registry, SchedulerNames scheduler_names)
    : binder_(binder),
      scheduler_names_(std::move(scheduler_names)),
      requests_(registry.counter("tpu_extender_requests_total", "Extender requests by verb and outcome",
                                 {"verb", "outcome"})),
      latency_(registry.histogram("tpu_extender_request_duration_seconds",
                                  "Time to answer an extender request, JSON included", {"verb"},
                                  metrics::latency_buckets())),
      groups_(registry.gauge("tpu_extender_groups", "Multi-host groups by state (placed, waiting)", {"state"})),
      slices_(registry.gauge("tpu_extender_slices", "TPU slices by state (free, reserved, in_use)", {"state"})) {}

void ExtenderService::apply_node(const nlohmann::json& node) {
  auto parsed = parse_node(node);
  if (!parsed) {
    spdlog::warn("skipping node {}: {}", object_name(node), parsed.error().message);
    return;
  }
  std::lock_guard lock(mu_);
  ++generation_;
  state_.upsert_node(std::move(*parsed));
}

void ExtenderService::delete_node(const nlohmann::json& node) {
  std::lock_guard lock(mu_);
  ++generation_;
  state_.remove_node(node.value("metadata", nlohmann::json::object()).value("name", ""));
}

void ExtenderService::apply_pod(const nlohmann::json& pod) {
  auto read = parse_pod(pod);
  if (!read) {
    spdlog::warn("skipping pod {}: {}", object_name(pod), read.error().message);
    return;
  }
  TpuPod& parsed = *read;
  std::lock_guard lock(mu_);
  ++generation_;
  if (parsed.bound() || !parsed.active()) {
    waiting_.erase(parsed.key());
    if (shared_ && !parsed.active() && parsed.group) groups_left_.insert(parsed.group->key);
  } else if ((parsed.unschedulable || parsed.scheduling_error) && !not_ours(parsed, scheduler_names_)) {
    // Parked by kube-scheduler, possibly without asking the extender (no node passed its own filters, as
    // while a pool is being created): nudged once it fits. Parked after an error (this extender was away):
    // nudged at once, as the attempt never got an answer. Other schedulers' pods are never touched.
    waiting_[parsed.key()].after_error = parsed.scheduling_error;
  }
  state_.upsert_pod(std::move(parsed));
}

void ExtenderService::delete_pod(const nlohmann::json& pod) {
  std::lock_guard lock(mu_);
  ++generation_;
  if (const TpuPod* known = state_.find_pod(object_name(pod)); shared_ && known && known->group) {
    groups_left_.insert(known->group->key);
  }
  waiting_.erase(object_name(pod));
  state_.remove_pod(object_name(pod));
}

void ExtenderService::observe(const char* verb, const char* outcome, double seconds) {
  requests_.labels({verb, outcome}).inc();
  latency_.labels({verb}).observe(seconds);
}

ExtenderService::Reply ExtenderService::verb_error(const char* verb, int status, std::string_view message,
                                                   double seconds) {
  observe(verb, "error", seconds);
  return {status, wire::encode_verb_error(verb, message)};
}

ExtenderService::Reply ExtenderService::filter(std::string_view body) {
  Stopwatch watch;
  Result<std::string> answer = Error{};
  try {
    answer = filter_answer(body);
  } catch (const std::exception& e) {
    answer = Error{std::string("tpu-extender failed: ") + e.what()};  // the request's boundary
  }
  observe("filter", answer ? "ok" : "error", watch.seconds());
  // The extender protocol carries a filter's failure in the result's Error field, with status 200.
  return {200, answer ? std::move(*answer) : wire::encode_filter_error(answer.error().message)};
}

Result<std::string> ExtenderService::filter_answer(std::string_view body) {
  if (!synced_) return Error{kNotSynced};
  auto parsed = wire::parse_extender_args(body);
  if (!parsed) return parsed.error();
  auto& args = *parsed;
  auto read = parse_pod(args.pod);
  if (!read) return read.error();
  const TpuPod& pod = *read;
  std::unique_lock lock(mu_);
  // kube-scheduler's pod watch may be ahead of ours: the request's own object stands in until the informer
  // delivers it, so that a reservation for its group holds and its bind finds it.
  if (pod.chips > 0 && state_.find_pod(pod.key()) == nullptr) state_.upsert_pod(pod);
  auto filtered = filter_reserving(state_, pod, args.node_names, std::chrono::steady_clock::now());
  if (shared_ && !filtered.reserved.empty()) {
    auto reserved = reserve_shared(lock, pod, args.node_names, std::move(filtered));
    if (!reserved) return reserved.error();
    filtered = std::move(*reserved);
  }
  if (!filtered.reserved.empty()) {
    ++generation_;
    spdlog::info("reserved slice {} for {} (first seen: {})", slice_list(filtered.reserved),
                 pod.group->unit ? pod.group->unit->name : pod.group->name, pod.key());
  }
  if (pod.chips > 0) note_filter_answer(pod.key(), filtered.outcome.passed.empty(), std::chrono::steady_clock::now());
  return wire::encode_filter_result(filtered.outcome, args);
}

ExtenderService::Reply ExtenderService::answer_verb(const char* verb,
                                                    const std::function<Result<std::string>()>& decide) {
  Stopwatch watch;
  // kube-scheduler drops a prioritize or preempt error; a non-200 status at least shows in its log.
  if (!synced_) return verb_error(verb, 503, kNotSynced, watch.seconds());
  try {
    auto out = decide();
    if (!out) return verb_error(verb, error_status(out.error()), out.error().message, watch.seconds());
    observe(verb, "ok", watch.seconds());
    return {200, std::move(*out)};
  } catch (const std::exception& e) {
    return verb_error(verb, 500, std::string("tpu-extender failed: ") + e.what(), watch.seconds());
  }
}

ExtenderService::Reply ExtenderService::prioritize(std::string_view body) {
  return answer_verb("prioritize", [&]() -> Result<std::string> {
    auto args = wire::parse_extender_args(body);
    if (!args) return args.error();
    auto pod = parse_pod(args->pod);
    if (!pod) return pod.error();
    std::lock_guard lock(mu_);
    const auto& index = state_.index();
    return wire::encode_host_priorities(prioritize_nodes(analyze_pod(std::move(*pod), index), index, args->node_names));
  });
}

Result<void> ExtenderService::bind_pod(std::string_view body) {
  if (!synced_) return Error{kNotSynced};
  auto parsed = wire::parse_binding_args(body);
  if (!parsed) return parsed.error();
  const auto& args = *parsed;
  std::string key = args.pod_namespace + "/" + args.pod_name;
  Placement placement;
  std::string uid = args.pod_uid;
  {
    std::lock_guard lock(mu_);
    const TpuPod* pod = state_.find_pod(key);
    if (!pod) {
      // Refused binds park the pod in kube-scheduler's queue: nudge it once the informer has delivered it.
      waiting_.try_emplace(key);
      return Error{"pod " + key + " is not in tpu-extender's cache yet"};
    }
    auto admission = admit_bind(*pod, uid, args.node, state_, scheduler_names_);
    if (admission.verdict == BindAdmission::Verdict::kAlreadyBound) return {};  // a retry: the first went through
    if (admission.verdict == BindAdmission::Verdict::kRefused) return Error{admission.reason};
    uid = pod->uid;
    auto decided = assume_bind(state_, *pod, args.node);
    if (!decided) return decided.error();
    placement = std::move(*decided);
    ++generation_;
  }
  if (auto confirmed = confirm_shared(key, placement); !confirmed) return confirmed;
  StringMap annotations;
  if (!placement.slice.empty()) annotations = placement_annotations(placement);
  if (auto bound = binder_.bind(args.pod_namespace, args.pod_name, uid, args.node, annotations); !bound) {
    std::lock_guard lock(mu_);
    state_.forget(key);
    return Error{"binding " + key + " to " + args.node + " failed: " + bound.error().message};
  }
  spdlog::info("bound {} to {} (slice {}, worker {})", key, args.node, placement.slice, placement.worker_id);
  return {};
}

ExtenderService::Reply ExtenderService::bind(std::string_view body) {
  Stopwatch watch;
  Result<void> bound;
  try {
    bound = bind_pod(body);
  } catch (const std::exception& e) {
    bound = Error{e.what()};
  }
  if (!bound) spdlog::warn("bind refused: {}", bound.error().message);
  observe("bind", bound ? "ok" : "error", watch.seconds());
  return {200, wire::encode_binding_result(bound ? "" : bound.error().message)};
}

ExtenderService::Reply ExtenderService::preempt(std::string_view body) {
  return answer_verb("preempt", [&]() -> Result<std::string> {
    auto parsed = wire::parse_preemption_args(body);
    if (!parsed) return parsed.error();
    auto& args = *parsed;
    auto pod = parse_pod(args.pod);
    if (!pod) return pod.error();
    if (auto why = not_ours(*pod, scheduler_names_)) return Error{"tpu-extender does not preempt for it: " + *why};
    VictimsByNode candidates;
    for (const auto& [node, victims] : args.victims) candidates.emplace(node, victims.pod_uids);
    VictimsByNode kept;
    {
      std::lock_guard lock(mu_);
      kept = select_preemption(state_, *pod, candidates);
    }
    std::map<std::string, wire::MetaVictims> result;
    for (const auto& [node, uids] : kept) result.emplace(node, args.victims.at(node));
    return wire::encode_preemption_result(result);
  });
}

std::string ExtenderService::debug_slices() {
  std::lock_guard lock(mu_);
  const auto& index = state_.index();
  nlohmann::json slices = nlohmann::json::array();
  for (const auto& slice : index.slices()) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& host : slice.hosts) {
      hosts.push_back({{"node", host.node},
                       {"allocatableChips", host.allocatable},
                       {"freeChips", host.free()},
                       {"ready", host.ready}});
    }
    slices.push_back({{"name", slice.name},
                      {"accelerator", slice.accelerator},
                      {"topology", slice.topology},
                      {"expectedHosts", slice.expected_hosts()},
                      {"problem", slice.shape_problem},
                      {"usedChips", slice.used_chips},
                      {"heldBy", slice.holder_name},
                      {"hosts", std::move(hosts)}});
  }
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [key, group] : index.groups()) {
    groups.push_back({{"group", group.name},
                      {"activePods", group.active_pods},
                      {"boundPods", group.bound_pods},
                      {"slice", group.slice >= 0 ? index.slices()[group.slice].name : ""},
                      {"workerNodes", group.worker_nodes},
                      {"workerHostnames", group.worker_hostnames}});
  }
  return nlohmann::json{{"synced", synced_.load()}, {"slices", std::move(slices)}, {"groups", std::move(groups)}}.dump(
      2);
}

void ExtenderService::set_synced() {
  std::lock_guard lock(mu_);
  for (const auto& [key, pod] : state_.pods()) {
    if (pod.active() && !pod.bound() && !not_ours(pod, scheduler_names_)) waiting_.try_emplace(key);
  }
  ++generation_;
  synced_ = true;
}

void ExtenderService::note_filter_answer(const std::string& pod_key, bool waiting,
                                         std::chrono::steady_clock::time_point now) {
  auto& entry = waiting_[pod_key];
  // Accepted pods are kept until the informer sees them bound: the bind may never come. Until their retry is
  // due they are left alone (their bind is on the way); a parked pod is judged again on every change.
  entry.accepted = !waiting;
  entry.retry_at.reset();
  if (!waiting) entry.retry_at = now + kFirstRetry;
}

std::vector<std::pair<std::string, ExtenderService::GroupNotice>> ExtenderService::releases_due(
    std::chrono::steady_clock::time_point now, std::chrono::nanoseconds group_timeout) {
  auto pods_of = [this](const GroupState& group) {
    std::vector<PodRef> refs;
    for (const auto& key : group.pods) {
      if (const TpuPod* pod = state_.find_pod(key)) refs.push_back({pod->ns, pod->name, pod->uid});
    }
    return refs;
  };
  // Reservations to release: lost to a pod that bypassed us, or held too long by a group that never completed.
  std::vector<std::pair<std::string, GroupNotice>> releases;
  const SliceIndex& index = state_.index();  // built before the loop: building drops stale reservations
  for (const auto& [key, reservation] : state_.reservations()) {
    const GroupState* group = index.group(key);
    // Gone, or holding its slice through bound members (a mirrored ledger keeps those reservations).
    if (!group || (group->slice >= 0 && !group->reserved)) continue;
    if (!group->lost_reservation.empty()) {
      releases.push_back(
          {key,
           {group->name, "SliceLost", "tpu-extender re-places " + group->name + ": " + group->lost_reservation, true,
            pods_of(*group)}});
      continue;
    }
    const int slice = index.slice_named(reservation.slice);
    const auto hosts = slice < 0 ? 0 : static_cast<int>(index.slices()[slice].expected_hosts());
    if (group_timeout.count() == 0 || now - reservation.since < group_timeout) continue;
    if (group->active_pods < hosts) {
      releases.push_back({key,
                          {group->name, "GroupIncomplete",
                           "released slice " + reservation.slice + ": only " + std::to_string(group->active_pods) +
                               " of " + std::to_string(hosts) + " pods of " + group->name +
                               " arrived within the group timeout; " + "pods arriving later start over",
                           true, pods_of(*group)}});
    } else if (unit_broken(*group, index)) {
      // A member's pods went or its slice was released: the others' slices would be hoarded.
      releases.push_back(
          {key,
           {group->name, "MultisliceIncomplete",
            "released slice " + reservation.slice + ": " + group->unit->name +
                " did not hold all its slices within the group timeout; its slices are placed all or none",
            true, pods_of(*group)}});
    }
  }
  // A multislice unit's slices go together: the rest of a released member's unit is released with it.
  const std::size_t decided = releases.size();
  for (std::size_t i = 0; i < decided; ++i) {
    const GroupState* group = index.group(releases[i].first);
    for (const auto& partner : released_with(*group, index)) {
      auto reservation = state_.reservations().find(partner);
      const bool listed =
          std::any_of(releases.begin(), releases.end(), [&](const auto& r) { return r.first == partner; });
      if (reservation == state_.reservations().end() || listed) continue;
      const GroupState& other = *index.group(partner);
      releases.push_back({partner,
                          {other.name, "MultisliceReleased",
                           "released slice " + reservation->second.slice + " with the rest of " + group->unit->name +
                               ": " + releases[i].second.message,
                           true, pods_of(other)}});
    }
  }
  return releases;
}

ExtenderService::Upkeep ExtenderService::upkeep(std::chrono::steady_clock::time_point now,
                                                std::chrono::nanoseconds group_timeout,
                                                std::chrono::nanoseconds nudge_interval) {
  Upkeep upkeep;
  if (shared_) upkeep.notices = release_shared(now, group_timeout);  // API calls outside the lock
  std::lock_guard lock(mu_);
  if (!shared_) {
    for (auto& [key, notice] : releases_due(now, group_timeout)) {
      state_.release(key);
      ++generation_;
      upkeep.notices.push_back(std::move(notice));
    }
  }

  const bool changed = generation_ != judged_generation_;
  bool deferred = false;  // a pod nudged less than nudge_interval ago is judged again at a later call
  std::vector<std::string> every_node;
  for (const auto& slice : state_.index().slices()) {
    for (const auto& host : slice.hosts) every_node.push_back(host.node);
  }
  std::map<std::string, GroupNotice> by_group;
  std::map<std::string, GroupNotice> unit_waits;  // multislice units that cannot be made whole, by unit key
  std::set<std::string> units_waiting;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto& [key, waiting] = *it;
    const TpuPod* pod = state_.find_pod(key);
    if (!pod) {
      it = now - waiting.since > std::chrono::minutes(1) ? waiting_.erase(it) : std::next(it);
      continue;
    }
    ++it;
    if (pod->group && pod->group->unit) units_waiting.insert(pod->group->unit->key);
    const bool retry_due = waiting.retry_at && now >= *waiting.retry_at;
    if (!retry_due && (!changed || waiting.accepted)) continue;
    if (now - waiting.last_nudge < nudge_interval) {
      deferred = true;
      continue;
    }
    waiting.retry_at.reset();  // judged now; a pod that does not fit waits for a change
    waiting.accepted = false;
    auto request = analyze_pod(*pod, state_.index());
    // A unit that free slices would make whole is reserved by the first member filtered: nudge them.
    const bool unit_reservable = request.unit && !request.unit->reserve.empty();
    if (!waiting.after_error && !unit_reservable && filter_nodes(request, state_.index(), every_node).passed.empty()) {
      if (request.unit && !request.unit->whole) note_unit_waiting(request, unit_waits);
      continue;
    }
    waiting.last_nudge = now;
    waiting.retry_at =
        now + std::min<std::chrono::nanoseconds>(kFirstRetry * (1 << std::min(waiting.nudges, 6)), kLastRetry);
    ++waiting.nudges;
    upkeep.nudge.push_back({pod->ns, pod->name, pod->uid});
    std::string who = pod->group ? pod->group->name : key;
    auto& line = by_group[who];
    line.group = who;
    line.message = waiting.after_error ? "its last scheduling attempt failed"
                   : request.group && request.group->slice >= 0
                       ? "slice " + state_.index().slices()[request.group->slice].name + " is its"
                       : "a node fits now";
    line.pods.push_back(upkeep.nudge.back());
  }
  for (auto& [who, line] : by_group) upkeep.nudged.push_back(std::move(line));
  for (auto& [unit, notice] : unit_waits) {
    if (std::exchange(unit_waits_told_[unit], notice.message) != notice.message) upkeep.notices.push_back(notice);
  }
  if (!deferred) std::erase_if(unit_waits_told_, [&](const auto& told) { return !units_waiting.contains(told.first); });
  if (changed && !deferred) judged_generation_ = generation_;
  return upkeep;
}

void ExtenderService::note_unit_waiting(const PodRequest& request, std::map<std::string, GroupNotice>& unit_waits) {
  const UnitMembership& unit = *request.pod.group->unit;
  auto& notice = unit_waits[unit.key];
  notice.group = unit.name;
  notice.reason = "MultisliceWaiting";
  notice.message = request.unit->waiting;
  // On the leaders only: one Event per slice is enough to see why the whole unit waits.
  if (request.pod.group->leader()) notice.pods.push_back({request.pod.ns, request.pod.name, request.pod.uid});
}

void ExtenderService::refresh_gauges() {
  std::lock_guard lock(mu_);
  const auto& index = state_.index();
  int free = 0, reserved = 0, in_use = 0, placed = 0, waiting = 0;
  for (const auto& slice : index.slices()) {
    if (!slice.holder.empty()) {
      ++reserved;
    } else if (slice.used_chips > 0) {
      ++in_use;
    } else if (slice.complete() && slice.spec) {
      ++free;
    }
  }
  // A group of single-host pods holds no slice; it counts as placed once any of its pods is bound.
  for (const auto& [key, group] : index.groups()) (group.slice >= 0 || group.bound_pods > 0 ? placed : waiting) += 1;
  slices_.labels({"free"}).set(free);
  slices_.labels({"reserved"}).set(reserved);
  slices_.labels({"in_use"}).set(in_use);
  groups_.labels({"placed"}).set(placed);
  groups_.labels({"waiting"}).set(waiting);
}

void ExtenderService::share_reservations(SharedReservations& ledger) {
  std::lock_guard lock(mu_);
  shared_ = &ledger;
  state_.mirror_reservations({});
}

void ExtenderService::apply_reservations(const nlohmann::json& config_map) {
  auto ledger = ledger_from_config_map(config_map);
  std::lock_guard lock(mu_);
  mirror(ledger);
}

void ExtenderService::mirror(const ReservationLedger& ledger) {
  if (!ledger.newer_than(ledger_)) return;  // a write of ours already showed more than this event
  ledger_ = ledger;
  const auto steady_now = std::chrono::steady_clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  std::map<std::string, ClusterState::Reservation> reservations;
  for (const auto& [group, entry] : ledger_.entries()) {
    reservations[group] = {entry.slice, steady_now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                         wall_now - entry.since)};
  }
  state_.mirror_reservations(std::move(reservations));
  ++generation_;
}

Result<ReservingFilter> ExtenderService::reserve_shared(std::unique_lock<std::mutex>& lock, const TpuPod& pod,
                                                        const std::vector<std::string>& nodes,
                                                        ReservingFilter filtered) {
  Reservations granted;
  const std::string& who = pod.group->unit ? pod.group->unit->name : pod.group->name;
  for (int claims = 0; !filtered.reserved.empty(); ++claims) {
    // The reservations are only in this replica's memory: they are promised once the shared ledger has them (a
    // multislice unit's all in one write, or none), and the pod is judged again on what the ledger holds.
    const Reservations wanted = filtered.reserved;
    for (const auto& [group, slice] : wanted) state_.release(group);
    if (claims == kMaxClaimsPerFilter) {
      waiting_.try_emplace(pod.key());
      return Error{"the shared reservations changed " + std::to_string(claims) + " times while placing " + who +
                   "; try again"};
    }
    lock.unlock();
    auto claimed = shared_->claim_all(wanted);
    lock.lock();
    if (!claimed) {
      waiting_.try_emplace(pod.key());
      return Error{"cannot reserve slice " + slice_list(wanted) + " for " + who +
                   " in the shared reservations: " + claimed.error().message};
    }
    const SharedReservations::Claim& claim = *claimed;
    mirror(claim.ledger);
    if (claim.outcome.kind == ClaimOutcome::Kind::kGranted) {
      granted = wanted;
    } else if (claim.outcome.kind == ClaimOutcome::Kind::kSliceTaken) {
      spdlog::info("slice {} went to {} on another replica first; judging {} again", slice_list(wanted),
                   claim.outcome.other, pod.key());
    } else if (claim.outcome.kind == ClaimOutcome::Kind::kGroupHoldsAnother) {
      spdlog::info("{} holds slice {} (reserved on another replica); judging {} again", who, claim.outcome.other,
                   pod.key());
    }
    filtered = filter_reserving(state_, pod, nodes, std::chrono::steady_clock::now());
  }
  filtered.reserved = granted;
  auto own = granted.find(pod.group->key);
  filtered.reserved_slice = own == granted.end() ? "" : own->second;
  return filtered;
}

Result<void> ExtenderService::confirm_shared(const std::string& pod_key, const Placement& placement) {
  if (!shared_ || placement.worker_id < 0) return {};  // not a group member: nothing promised
  std::string group;
  {
    std::lock_guard lock(mu_);
    if (const TpuPod* pod = state_.find_pod(pod_key); pod && pod->group) group = pod->group->key;
  }
  if (group.empty()) return {};
  // Bind is the commit point: the ledger, read fresh, must give this group the node's slice (claimed now when
  // nobody holds it, as after a restart between filter and bind).
  std::string refused;
  if (auto claim = shared_->claim(group, placement.slice); claim) {
    std::lock_guard lock(mu_);
    mirror(claim->ledger);
    if (claim->outcome.granted()) return {};
    refused = claim->outcome.kind == ClaimOutcome::Kind::kSliceTaken
                  ? "slice " + placement.slice + " is reserved by " + claim->outcome.other
                  : "its group holds slice " + claim->outcome.other;
  } else {
    refused = "the shared reservations cannot be read: " + claim.error().message;
  }
  std::lock_guard lock(mu_);
  state_.forget(pod_key);
  waiting_.try_emplace(pod_key);  // parked by the refusal: nudged once it fits
  ++generation_;
  return Error{"not binding " + pod_key + ": " + refused};
}

std::vector<ExtenderService::GroupNotice> ExtenderService::release_shared(std::chrono::steady_clock::time_point now,
                                                                          std::chrono::nanoseconds group_timeout) {
  std::vector<std::pair<std::string, GroupNotice>> releases;
  std::vector<std::pair<std::string, LedgerEntry>> expected;  // what each release was decided on
  std::vector<std::pair<std::string, LedgerEntry>> abandoned_entries;
  {
    std::lock_guard lock(mu_);
    releases = releases_due(now, group_timeout);
    for (const auto& [group, notice] : releases) {
      if (const LedgerEntry* entry = ledger_.find(group)) expected.emplace_back(group, *entry);
    }
    const SliceIndex& index = state_.index();
    const auto wall_now = std::chrono::system_clock::now();
    for (const auto& [group, entry] : ledger_.entries()) {
      if (!index.group(group) && abandoned(entry, groups_left_.contains(group), wall_now, kAbandonedGrace)) {
        abandoned_entries.emplace_back(group, entry);
      }
    }
    std::erase_if(groups_left_, [this](const std::string& group) { return ledger_.find(group) == nullptr; });
  }
  if (expected.empty() && abandoned_entries.empty()) return {};
  std::set<std::string> released;
  auto stored = shared_->modify([&](ReservationLedger& ledger) {
    released.clear();
    for (const auto& [group, entry] : expected) {
      if (ledger.release(group, entry)) released.insert(group);
    }
    for (const auto& [group, entry] : abandoned_entries) {
      if (ledger.release(group, entry)) released.insert(group);
    }
    return !released.empty();
  });
  if (!stored) {
    spdlog::warn("cannot release reservations in the shared ledger (next try in a moment): {}", stored.error().message);
    return {};
  }
  std::lock_guard lock(mu_);
  mirror(*stored);
  for (const auto& [group, entry] : abandoned_entries) {
    if (released.contains(group)) {
      spdlog::info("dropped the reservation of {} on slice {}: none of its pods is left", group, entry.slice);
    }
  }
  // Events only from the replica whose write released it, so that a release is told once.
  std::vector<GroupNotice> notices;
  for (auto& [group, notice] : releases) {
    if (released.contains(group)) notices.push_back(std::move(notice));
  }
  return notices;
}

}  // namespace tpustack::extender
