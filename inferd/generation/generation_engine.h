#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/result/result.h"
#include "inferd/generation/decode_step.h"
#include "inferd/generation/sampler.h"
#include "inferd/generation/sampling_params.h"
#include "inferd/generation/step_planner.h"
#include "inferd/generation/stop_condition.h"
#include "inferd/tokenizer/bpe_tokenizer.h"

namespace tpustack::inferd::generation {

// One forward pass of the backend that serves the model (DecoderModel::forward over its KV cache on the CPU):
// step.logits_rows() rows of vocabulary-sized logits into `logits`.
using ForwardPass = std::function<Result<void>(const DecodeStep& step, float* logits)>;

struct GeneratedToken {
  int32_t token = 0;
  std::optional<float> logprob;
  std::vector<TokenLogprob> top_logprobs;
};

// What a request's reader receives since its last read: new text and the tokens that made it; on the last one, why
// the sequence ended (or the engine's error).
struct GenerationUpdate {
  std::string text;
  std::vector<GeneratedToken> tokens;
  std::optional<FinishReason> finish;
  std::variant<std::monostate, int32_t, std::string> stop_reason;
  std::optional<Error> error;
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;  // generated so far, the tokens that ended the sequence included

  bool last() const { return finish.has_value() || error.has_value(); }
};

// The reader's end of one request: updates as the engine produces them, and the way to say the client left.
class GenerationStream {
 public:
  // Waits up to `timeout` for what was produced since the last call, merged into one update; nullopt when nothing
  // came. After the last update it returns nullopt at once.
  std::optional<GenerationUpdate> next(std::chrono::milliseconds timeout);
  // The client went away: the engine drops the sequence at its next step and frees its KV cache.
  void cancel();

 private:
  friend class GenerationEngine;
  void deliver(GenerationUpdate update);
  bool cancelled() const;

  mutable std::mutex mu_;
  std::condition_variable arrived_;
  std::optional<GenerationUpdate> pending_;
  bool ended_ = false;  // the last update was delivered
  bool read_last_ = false;
  bool cancelled_ = false;
  std::function<void()> wake_engine_;
};

struct GenerationEngineOptions {
  PlannerConfig planner;
  std::vector<int32_t> eos_token_ids;
};

// What the metrics report of the engine.
struct GenerationFigures {
  PlannerFigures planner;
  uint64_t steps = 0;
  uint64_t generated_tokens = 0;
};

// Continuous batching on a thread of its own: requests join and leave the running batch between forward passes
// (StepPlanner decides each step), every sequence samples with its own parameters and random numbers, and its text
// reaches its reader token by token, stop strings held back and trimmed (StopCondition).
class GenerationEngine {
 public:
  // `tokenizer` (detokenizes the output) must outlive the engine.
  static Result<std::unique_ptr<GenerationEngine>> start(ForwardPass forward, size_t vocab_size,
                                                         const tokenizer::BpeTokenizer& tokenizer,
                                                         GenerationEngineOptions options);
  ~GenerationEngine();
  GenerationEngine(const GenerationEngine&) = delete;
  GenerationEngine& operator=(const GenerationEngine&) = delete;

  // Queues a request. An Error (the client's to fix) for parameters out of range, an empty prompt, or a prompt that
  // with max_tokens could never fit the KV cache. `continues_text`: the output follows the prompt's text (a
  // completion), so a leading space is kept.
  Result<std::shared_ptr<GenerationStream>> submit(std::vector<int32_t> prompt, SamplingParams params,
                                                   bool continues_text);
  // Whether the KV cache's free blocks can take a prompt of this many tokens beside the prompts queued before it (a
  // burst of requests is batched, not refused); without room the server answers 429 with Retry-After.
  bool has_room_for(size_t prompt_tokens) const;
  GenerationFigures figures() const;
  // Ends every request with an error and joins the thread.
  void stop();

 private:
  struct Sequence;
  struct Submitted;

  GenerationEngine(ForwardPass forward, size_t vocab_size, const tokenizer::BpeTokenizer& tokenizer,
                   GenerationEngineOptions options, StepPlanner planner);
  void run();
  // Moves queued submissions into the planner and drops cancelled sequences; false when stopping.
  bool take_work();
  // One forward pass and its sampling; false when the planner had nothing to run.
  bool step();
  void idle();
  void finish(SequenceId id, GenerationUpdate last);
  void fail_all(const Error& error);
  // The planner's figures for readers on other threads; a step that generated tokens counts too.
  void publish_figures(size_t generated_tokens);

  ForwardPass forward_;
  size_t vocab_size_;
  const tokenizer::BpeTokenizer& tokenizer_;
  GenerationEngineOptions options_;

  mutable std::mutex mu_;  // the inbox, the planner's figures for readers, stopping_
  std::condition_variable work_;
  std::deque<Submitted> inbox_;
  bool stopping_ = false;
  bool woken_ = false;
  GenerationFigures figures_;

  // The engine thread's own.
  StepPlanner planner_;
  std::unordered_map<SequenceId, std::unique_ptr<Sequence>> sequences_;
  Sampler sampler_;
  std::vector<float> logits_;
  SequenceId next_id_ = 1;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tpustack::inferd::generation
