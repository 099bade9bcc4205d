#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/kube/kube_client.h"
#include "extender/model/reservation_ledger.h"

namespace tpustack::extender {

// The ConfigMap every replica keeps its reservations in, and the data key holding them as JSON:
// {"<group key>": {"slice": "<slice>", "since": "<RFC 3339>"}}.
inline constexpr const char* kReservationsConfigMap = "tpu-extender-reservations";
inline constexpr const char* kReservationsKey = "reservations";

// A ConfigMap as the API server returns it (or as an informer delivers it) → the ledger, its resourceVersion
// kept. Entries that cannot be read are skipped with a warning.
ReservationLedger ledger_from_config_map(const nlohmann::json& config_map);

// The reservation ledger shared by every tpu-extender replica: one ConfigMap, changed only by read-modify-write
// with its resourceVersion as precondition, so that all changes are serialised by the API server and the
// ledger's two promises hold (one group per slice, one slice per group). Thread-safe; every call is blocking I/O.
class SharedReservations {
 public:
  SharedReservations(kube::KubeClient& client, std::string ns, std::string name = kReservationsConfigMap);

  const std::string& ns() const { return ns_; }
  const std::string& name() const { return name_; }

  // A fresh GET; an absent ConfigMap is an empty ledger. An error when the API refuses or is away.
  Result<ReservationLedger> read();
  // Applies `change` to a fresh copy; when it says it changed something, writes the copy back (PUT with the
  // copy's resourceVersion, or POST when there is no ConfigMap yet). A 409 (another replica wrote first)
  // re-reads and applies `change` again, so `change` must decide on what it is given. Returns the ledger as
  // stored afterwards. An error when the API refuses or is away, or keeps conflicting.
  Result<ReservationLedger> modify(const std::function<bool(ReservationLedger&)>& change);

  struct Claim {
    ClaimOutcome outcome;
    ReservationLedger ledger;  // as stored after the claim
  };
  // ReservationLedger::claim on the stored ledger, written when granted anew.
  Result<Claim> claim(const std::string& group, const std::string& slice);
  // ReservationLedger::claim_all on the stored ledger: every entry written in one update, or none.
  Result<Claim> claim_all(const std::map<std::string, std::string>& slices);

 private:
  nlohmann::json config_map(const ReservationLedger& ledger) const;

  kube::KubeClient& client_;
  std::string ns_;
  std::string name_;
};

}  // namespace tpustack::extender
