#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "inferd/batching/ticket.h"
#include "inferd/server/request_error.h"
#include "inferd/slice/slice_workers.h"

namespace tpustack::inferd::server {

struct CallContext;
struct Timing;

// A part of a request: its inputs [first, first + count). Parts are what run() queues (--max-client-batch-size
// inputs), so a request of fewer inputs is one part, kept whole on one worker.
struct Part {
  size_t first = 0, count = 0;
};

// Runs a part here, through this process's batcher.
using LocalPart = std::function<Result<batching::Rows, RequestError>(Part, Timing&)>;
// Sends a part to follower `worker` as the same inferd.v1 call a client would make, asking for the rows the local
// batcher gives (no normalisation, raw scores) so the leader finishes every part alike.
using FollowerPart = std::function<std::unique_ptr<slice::FollowerCall>(size_t worker, Part)>;

// The parts of a request of `inputs` inputs: `part_size` each, the last one what is left.
std::vector<Part> parts_of(size_t inputs, size_t part_size);

// run() without a slice: every part here, one after another; the first part's error is the request's.
Result<batching::Rows, RequestError> run_parts_here(size_t inputs, size_t part_size, const LocalPart& local,
                                                    Timing& timing);

// The leader's run() over a slice: each part goes to the worker the router chooses; a part whose follower failed is
// sent again to another worker (the leader itself last, which never refuses for the slice's sake), so every part is
// answered exactly once and the rows come back in input order. A local part's error is the request's, as without a
// slice; so are the client's deadline and its going away.
Result<batching::Rows, RequestError> spread_parts(slice::SliceWorkers& slice, size_t inputs, size_t part_size,
                                                  const LocalPart& local, const FollowerPart& follower,
                                                  const CallContext& context, Timing& timing);

}  // namespace tpustack::inferd::server
