#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "inferd/batching/ticket.h"
#include "inferd/server/input_limits.h"
#include "inferd/server/model_pool.h"
#include "inferd/server/model_routing.h"
#include "inferd/server/predictions.h"
#include "inferd/server/request_error.h"
#include "inferd/server/server_metrics.h"
#include "inferd/server/spread_parts.h"
#include "inferd/server/truncation.h"

namespace tpustack::inferd::server {

template <class T>
using Answer = Result<T, RequestError>;

// How long the caller may wait, and whether it is still there.
struct CallContext {
  batching::Clock::time_point deadline;
  std::function<bool()> cancelled;  // may be empty
  std::string method = "embed";     // metrics label
  // Inputs one request may carry when more than --max-client-batch-size (OpenAI's route takes 2,048); they go to the
  // queue in parts of --max-client-batch-size.
  size_t max_inputs = 0;
  // Background: a batch job's line, run only in capacity interactive requests leave.
  batching::Priority priority = batching::Priority::interactive;
};

struct Timing {
  batching::Clock::duration tokenization{}, queue{}, inference{}, total{};
  size_t tokens = 0;
  size_t characters = 0;
};

struct EmbedRequest {
  std::optional<std::string> model;
  std::vector<std::string> inputs;
  bool normalize = true;
  bool truncate = false;
  std::optional<size_t> dimensions{};  // Matryoshka: the first n values of each vector (normalised after the cut)
  TruncationDirection truncation_direction = TruncationDirection::right;
  std::optional<std::string> prompt_name{};  // a sentence-transformers prompt; none: the model's default prompt
  std::vector<std::vector<tokenizer::TokenId>> token_ids{};  // inputs as token ids, used as given, instead of `inputs`
};

struct EmbedResult {
  std::string model;
  batching::Rows embeddings;
  Timing timing;
};

struct RerankRequest {
  std::optional<std::string> model;
  std::string query;
  std::vector<std::string> texts;
  bool truncate = false;
  bool raw_scores = false;
};

struct RerankResult {
  std::string model;
  std::vector<float> scores;  // in text order; logits when raw_scores, else sigmoid of them
  Timing timing;
};

struct PredictRequest {
  std::optional<std::string> model;
  std::vector<std::vector<std::string>> sequences;  // each one text or a pair of texts
  bool truncate = false;
  bool raw_scores = false;
  TruncationDirection truncation_direction = TruncationDirection::right;
};

struct PredictResult {
  std::string model;
  std::vector<std::vector<Prediction>> predictions;  // per sequence, best first
  Timing timing;
};

struct TokenizeRequest {
  std::optional<std::string> model;
  std::vector<std::string> inputs;
  bool add_special_tokens = true;
};

// A token as TEI's /tokenize shows it.
struct SimpleToken {
  tokenizer::TokenId id = 0;
  std::string text;      // a special token's vocabulary text, else the input's bytes [start, stop)
  bool special = false;  // added by the template; start and stop mean nothing then
  size_t start = 0;
  size_t stop = 0;
};

struct TokenizeResult {
  std::string model;
  std::vector<tokenizer::Encoding> encodings;    // untruncated
  std::vector<std::vector<SimpleToken>> tokens;  // per input, one per id
};

// Indices of `scores`, highest score first (stable among equals): the order /rerank answers in.
std::vector<size_t> best_first(const std::vector<float>& scores);

// The protocol-neutral part of serving: validate, tokenize, queue for a batch, wait for the answer. HTTP and gRPC both
// call it. On a slice's leader, embed and rerank parts are spread over the slice's workers once validated and
// tokenized here (so every refusal is the one a lone inferd gives); predict stays here (inferd.v1 has no Predict), and
// so does text generation (text_generation.h: a sequence's KV cache lives in the process that decodes it).
class InferenceService {
 public:
  InferenceService(ModelPool& pool, InputLimits limits, ServerMetrics& metrics)
      : pool_(pool), limits_(limits), metrics_(metrics) {}

  Answer<EmbedResult> embed(const EmbedRequest& request, const CallContext& context);
  Answer<RerankResult> rerank(const RerankRequest& request, const CallContext& context);
  Answer<PredictResult> predict(const PredictRequest& request, const CallContext& context);
  Answer<TokenizeResult> tokenize(const TokenizeRequest& request);

  // From now on embed and rerank parts go over `slice` (none: all here). Set once the gRPC port is known, while
  // requests may already arrive.
  void spread_over(slice::SliceWorkers* slice) { slice_.store(slice); }
  slice::SliceWorkers* slice() const { return slice_.load(); }

  const InputLimits& limits() const { return limits_; }
  ModelPool& pool() { return pool_; }
  ServerMetrics& metrics() { return metrics_; }

  // The model that serves `task` for a request naming `asked` (model_routing.h), loaded.
  Answer<std::shared_ptr<LoadedModel>> acquire(const std::optional<std::string>& asked, Task task);

 private:
  // The longest input, in tokens, as TEI counts it: the model's maximum, and never more than a batch holds
  // (--max-batch-tokens).
  size_t max_input_length(const LoadedModel& model) const;
  // Queues the encodings, in parts of --max-client-batch-size, and waits for their rows; adds up the queue and
  // inference timings. With a slice and a `follower` (empty: the request stays here), parts spread over the slice.
  Answer<batching::Rows> run(LoadedModel& model, std::vector<tokenizer::Encoding> encodings, const CallContext& context,
                             Timing& timing, const FollowerPart& follower);
  Answer<batching::Rows> run_part(LoadedModel& model, std::vector<tokenizer::Encoding> encodings,
                                  const CallContext& context, Timing& timing);
  // run, timed from `start` (tokenization is what came before) and recorded in the metrics when it answers.
  Answer<batching::Rows> infer(LoadedModel& model, const std::vector<tokenizer::Encoding>& encodings,
                               batching::Clock::time_point start, const CallContext& context, Timing& timing,
                               const FollowerPart& follower = {});
  void record(const CallContext& context, const Timing& timing, const std::vector<tokenizer::Encoding>& encodings);
  // How a part of the request runs on a follower; empty when the request stays here.
  FollowerPart embed_on_follower(const EmbedRequest& request, const CallContext& context) const;
  FollowerPart rerank_on_follower(const RerankRequest& request, const CallContext& context) const;

  ModelPool& pool_;
  InputLimits limits_;
  ServerMetrics& metrics_;
  std::atomic<slice::SliceWorkers*> slice_{nullptr};
};

}  // namespace tpustack::inferd::server
