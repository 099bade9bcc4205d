#pragma once

#include <chrono>
#include <map>
#include <string>

namespace tpustack::extender {

// One promise in the ledger: the slice a group holds and since when (wall clock: replicas share it).
struct LedgerEntry {
  std::string slice;
  std::chrono::system_clock::time_point since;

  bool operator==(const LedgerEntry&) const = default;
};

// What a claim found in the ledger.
struct ClaimOutcome {
  enum class Kind {
    kGranted,            // recorded now
    kAlreadyHeld,        // the group held that slice already
    kGroupHoldsAnother,  // the group holds `other` (a slice)
    kSliceTaken,         // `other` (a group) holds the slice
  };
  Kind kind = Kind::kGranted;
  std::string other;

  bool granted() const { return kind == Kind::kGranted || kind == Kind::kAlreadyHeld; }
};

// The reservations every tpu-extender replica shares (stored in one ConfigMap, see
// service/shared_reservations.h): group key → the slice promised to it. Its rules keep two promises for any
// interleaving of replicas, as long as each change is made to the latest stored copy: a slice is promised to
// at most one group, and a group holds at most one slice. No I/O.
class ReservationLedger {
 public:
  using Entries = std::map<std::string, LedgerEntry>;

  ReservationLedger() = default;
  // `version`: the resourceVersion of the object the entries were read from; "" when there was none.
  ReservationLedger(Entries entries, std::string version);

  // May `group` take `slice`? Records it (since `now`) when the group holds nothing and nobody holds the slice.
  ClaimOutcome claim(const std::string& group, const std::string& slice, std::chrono::system_clock::time_point now);
  // Claims each group's slice of `slices` (group → slice), or none: the first refusal is returned and the ledger
  // left as it was, so that a multislice unit never holds part of what it needs. kGranted when any was recorded.
  ClaimOutcome claim_all(const std::map<std::string, std::string>& slices, std::chrono::system_clock::time_point now);
  // Drops the group's entry only when it is still `expected`, so that a release decided on an older copy never
  // removes a newer promise. Returns whether it dropped it.
  bool release(const std::string& group, const LedgerEntry& expected);

  const LedgerEntry* find(const std::string& group) const;
  // The group holding `slice`; "" when none.
  std::string holder_of(const std::string& slice) const;
  const Entries& entries() const { return entries_; }
  const std::string& version() const { return version_; }
  // Whether this copy was stored after `other` (resourceVersions compared as the API server's integers; a copy
  // read from an absent object is older than any other).
  bool newer_than(const ReservationLedger& other) const;

 private:
  Entries entries_;
  std::string version_;
};

// Whether a replica may drop an entry whose group it knows no pod of: when it saw the group's last pods go, or
// when the entry is older than `grace`. A fresh entry made by another replica for pods this replica's informer
// has not shown yet stays.
bool abandoned(const LedgerEntry& entry, bool group_seen_leaving, std::chrono::system_clock::time_point now,
               std::chrono::nanoseconds grace);

}  // namespace tpustack::extender
