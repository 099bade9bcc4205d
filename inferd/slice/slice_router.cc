#include "inferd/slice/slice_router.h"

namespace tpustack::inferd::slice {

SliceRouter::SliceRouter(std::vector<std::string> addresses, size_t self, retry::Backoff::Policy policy, uint64_t seed)
    : self_(self) {
  workers_.reserve(addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) {
    WorkerStatus status;
    status.address = std::move(addresses[i]);
    status.self = i == self;
    workers_.push_back({std::move(status), retry::Backoff(policy, seed + i)});
  }
}

size_t SliceRouter::choose(size_t sequences, const std::set<size_t>& excluded) {
  std::optional<size_t> best;
  for (size_t k = 0; k < workers_.size(); ++k) {
    const size_t i = (next_ + k) % workers_.size();
    const WorkerStatus& candidate = workers_[i].status;
    if (i != self_ && (!candidate.serving || excluded.contains(i))) continue;
    if (!best || candidate.outstanding < workers_[*best].status.outstanding) best = i;
  }
  next_ = (*best + 1) % workers_.size();
  WorkerStatus& chosen = workers_[*best].status;
  chosen.outstanding += sequences;
  ++chosen.units;
  return *best;
}

void SliceRouter::finished(size_t worker, size_t sequences) {
  WorkerStatus& status = workers_.at(worker).status;
  status.outstanding -= std::min(sequences, status.outstanding);
}

void SliceRouter::failed(size_t worker, size_t sequences, const std::string& error, bool busy, Clock::time_point now) {
  finished(worker, sequences);
  if (worker == self_ || busy) return;
  Worker& w = workers_.at(worker);
  if (w.status.serving) take_out(w, error, now);  // calls in flight when it fell fail too: one backoff step for all
}

void SliceRouter::take_out(Worker& worker, const std::string& error, Clock::time_point now) {
  worker.status.serving = false;
  worker.status.last_error = error;
  worker.status.retry_at = now + worker.backoff.next();
}

void SliceRouter::start_out(size_t worker, const std::string& why, Clock::time_point now) {
  if (worker == self_) return;
  WorkerStatus& status = workers_.at(worker).status;
  status.serving = false;
  status.last_error = why;
  status.retry_at = now;
}

std::vector<size_t> SliceRouter::probes_due(Clock::time_point now) {
  std::vector<size_t> due;
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = workers_[i];
    if (w.status.serving || w.probing || now < w.status.retry_at) continue;
    w.probing = true;
    due.push_back(i);
  }
  return due;
}

void SliceRouter::probed(size_t worker, const std::optional<std::string>& error, Clock::time_point now) {
  Worker& w = workers_.at(worker);
  w.probing = false;
  if (!error) {
    w.status.serving = true;
    w.status.last_error.clear();
    w.backoff.reset();
    return;
  }
  take_out(w, *error, now);
}

std::vector<WorkerStatus> SliceRouter::workers() const {
  std::vector<WorkerStatus> all;
  for (const Worker& w : workers_) all.push_back(w.status);
  return all;
}

}  // namespace tpustack::inferd::slice
