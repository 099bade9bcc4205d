#include "extender/model/reservation_ledger.h"

#include <charconv>
#include <cstdint>

namespace tpustack::extender {

namespace {

bool as_number(const std::string& text, std::uint64_t& value) {
  const char* end = text.data() + text.size();
  auto [at, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && at == end && !text.empty();
}

}  // namespace

ReservationLedger::ReservationLedger(Entries entries, std::string version)
    : entries_(std::move(entries)), version_(std::move(version)) {}

ClaimOutcome ReservationLedger::claim(const std::string& group, const std::string& slice,
                                      std::chrono::system_clock::time_point now) {
  if (const LedgerEntry* held = find(group)) {
    if (held->slice == slice) return {ClaimOutcome::Kind::kAlreadyHeld, slice};
    return {ClaimOutcome::Kind::kGroupHoldsAnother, held->slice};
  }
  if (std::string holder = holder_of(slice); !holder.empty()) return {ClaimOutcome::Kind::kSliceTaken, holder};
  entries_.emplace(group, LedgerEntry{slice, now});
  return {ClaimOutcome::Kind::kGranted, ""};
}

ClaimOutcome ReservationLedger::claim_all(const std::map<std::string, std::string>& slices,
                                          std::chrono::system_clock::time_point now) {
  ReservationLedger changed = *this;
  ClaimOutcome overall{ClaimOutcome::Kind::kAlreadyHeld, ""};
  for (const auto& [group, slice] : slices) {
    ClaimOutcome outcome = changed.claim(group, slice, now);
    if (!outcome.granted()) return outcome;
    if (outcome.kind == ClaimOutcome::Kind::kGranted) overall = outcome;
  }
  entries_ = std::move(changed.entries_);
  return overall;
}

bool ReservationLedger::release(const std::string& group, const LedgerEntry& expected) {
  auto it = entries_.find(group);
  if (it == entries_.end() || it->second != expected) return false;
  entries_.erase(it);
  return true;
}

const LedgerEntry* ReservationLedger::find(const std::string& group) const {
  auto it = entries_.find(group);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string ReservationLedger::holder_of(const std::string& slice) const {
  for (const auto& [group, entry] : entries_) {
    if (entry.slice == slice) return group;
  }
  return "";
}

bool ReservationLedger::newer_than(const ReservationLedger& other) const {
  if (version_.empty()) return false;
  if (other.version_.empty()) return true;
  std::uint64_t mine = 0, theirs = 0;
  if (as_number(version_, mine) && as_number(other.version_, theirs)) return mine > theirs;
  return version_ != other.version_;  // opaque versions: any other one is a later write
}

bool abandoned(const LedgerEntry& entry, bool group_seen_leaving, std::chrono::system_clock::time_point now,
               std::chrono::nanoseconds grace) {
  return group_seen_leaving || now - entry.since >= grace;
}

}  // namespace tpustack::extender
