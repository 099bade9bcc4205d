#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "inferd/server/generation_wire.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/request_error.h"
#include "inferd/server/server_metrics.h"

namespace tpustack::inferd::server {

// A generation the engine has taken: the model it runs on (held until the answer ends), the stream of its
// updates, and what the answer says of it so far.
struct StartedGeneration {
  std::shared_ptr<LoadedModel> model;
  std::shared_ptr<generation::GenerationStream> stream;
  GenerationOutcome outcome;
  ServerMetrics* metrics = nullptr;
  std::chrono::steady_clock::time_point arrived;     // the request's
  std::chrono::steady_clock::time_point last_token;  // none yet: the epoch
  // Whether the answer shows each token (logprobs, TGI's tokens): only then are their texts looked up.
  bool report_tokens = false;

  // Adds an update's text, tokens (as ReportedTokens, when reported) and end to the outcome, and its timing to the
  // metrics; returns how many tokens it added.
  size_t add(const generation::GenerationUpdate& update);

  // Reads the updates until the last one or an error: each is added, then handed to `deliver` with the number of
  // tokens it added. `present` is asked whenever nothing came for a while (a client that hung up, a deadline
  // passed). Either returning false cancels the generation and ends the reading with false.
  bool follow(const std::function<bool()>& present,
              const std::function<bool(const generation::GenerationUpdate&, size_t added)>& deliver);
};

// The protocol-neutral part of text generation: the model that generates for the request, its prompt (the chat
// template rendered, or the text), the sampling over the model's defaults, and the engine's queue. A request that
// would wait for room in the KV cache is refused with 429 (Retry-After) rather than queued.
Result<StartedGeneration, RequestError> start_generation(InferenceService& service, const GenerationRequest& request);

// Sets the gauges of every resident decoder (sequences running and waiting, KV cache blocks used and free): what a
// scrape of /metrics reads.
void publish_generation_gauges(const ModelPool& pool, ServerMetrics& metrics);

}  // namespace tpustack::inferd::server
