#include "inferd/generation/generation_engine.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <span>
#include <unordered_map>

#include "inferd/tokenizer/streaming_detokenizer.h"

namespace tpustack::inferd::generation {

std::optional<GenerationUpdate> GenerationStream::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (read_last_) return std::nullopt;
  if (!arrived_.wait_for(lock, timeout, [this] { return pending_.has_value(); })) return std::nullopt;
  GenerationUpdate update = std::move(*pending_);
  pending_.reset();
  read_last_ = update.last();
  return update;
}

void GenerationStream::cancel() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (cancelled_ || ended_) return;
    cancelled_ = true;
    wake = wake_engine_;
  }
  if (wake) wake();
}

bool GenerationStream::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

// Merges into what the reader has not taken yet: a slow reader gets one update with everything since its last read.
void GenerationStream::deliver(GenerationUpdate update) {
  {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = update.last();
    if (!pending_) {
      pending_ = std::move(update);
    } else {
      pending_->text += update.text;
      for (auto& token : update.tokens) pending_->tokens.push_back(std::move(token));
      pending_->finish = update.finish;
      pending_->stop_reason = std::move(update.stop_reason);
      pending_->error = std::move(update.error);
      pending_->completion_tokens = update.completion_tokens;
    }
  }
  arrived_.notify_all();
}

namespace {

Error shutting_down() { return Error{"the server is shutting down", ErrorKind::kFailedPrecondition}; }

GenerationUpdate failure(Error error) {
  GenerationUpdate update;
  update.error = std::move(error);
  return update;
}

}  // namespace

struct GenerationEngine::Submitted {
  SequenceId id = 0;
  std::vector<int32_t> prompt;
  SamplingParams params;
  bool continues_text = false;
  std::shared_ptr<GenerationStream> stream;
};

// A running request as the engine thread keeps it beside the planner's sequence.
struct GenerationEngine::Sequence {
  Sequence(Submitted submitted, const tokenizer::BpeTokenizer& tokenizer, std::span<const int32_t> eos)
      : prompt(std::move(submitted.prompt)),
        params(std::move(submitted.params)),
        stream(std::move(submitted.stream)),
        rng(sequence_rng(params.seed, submitted.id)),
        detokenizer(tokenizer, /*skip_special_tokens=*/true, submitted.continues_text),
        stop(params, eos) {}

  std::vector<int32_t> prompt;
  SamplingParams params;
  std::shared_ptr<GenerationStream> stream;
  std::mt19937_64 rng;
  tokenizer::StreamingDetokenizer detokenizer;
  StopCondition stop;
  std::vector<int32_t> generated;
};

Result<std::unique_ptr<GenerationEngine>> GenerationEngine::start(ForwardPass forward, size_t vocab_size,
                                                                  const tokenizer::BpeTokenizer& tokenizer,
                                                                  GenerationEngineOptions options) {
  if (vocab_size == 0) return Error{"the model has an empty vocabulary"};
  auto planner = StepPlanner::create(options.planner);
  if (!planner) return planner.error();
  std::unique_ptr<GenerationEngine> engine(
      new GenerationEngine(std::move(forward), vocab_size, tokenizer, std::move(options), std::move(*planner)));
  engine->thread_ = std::thread([raw = engine.get()] { raw->run(); });
  return engine;
}

GenerationEngine::GenerationEngine(ForwardPass forward, size_t vocab_size, const tokenizer::BpeTokenizer& tokenizer,
                                   GenerationEngineOptions options, StepPlanner planner)
    : forward_(std::move(forward)),
      vocab_size_(vocab_size),
      tokenizer_(tokenizer),
      options_(std::move(options)),
      planner_(std::move(planner)) {
  figures_.planner = planner_.figures();
}

GenerationEngine::~GenerationEngine() { stop(); }

Result<std::shared_ptr<GenerationStream>> GenerationEngine::submit(std::vector<int32_t> prompt, SamplingParams params,
                                                                   bool continues_text) {
  if (auto valid = validate(params); !valid) return valid.error();
  if (prompt.empty()) return Error{"the prompt is empty"};
  for (const int32_t token : prompt) {
    if (token < 0 || static_cast<size_t>(token) >= vocab_size_) {
      return Error{"token " + std::to_string(token) + " of the prompt is outside the model's vocabulary of " +
                   std::to_string(vocab_size_)};
    }
  }
  // The last sampled token never enters the cache.
  const size_t positions = prompt.size() + params.max_tokens - 1;
  const size_t capacity = options_.planner.cache.block_count * options_.planner.cache.block_tokens;
  if (positions > capacity) {
    return Error{"the prompt's " + std::to_string(prompt.size()) + " tokens and max_tokens " +
                 std::to_string(params.max_tokens) + " need " + std::to_string(positions) +
                 " positions; this server's KV cache holds " + std::to_string(capacity)};
  }
  auto stream = std::make_shared<GenerationStream>();
  stream->wake_engine_ = [this] {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    work_.notify_all();
  };
  {
    std::lock_guard lock(mu_);
    if (stopping_) return shutting_down();
    inbox_.push_back({next_id_++, std::move(prompt), std::move(params), continues_text, stream});
  }
  work_.notify_all();
  return stream;
}

bool GenerationEngine::has_room_for(size_t prompt_tokens) const {
  std::lock_guard lock(mu_);
  const PlannerFigures& planner = figures_.planner;
  size_t queued = prompt_tokens + planner.waiting_tokens;
  for (const Submitted& submitted : inbox_) queued += submitted.prompt.size();
  return (queued + planner.block_tokens - 1) / planner.block_tokens <= planner.free_blocks;
}

GenerationFigures GenerationEngine::figures() const {
  std::lock_guard lock(mu_);
  return figures_;
}

void GenerationEngine::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GenerationEngine::run() {
  while (take_work()) {
    try {
      // Nothing could run (every sequence waits on another's blocks): wait for a change instead of spinning.
      if (!step()) idle();
    } catch (const std::exception& e) {
      // This thread's boundary: the sequences end with the error, the engine goes on with new ones.
      fail_all(Error{std::string("internal error: ") + e.what()});
    }
  }
  fail_all(shutting_down());
  publish_figures(0);
  std::lock_guard lock(mu_);
  for (Submitted& queued : inbox_) queued.stream->deliver(failure(shutting_down()));
  inbox_.clear();
}

void GenerationEngine::idle() {
  std::unique_lock lock(mu_);
  work_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stopping_ || woken_ || !inbox_.empty(); });
}

bool GenerationEngine::take_work() {
  std::deque<Submitted> arrived;
  {
    std::unique_lock lock(mu_);
    work_.wait(lock, [this] { return stopping_ || woken_ || !inbox_.empty() || !sequences_.empty(); });
    woken_ = false;
    if (stopping_) return false;
    arrived.swap(inbox_);
  }
  for (Submitted& submitted : arrived) {
    const SequenceId id = submitted.id;
    auto queued = planner_.submit({id, submitted.prompt, submitted.params.max_tokens});
    if (!queued) {  // submit() checked what the planner refuses; this is the planner's own disagreement
      submitted.stream->deliver(failure(queued.error()));
      continue;
    }
    sequences_.emplace(id, std::make_unique<Sequence>(std::move(submitted), tokenizer_, options_.eos_token_ids));
  }
  std::vector<SequenceId> cancelled;
  for (const auto& [id, sequence] : sequences_) {
    if (sequence->stream->cancelled()) cancelled.push_back(id);
  }
  for (const SequenceId id : cancelled) {
    planner_.cancel(id);
    sequences_.erase(id);
  }
  publish_figures(0);
  return true;
}

bool GenerationEngine::step() {
  const PlannedStep& planned = planner_.plan();
  if (planned.step.sequences.empty()) {
    publish_figures(0);
    return false;
  }
  const size_t rows = planned.step.logits_rows();
  logits_.resize(rows * vocab_size_);
  if (auto computed = forward_(planned.step, logits_.data()); !computed) {
    // The backend failed (a device error): what its cache holds is unknown, so every sequence in it ends.
    fail_all(computed.error());
    return true;
  }
  std::vector<int32_t> sampled(rows);
  std::vector<std::pair<SequenceId, GenerationUpdate>> updates;
  updates.reserve(rows);
  for (size_t row = 0; row < rows; ++row) {
    const SequenceId id = planned.logits_rows[row];
    Sequence& sequence = *sequences_.at(id);
    const SampledToken token = sampler_.sample(std::span<const float>(logits_.data() + row * vocab_size_, vocab_size_),
                                               sequence.params, {sequence.prompt, sequence.generated}, sequence.rng);
    sampled[row] = token.token;
    sequence.generated.push_back(token.token);
    auto text = sequence.detokenizer.push(token.token);
    StreamDelta delta = sequence.stop.push(token.token, text ? *text : std::string());
    GenerationUpdate update;
    update.text = std::move(delta.text);
    update.tokens = {{token.token, token.logprob, token.top_logprobs}};
    update.finish = delta.finish;
    update.stop_reason = std::move(delta.stop_reason);
    update.prompt_tokens = sequence.prompt.size();
    update.completion_tokens = sequence.generated.size();
    if (update.finish && *update.finish == FinishReason::length) update.text += sequence.detokenizer.finish();
    updates.emplace_back(id, std::move(update));
  }
  // The planner appends the sampled tokens (and ends the sequences at max_tokens) before any is finished here.
  if (auto completed = planner_.complete_step(sampled); !completed) {
    throw std::logic_error("the step planner refused its own step: " + completed.error().message);
  }
  for (auto& [id, update] : updates) {
    if (update.last()) {
      finish(id, std::move(update));
    } else {
      sequences_.at(id)->stream->deliver(std::move(update));
    }
  }
  publish_figures(rows);
  return true;
}

void GenerationEngine::publish_figures(size_t generated_tokens) {
  std::lock_guard lock(mu_);
  figures_.planner = planner_.figures();
  if (generated_tokens == 0) return;
  ++figures_.steps;
  figures_.generated_tokens += generated_tokens;
}

void GenerationEngine::fail_all(const Error& error) {
  if (!sequences_.empty()) spdlog::error("generation: {} requests end with: {}", sequences_.size(), error.message);
  std::vector<SequenceId> ids;
  for (const auto& [id, sequence] : sequences_) ids.push_back(id);
  for (const SequenceId id : ids) finish(id, failure(error));
}

void GenerationEngine::finish(SequenceId id, GenerationUpdate last) {
  auto found = sequences_.find(id);
  if (found == sequences_.end()) return;
  planner_.finish(id);
  if (!last.completion_tokens) {
    last.prompt_tokens = found->second->prompt.size();
    last.completion_tokens = found->second->generated.size();
  }
  found->second->stream->deliver(std::move(last));
  sequences_.erase(found);
}

}  // namespace tpustack::inferd::generation
