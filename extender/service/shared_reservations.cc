#include "extender/service/shared_reservations.h"

#include <thread>

#include <spdlog/spdlog.h>

#include "common/kube/event.h"
#include "common/retry/backoff.h"

namespace tpustack::extender {

namespace {

using nlohmann::json;

// Each conflict means another replica's change went through, so the ledger moves on; this many in a row
// means the replicas are writing faster than one of them can read, and the caller answers an error instead.
constexpr int kMaxConflicts = 16;

}  // namespace

ReservationLedger ledger_from_config_map(const json& config_map) {
  const json metadata = config_map.value("metadata", json::object());
  const std::string text = config_map.value("data", json::object()).value(kReservationsKey, "");
  ReservationLedger::Entries entries;
  const json stored = text.empty() ? json::object() : json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!stored.is_object()) {
    spdlog::warn("reservations ConfigMap {}: data.{} is not a JSON object; read as empty", metadata.value("name", ""),
                 kReservationsKey);
  } else {
    for (const auto& [group, entry] : stored.items()) {
      const auto since = entry.is_object() ? kube::parse_rfc3339(entry.value("since", "")) : std::nullopt;
      const std::string slice = entry.is_object() ? entry.value("slice", "") : "";
      if (!since || slice.empty()) {
        spdlog::warn("reservations ConfigMap: skipping the entry of {}: {}", group, entry.dump());
        continue;
      }
      entries.emplace(group, LedgerEntry{slice, *since});
    }
  }
  return ReservationLedger(std::move(entries), metadata.value("resourceVersion", ""));
}

SharedReservations::SharedReservations(kube::KubeClient& client, std::string ns, std::string name)
    : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

json SharedReservations::config_map(const ReservationLedger& ledger) const {
  json entries = json::object();
  for (const auto& [group, entry] : ledger.entries()) {
    entries[group] = {{"slice", entry.slice}, {"since", kube::rfc3339(entry.since)}};
  }
  json metadata = {{"name", name_}, {"namespace", ns_}};
  if (!ledger.version().empty()) metadata["resourceVersion"] = ledger.version();
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", std::move(metadata)},
          {"data", {{kReservationsKey, entries.dump()}}}};
}

Result<ReservationLedger> SharedReservations::read() {
  auto stored = client_.get(kube::resources::kConfigMaps, ns_, name_);
  if (stored) return ledger_from_config_map(*stored);
  if (kube::not_found(stored.error())) return ReservationLedger{};
  return stored.error();
}

Result<ReservationLedger> SharedReservations::modify(const std::function<bool(ReservationLedger&)>& change) {
  retry::Backoff backoff({std::chrono::milliseconds(5), std::chrono::milliseconds(100), 2.0, 0.5});
  for (int conflicts = 0;; ++conflicts) {
    auto ledger = read();
    if (!ledger || !change(*ledger)) return ledger;
    const auto written = ledger->version().empty()
                             ? client_.create(kube::resources::kConfigMaps, ns_, config_map(*ledger))
                             : client_.replace(kube::resources::kConfigMaps, ns_, name_, config_map(*ledger));
    if (written) return ledger_from_config_map(*written);
    // Conflict on PUT, AlreadyExists on POST: another replica wrote first; decide again on what it wrote.
    if (!kube::conflict(written.error()) || conflicts + 1 >= kMaxConflicts) return written.error();
    spdlog::debug("reservations {}/{}: another replica wrote first ({}); reading again", ns_, name_,
                  peer_reason(written.error()));
    std::this_thread::sleep_for(backoff.next());
  }
}

Result<SharedReservations::Claim> SharedReservations::claim(const std::string& group, const std::string& slice) {
  return claim_all({{group, slice}});
}

Result<SharedReservations::Claim> SharedReservations::claim_all(const std::map<std::string, std::string>& slices) {
  ClaimOutcome outcome;
  auto stored = modify([&](ReservationLedger& ledger) {
    outcome = ledger.claim_all(slices, std::chrono::system_clock::now());
    return outcome.kind == ClaimOutcome::Kind::kGranted;
  });
  if (!stored) return stored.error();
  return Claim{std::move(outcome), std::move(*stored)};
}

}  // namespace tpustack::extender
