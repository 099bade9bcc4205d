#include "inferd/generation/step_planner.h"

#include <algorithm>
#include <limits>
#include <string>

namespace tpustack::inferd::generation {

namespace {

Result<void> check(const PlannerConfig& config) {
  if (config.cache.block_tokens == 0) return Error{"the KV cache's block_tokens must be at least 1"};
  if (config.cache.block_count == 0) return Error{"the KV cache needs at least 1 block"};
  if (config.cache.block_count > std::numeric_limits<uint32_t>::max()) {
    return Error{"the KV cache's block_count must be below 2^32, got " + std::to_string(config.cache.block_count)};
  }
  if (config.max_sequences == 0) return Error{"max_sequences must be at least 1"};
  // Every running sequence decodes one token in every step.
  if (config.max_step_tokens < config.max_sequences) {
    return Error{"max_step_tokens (" + std::to_string(config.max_step_tokens) + ") must be at least max_sequences (" +
                 std::to_string(config.max_sequences) + ")"};
  }
  return {};
}

size_t pending(const std::vector<int32_t>& tokens, size_t computed) { return tokens.size() - computed; }

}  // namespace

Result<StepPlanner> StepPlanner::create(const PlannerConfig& config) {
  if (auto checked = check(config); !checked) return checked.error();
  return StepPlanner(config);
}

StepPlanner::StepPlanner(const PlannerConfig& config) : config_(config), pool_(config.cache) {}

Result<void> StepPlanner::submit(SequenceRequest request) {
  if (sequences_.contains(request.id)) return Error{"sequence " + std::to_string(request.id) + " is already planned"};
  if (request.prompt.empty()) return Error{"the prompt has no tokens"};
  if (request.max_tokens == 0) return Error{"\"max_tokens\" must be at least 1, got 0"};
  // The last token is sampled but never fed back, so it takes no position.
  const size_t positions = request.prompt.size() + request.max_tokens - 1;
  const size_t capacity = config_.cache.block_count * config_.cache.block_tokens;
  if (pool_.blocks_for(positions) > config_.cache.block_count) {
    return Error{"the prompt (" + std::to_string(request.prompt.size()) + " tokens) and \"max_tokens\" (" +
                 std::to_string(request.max_tokens) + ") need " + std::to_string(positions) +
                 " positions in the KV cache, which holds " + std::to_string(capacity)};
  }
  Sequence sequence;
  sequence.prompt_tokens = request.prompt.size();
  sequence.max_tokens = request.max_tokens;
  sequence.tokens = std::move(request.prompt);
  sequences_.emplace(request.id, std::move(sequence));
  waiting_.push_back(request.id);
  return {};
}

bool StepPlanner::admission_would_wait(size_t prompt_tokens) const {
  if (!waiting_.empty() || running_.size() >= config_.max_sequences) return true;
  if (config_.static_batching && !running_.empty()) return true;
  return pool_.blocks_for(prompt_tokens) > pool_.free_blocks();
}

const PlannedStep& StepPlanner::plan() {
  planned_ = PlannedStep{};
  scheduled_.clear();
  size_t budget = config_.max_step_tokens;
  schedule_decodes(budget);
  schedule_prefill_chunks(budget);
  admit_waiting(budget);
  publish_step();
  return planned_;
}

void StepPlanner::schedule_decodes(size_t& budget) {
  // Preemption takes from the back, never a sequence this loop has passed: those keep their place in the step.
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    const SequenceId id = running_[i];
    const Sequence& sequence = sequences_.at(id);
    if (pending(sequence.tokens, sequence.computed) != 1) continue;
    if (!make_room(id, 1)) break;  // it was the newest, so nothing is left to decode
    schedule(id, 1);
    --budget;
  }
}

void StepPlanner::schedule_prefill_chunks(size_t& budget) {
  // A prompt part-way through its prefill takes what the pool has left rather than preempting: it loses nothing by
  // waiting, and the decoding sequences preempt it if they need its blocks.
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    const SequenceId id = running_[i];
    const Sequence& sequence = sequences_.at(id);
    const size_t left = pending(sequence.tokens, sequence.computed);
    if (left <= 1) continue;
    const size_t room =
        pool_.positions(id) - std::min(pool_.positions(id), sequence.computed) + pool_.growable_positions(id);
    const size_t length = std::min({left, budget, room});
    if (length == 0 || !grow_to(id, sequence.computed + length)) continue;
    schedule(id, length);
    budget -= length;
  }
}

void StepPlanner::admit_waiting(size_t& budget) {
  if (config_.static_batching && !running_.empty()) return;
  // Blocks promised to the sequences admitted here for their whole prefill, though only their first chunks take
  // blocks now, so that a prompt once admitted does not wait for memory half-way.
  size_t spare_blocks = pool_.free_blocks();
  while (!waiting_.empty() && running_.size() < config_.max_sequences) {
    if (!config_.static_batching && budget == 0) break;
    const SequenceId id = waiting_.front();
    const Sequence& sequence = sequences_.at(id);
    const size_t needed = pool_.blocks_for(sequence.tokens.size());
    if (needed > spare_blocks) break;  // first come, first served: nobody overtakes the head
    spare_blocks -= needed;
    waiting_.pop_front();
    running_.push_back(id);
    const size_t length = std::min(sequence.tokens.size(), budget);
    if (length == 0 || !grow_to(id, length)) continue;
    schedule(id, length);
    budget -= length;
  }
}

bool StepPlanner::grow_to(SequenceId id, size_t positions) {
  // A step planned again without complete_step() finds the positions there already.
  return pool_.grow(id, positions - std::min(positions, pool_.positions(id)));
}

bool StepPlanner::make_room(SequenceId id, size_t length) {
  const size_t positions = sequences_.at(id).computed + length;
  for (;;) {
    if (grow_to(id, positions)) return true;
    const bool itself = running_.back() == id;
    preempt_newest();
    if (itself) return false;
  }
}

void StepPlanner::preempt_newest() {
  const SequenceId id = running_.back();
  running_.pop_back();
  pool_.free(id);
  sequences_.at(id).computed = 0;
  // Ahead of everyone: its client has waited longest. Several preempted in one step keep their admission order.
  waiting_.push_front(id);
  planned_.preempted.push_back(id);
  ++preemptions_;
}

void StepPlanner::schedule(SequenceId id, size_t length) {
  const Sequence& sequence = sequences_.at(id);
  const bool last = sequence.computed + length == sequence.tokens.size();
  scheduled_.push_back({id, sequence.computed, length, last, false});
}

void StepPlanner::publish_step() {
  // Copies, so that the step outlives what finish(), cancel() and complete_step() do to the sequences.
  step_tokens_.clear();
  step_blocks_.clear();
  for (const Scheduled& chunk : scheduled_) {
    const std::vector<int32_t>& tokens = sequences_.at(chunk.id).tokens;
    step_tokens_.insert(step_tokens_.end(), tokens.begin() + chunk.start, tokens.begin() + chunk.start + chunk.length);
    const std::span<const uint32_t> blocks = pool_.blocks(chunk.id).first(pool_.blocks_for(chunk.start + chunk.length));
    step_blocks_.insert(step_blocks_.end(), blocks.begin(), blocks.end());
  }
  size_t token_offset = 0;
  size_t block_offset = 0;
  for (const Scheduled& chunk : scheduled_) {
    const size_t block_count = pool_.blocks_for(chunk.start + chunk.length);
    planned_.step.sequences.push_back(
        {std::span<const int32_t>(step_tokens_).subspan(token_offset, chunk.length), chunk.start,
         std::span<const uint32_t>(step_blocks_).subspan(block_offset, block_count), chunk.wants_logits});
    token_offset += chunk.length;
    block_offset += block_count;
    if (chunk.wants_logits) planned_.logits_rows.push_back(chunk.id);
  }
}

Result<std::vector<SequenceId>> StepPlanner::complete_step(std::span<const int32_t> sampled) {
  const auto rows = static_cast<size_t>(
      std::count_if(scheduled_.begin(), scheduled_.end(), [](const Scheduled& chunk) { return chunk.wants_logits; }));
  if (sampled.size() != rows) {
    return Error{"the step planned " + std::to_string(rows) + " logits rows, got " + std::to_string(sampled.size()) +
                 " sampled tokens"};
  }
  std::vector<SequenceId> reached_max_tokens;
  size_t row = 0;
  const std::vector<Scheduled> completed = std::move(scheduled_);
  scheduled_.clear();
  for (const Scheduled& chunk : completed) {
    const int32_t token = chunk.wants_logits ? sampled[row++] : 0;
    if (chunk.dropped) continue;
    Sequence& sequence = sequences_.at(chunk.id);
    sequence.computed = chunk.start + chunk.length;
    if (!chunk.wants_logits) continue;
    sequence.tokens.push_back(token);
    if (sequence.tokens.size() - sequence.prompt_tokens >= sequence.max_tokens) {
      release(chunk.id);
      reached_max_tokens.push_back(chunk.id);
    }
  }
  return reached_max_tokens;
}

bool StepPlanner::finish(SequenceId id) { return release(id); }

bool StepPlanner::cancel(SequenceId id) {
  const bool known = release(id);
  if (known) ++cancellations_;
  return known;
}

bool StepPlanner::release(SequenceId id) {
  if (sequences_.erase(id) == 0) return false;
  pool_.free(id);
  std::erase(running_, id);
  std::erase(waiting_, id);
  for (Scheduled& chunk : scheduled_) {
    if (chunk.id == id) chunk.dropped = true;
  }
  return true;
}

PlannerFigures StepPlanner::figures() const {
  PlannerFigures figures;
  figures.waiting = waiting_.size();
  for (SequenceId id : waiting_) figures.waiting_tokens += sequences_.at(id).tokens.size();
  figures.running = running_.size();
  figures.block_tokens = config_.cache.block_tokens;
  figures.total_blocks = config_.cache.block_count;
  figures.used_blocks = pool_.used_blocks();
  figures.free_blocks = pool_.free_blocks();
  figures.preemptions = preemptions_;
  figures.cancellations = cancellations_;
  return figures;
}

}  // namespace tpustack::inferd::generation
