#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/result/result.h"
#include "inferd/generation/decode_step.h"
#include "inferd/generation/kv_block_pool.h"

namespace tpustack::inferd::generation {

struct PlannerConfig {
  KvCacheShape cache;
  size_t max_step_tokens = 512;  // tokens one step computes, decode tokens first (vLLM's max_num_batched_tokens)
  size_t max_sequences = 256;    // sequences running at once (vLLM's max_num_seqs); at most max_step_tokens
  // Static batching, for comparison: a batch is admitted only when nothing runs, all at once as far as the cache
  // and max_sequences allow (its prompts then prefill over as many steps as the token budget needs).
  bool static_batching = false;
};

struct SequenceRequest {
  SequenceId id = 0;
  std::vector<int32_t> prompt;
  uint32_t max_tokens = 16;
};

struct PlannedStep {
  DecodeStep step;
  std::vector<SequenceId> logits_rows;  // the sequence that row i of the step's logits belongs to
  // Sent back to the head of the queue to free the cache; when admitted again they recompute their prompt and
  // output so far, and go on generating where they stopped.
  std::vector<SequenceId> preempted;
};

// For metrics and for backpressure (429 with Retry-After while the cache is full).
struct PlannerFigures {
  size_t waiting = 0;         // sequences
  size_t waiting_tokens = 0;  // tokens the waiting sequences must prefill
  size_t running = 0;
  size_t block_tokens = 0;
  size_t total_blocks = 0;
  size_t used_blocks = 0;
  size_t free_blocks = 0;
  uint64_t preemptions = 0;  // since start
  uint64_t cancellations = 0;
};

// Continuous batching (vLLM's scheduler, simplified): decides what each forward pass computes. Every running
// sequence decodes one token per step, first; the rest of the step's token budget admits waiting sequences in
// arrival order, a long prompt in chunks of what remains (chunked prefill), so that a new prompt never stalls the
// streams already decoding. The KV cache is paged: a sequence takes blocks as it grows, and when a decoding
// sequence finds none free the most recently admitted sequence is preempted (its blocks freed, recomputed later).
// Not thread-safe: one loop plans, runs the step and completes it.
class StepPlanner {
 public:
  // An Error names the setting that cannot work.
  static Result<StepPlanner> create(const PlannerConfig& config);

  // Queues a sequence. A prompt that with max_tokens could never fit the whole KV cache is an Error (the client's
  // to fix: a 400), as are an empty prompt, max_tokens 0 and an id already planned.
  Result<void> submit(SequenceRequest request);
  // Whether a prompt of this many tokens submitted now would wait instead of starting at the next step: others
  // wait already, the cache lacks the blocks, or (static) a batch runs. For a 429 instead of a long queue.
  bool admission_would_wait(size_t prompt_tokens) const;

  // Plans the next step. The step's spans point into this planner and stay valid until the next plan().
  const PlannedStep& plan();
  // The tokens sampled from the last planned step, one per logits row: appends them (and marks the step's
  // positions computed). Sequences that reach their max_tokens are finished here and returned; an Error when the
  // count differs from the step's rows.
  Result<std::vector<SequenceId>> complete_step(std::span<const int32_t> sampled);
  // End a sequence, waiting or running, and free its blocks; false for an unknown id. finish: after its stop
  // condition; cancel: the client went away. Either may come between plan() and complete_step().
  bool finish(SequenceId id);
  bool cancel(SequenceId id);

  PlannerFigures figures() const;

 private:
  struct Sequence {
    std::vector<int32_t> tokens;  // the prompt, then the generated tokens
    size_t prompt_tokens = 0;
    uint32_t max_tokens = 0;
    size_t computed = 0;  // positions whose keys and values are in the cache
  };
  struct Scheduled {
    SequenceId id = 0;
    size_t start = 0;
    size_t length = 0;
    bool wants_logits = false;
    bool dropped = false;  // finished or cancelled after plan()
  };

  explicit StepPlanner(const PlannerConfig& config);

  void schedule_decodes(size_t& budget);
  void schedule_prefill_chunks(size_t& budget);
  void admit_waiting(size_t& budget);
  void schedule(SequenceId id, size_t length);
  // The sequence's block table grown to hold `positions`; false, and nothing changed, when the pool is short.
  bool grow_to(SequenceId id, size_t positions);
  // Blocks for `length` more positions of a running sequence, preempting the newest running sequences while the
  // pool is short; false when that was the sequence itself.
  bool make_room(SequenceId id, size_t length);
  void preempt_newest();
  void publish_step();
  bool release(SequenceId id);

  PlannerConfig config_;
  KvBlockPool pool_;
  std::unordered_map<SequenceId, Sequence> sequences_;
  std::deque<SequenceId> waiting_;
  std::vector<SequenceId> running_;  // in order of admission, the newest last
  std::vector<Scheduled> scheduled_;
  std::vector<int32_t> step_tokens_;
  std::vector<uint32_t> step_blocks_;
  PlannedStep planned_;
  uint64_t preemptions_ = 0;
  uint64_t cancellations_ = 0;
};

}  // namespace tpustack::inferd::generation
