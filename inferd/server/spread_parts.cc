#include "inferd/server/spread_parts.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <vector>

#include "inferd/server/inference_service.h"

namespace tpustack::inferd::server {

namespace {

using batching::Clock;

// A part on a follower, and the workers that failed it before.
struct SentPart {
  size_t index = 0;
  size_t worker = 0;
  std::unique_ptr<slice::FollowerCall> call;
  std::set<size_t> failed_on;
};

// The parts placed and not yet answered: on followers, and those this process runs. Leaving early (an error, the
// deadline) cancels the followers' calls and gives every worker's queue back to the router.
class PlacedParts {
 public:
  PlacedParts(slice::SliceWorkers& slice, const std::vector<Part>& parts) : slice_(slice), parts_(parts) {}
  ~PlacedParts() {
    for (const SentPart& part : sent) slice_.finished(part.worker, parts_[part.index].count);
    for (size_t index : here) slice_.finished(slice_.self(), parts_[index].count);
  }
  PlacedParts(const PlacedParts&) = delete;
  PlacedParts& operator=(const PlacedParts&) = delete;

  std::vector<SentPart> sent;
  std::deque<size_t> here;  // in the order chosen

 private:
  slice::SliceWorkers& slice_;
  const std::vector<Part>& parts_;
};

// A part run here, its queue and inference time added to the request's.
Result<batching::Rows, RequestError> run_here(const LocalPart& local, Part part, Timing& timing) {
  Timing part_timing;
  auto rows = local(part, part_timing);
  timing.queue += part_timing.queue;
  timing.inference += part_timing.inference;
  return rows;
}

// Every part's rows, in part order, as the request's.
batching::Rows joined(std::vector<std::optional<batching::Rows>>& answered) {
  batching::Rows all;
  for (auto& rows : answered) {
    all.width = rows->width;
    all.values.insert(all.values.end(), rows->values.begin(), rows->values.end());
  }
  return all;
}

}  // namespace

std::vector<Part> parts_of(size_t inputs, size_t part_size) {
  std::vector<Part> parts;
  for (size_t first = 0; first < inputs; first += part_size)
    parts.push_back({first, std::min(part_size, inputs - first)});
  return parts;
}

Result<batching::Rows, RequestError> run_parts_here(size_t inputs, size_t part_size, const LocalPart& local,
                                                    Timing& timing) {
  std::vector<std::optional<batching::Rows>> answered;
  for (const Part& part : parts_of(inputs, part_size)) {
    auto rows = run_here(local, part, timing);
    if (!rows) return rows.error();
    answered.emplace_back(std::move(rows).value());
  }
  return joined(answered);
}

Result<batching::Rows, RequestError> spread_parts(slice::SliceWorkers& slice, size_t inputs, size_t part_size,
                                                  const LocalPart& local, const FollowerPart& follower,
                                                  const CallContext& context, Timing& timing) {
  const std::vector<Part> parts = parts_of(inputs, part_size);
  std::vector<std::optional<batching::Rows>> answered(parts.size());
  PlacedParts placed(slice, parts);

  auto place = [&](size_t index, std::set<size_t> failed_on) {
    const bool retry = !failed_on.empty();
    const size_t worker = slice.choose(parts[index].count, failed_on, retry);
    if (worker == slice.self()) {
      placed.here.push_back(index);
    } else {
      placed.sent.push_back({index, worker, follower(worker, parts[index]), std::move(failed_on)});
    }
  };
  for (size_t i = 0; i < parts.size(); ++i) place(i, {});

  while (true) {
    // The leader's own parts first: its followers compute theirs meanwhile.
    while (!placed.here.empty()) {
      const size_t index = placed.here.front();
      auto rows = run_here(local, parts[index], timing);
      placed.here.pop_front();
      slice.finished(slice.self(), parts[index].count);
      if (!rows) return rows.error();
      answered[index] = std::move(rows).value();
    }
    std::vector<SentPart>& out = placed.sent;
    if (out.empty()) break;
    // Wake now and then to notice a client that went away, as run_part does.
    const Clock::time_point until = std::min(context.deadline, Clock::now() + std::chrono::milliseconds(20));
    auto done = std::find_if(out.begin(), out.end(), [&](SentPart& s) { return s.call->wait_until(Clock::now()); });
    if (done == out.end() && out.front().call->wait_until(until)) done = out.begin();
    if (done != out.end()) {
      SentPart part = std::move(*done);
      out.erase(done);
      const Part& range = parts[part.index];
      auto rows = part.call->take();
      if (rows && rows->rows.size() != range.count) {
        rows = Error{"answered " + std::to_string(rows->rows.size()) + " rows for " + std::to_string(range.count) +
                     " inputs"};
      }
      if (rows) {
        slice.finished(part.worker, range.count);
        timing.queue += rows->queue;
        timing.inference += rows->inference;
        answered[part.index] = std::move(rows->rows);
        continue;
      }
      slice.failed(part.worker, range.count, rows.error().message, part.call->busy());
      part.failed_on.insert(part.worker);
      if (Clock::now() < context.deadline) {
        place(part.index, std::move(part.failed_on));
        continue;
      }
    }
    if (Clock::now() >= context.deadline) {
      return RequestError{504, "timeout", "the request's deadline passed before its batch finished"};
    }
    if (context.cancelled && context.cancelled()) return RequestError{499, "cancelled", "the client went away"};
  }

  return joined(answered);
}

}  // namespace tpustack::inferd::server
