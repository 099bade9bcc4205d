#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/retry/backoff.h"

namespace tpustack::inferd::slice {

using Clock = std::chrono::steady_clock;

// One worker as /info shows it.
struct WorkerStatus {
  std::string address;
  bool self = false;
  bool serving = true;
  std::string last_error;      // why it is out
  Clock::time_point retry_at;  // when out: the next Health probe
  size_t outstanding = 0;      // sequences of the leader's units it holds now: its queue as the leader sees it
  uint64_t units = 0;          // units the leader gave it

  const char* state() const { return serving ? "serving" : "out"; }
  // When out: milliseconds from `now` to its next probe (0 when it is due).
  uint64_t retry_in_ms(Clock::time_point now) const {
    if (serving || retry_at <= now) return 0;
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(retry_at - now).count());
  }
};

// The leader's decisions over a slice's workers (no I/O, not thread-safe: its owner locks). Each unit of work goes
// to the serving worker with the shortest queue; a worker whose call failed is out until a Health probe, after the
// backoff of common/retry, finds it serving again. The leader itself is never out: it is where work goes last.
class SliceRouter {
 public:
  SliceRouter(std::vector<std::string> addresses, size_t self, retry::Backoff::Policy policy, uint64_t seed);

  // The worker for a unit of `sequences`, leaving out `excluded` (workers that already failed this unit), counted
  // as holding it until finished() or failed().
  size_t choose(size_t sequences, const std::set<size_t>& excluded = {});
  void finished(size_t worker, size_t sequences);
  // The call failed: the worker is out, its first probe one backoff after `now`, unless it was only `busy` (a full
  // queue is no fault: the unit goes elsewhere and the worker stays in).
  void failed(size_t worker, size_t sequences, const std::string& error, bool busy, Clock::time_point now);

  // Workers out whose probe is due at `now`; each is probed once until probed() tells its outcome.
  std::vector<size_t> probes_due(Clock::time_point now);
  // A probe's outcome: nullopt is serving (the worker is back), else why not (out again, the backoff longer).
  void probed(size_t worker, const std::optional<std::string>& error, Clock::time_point now);

  // The worker out from the start, probed at once: followers usually start with the leader, and a unit sent before
  // one listens would only fail.
  void start_out(size_t worker, const std::string& why, Clock::time_point now);

  std::vector<WorkerStatus> workers() const;
  size_t self() const { return self_; }
  size_t size() const { return workers_.size(); }

 private:
  struct Worker {
    WorkerStatus status;
    retry::Backoff backoff;
    bool probing = false;
  };
  void take_out(Worker& worker, const std::string& error, Clock::time_point now);

  std::vector<Worker> workers_;
  size_t self_;
  size_t next_ = 0;  // where the search for the shortest queue starts: ties go round the slice
};

}  // namespace tpustack::inferd::slice
