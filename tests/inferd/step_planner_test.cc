#include "inferd/generation/step_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>

#include "tests/support/result_matchers.h"

namespace tpustack::inferd::generation {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using tpustack::testing::FailsWith;
using tpustack::testing::Succeeds;
using tpustack::testing::value_of;

constexpr SequenceId a = 1;
constexpr SequenceId b = 2;
constexpr SequenceId c = 3;

StepPlanner planner(size_t block_tokens, size_t block_count, size_t max_step_tokens = 512,
                    bool static_batching = false) {
  PlannerConfig config;
  config.cache = {block_tokens, block_count};
  config.max_step_tokens = max_step_tokens;
  config.max_sequences = 8;
  config.static_batching = static_batching;
  return value_of(StepPlanner::create(config));
}

// Distinct tokens per sequence, so that a chunk shows whose they are: 100 * id + position.
std::vector<int32_t> prompt(SequenceId id, size_t length) {
  std::vector<int32_t> tokens(length);
  std::iota(tokens.begin(), tokens.end(), static_cast<int32_t>(100 * id));
  return tokens;
}

void submit(StepPlanner& planner, SequenceId id, size_t prompt_length, uint32_t max_tokens = 8) {
  ASSERT_THAT(planner.submit({id, prompt(id, prompt_length), max_tokens}), Succeeds());
}

// Completes the step with token 9000 + id for each logits row; returns the sequences that reached max_tokens.
std::vector<SequenceId> complete(StepPlanner& planner, const PlannedStep& step) {
  std::vector<int32_t> sampled;
  for (SequenceId id : step.logits_rows) sampled.push_back(static_cast<int32_t>(9000 + id));
  return value_of(planner.complete_step(sampled));
}

// The step as (first token, start, length, wants_logits) per chunk.
struct Chunk {
  int32_t first_token;
  size_t start;
  size_t length;
  bool wants_logits;
  bool operator==(const Chunk&) const = default;
};
std::vector<Chunk> chunks(const PlannedStep& step) {
  std::vector<Chunk> out;
  for (const SequenceChunk& chunk : step.step.sequences) {
    out.push_back({chunk.tokens.front(), chunk.start, chunk.tokens.size(), chunk.wants_logits});
  }
  return out;
}
void PrintTo(const Chunk& chunk, std::ostream* out) {
  *out << "{" << chunk.first_token << ", start " << chunk.start << ", " << chunk.length << " tokens"
       << (chunk.wants_logits ? ", logits}" : "}");
}

TEST(StepPlanner, RequestsJoinAndLeaveBetweenSteps) {
  StepPlanner plan = planner(4, 16);
  submit(plan, a, 5);
  const PlannedStep& first = plan.plan();
  EXPECT_THAT(chunks(first), ElementsAre(Chunk{100, 0, 5, true}));
  EXPECT_THAT(first.step.sequences[0].blocks, ElementsAre(0, 1));
  EXPECT_THAT(first.logits_rows, ElementsAre(a));
  complete(plan, first);

  submit(plan, b, 3);
  const PlannedStep& second = plan.plan();
  EXPECT_THAT(chunks(second), ElementsAre(Chunk{9001, 5, 1, true}, Chunk{200, 0, 3, true}));
  EXPECT_THAT(second.logits_rows, ElementsAre(a, b));
  EXPECT_EQ(second.step.logits_rows(), 2u);
  complete(plan, second);

  EXPECT_TRUE(plan.finish(a));
  const PlannedStep& third = plan.plan();
  EXPECT_THAT(chunks(third), ElementsAre(Chunk{9002, 3, 1, true}));
  EXPECT_THAT(third.step.sequences[0].blocks, ElementsAre(2));
  EXPECT_EQ(plan.figures().running, 1u);
  EXPECT_EQ(plan.figures().used_blocks, 1u);  // a's went back
}

TEST(StepPlanner, AThousandTokenPromptPrefillsInFourChunksWhileAnotherSequenceDecodesInEachStep) {
  StepPlanner plan = planner(16, 1000, 256);
  submit(plan, a, 10);
  complete(plan, plan.plan());
  submit(plan, b, 1000);
  const std::vector<size_t> starts{0, 255, 510, 765};
  for (size_t step = 0; step < 4; ++step) {
    const PlannedStep& planned = plan.plan();
    const bool last = step == 3;
    const size_t length = last ? 235 : 255;
    EXPECT_THAT(chunks(planned),
                ElementsAre(Chunk{9001, 10 + step, 1, true},
                            Chunk{static_cast<int32_t>(200 + starts[step]), starts[step], length, last}))
        << "step " << step;
    EXPECT_EQ(planned.step.sequences[1].blocks.size(), (starts[step] + length + 15) / 16);
    if (last) {
      EXPECT_THAT(planned.logits_rows, ElementsAre(a, b));
    } else {
      EXPECT_THAT(planned.logits_rows, ElementsAre(a));
    }
    complete(plan, planned);
  }
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{9001, 14, 1, true}, Chunk{9002, 1000, 1, true}));
}

TEST(StepPlanner, AnExhaustedCachePreemptsTheNewestWhichLaterRecomputesItsPromptAndOutput) {
  StepPlanner plan = planner(4, 4);  // 16 positions
  submit(plan, a, 6, 10);
  submit(plan, b, 6, 10);
  complete(plan, plan.plan());  // both prefill: 2 blocks each
  complete(plan, plan.plan());  // both decode positions 6 and 7 into their second block
  complete(plan, plan.plan());
  EXPECT_EQ(plan.figures().free_blocks, 0u);

  // a's position 8 needs a third block: b, admitted last, goes back to wait.
  const PlannedStep& squeezed = plan.plan();
  EXPECT_THAT(squeezed.preempted, ElementsAre(b));
  EXPECT_THAT(chunks(squeezed), ElementsAre(Chunk{9001, 8, 1, true}));
  EXPECT_TRUE(plan.admission_would_wait(1));
  complete(plan, squeezed);
  const PlannerFigures figures = plan.figures();
  EXPECT_EQ(figures.waiting, 1u);
  EXPECT_EQ(figures.waiting_tokens, 9u);  // its prompt and the three tokens it had generated
  EXPECT_EQ(figures.preemptions, 1u);
  EXPECT_EQ(figures.used_blocks, 3u);

  EXPECT_TRUE(plan.finish(a));
  const PlannedStep& resumed = plan.plan();
  ASSERT_EQ(resumed.step.sequences.size(), 1u);
  std::vector<int32_t> expected = prompt(b, 6);
  expected.insert(expected.end(), {9002, 9002, 9002});
  EXPECT_THAT(resumed.step.sequences[0].tokens, ElementsAreArray(expected));
  EXPECT_EQ(resumed.step.sequences[0].start, 0u);
  EXPECT_TRUE(resumed.step.sequences[0].wants_logits);
  EXPECT_THAT(resumed.logits_rows, ElementsAre(b));
  complete(plan, resumed);
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{9002, 9, 1, true}));
}

TEST(StepPlanner, ADecodingSequenceThatIsTheNewestPreemptsItself) {
  StepPlanner plan = planner(4, 4);
  submit(plan, a, 7, 9);
  submit(plan, b, 8, 8);
  complete(plan, plan.plan());  // a fills 7 of its 8 positions, b all 8 of its
  // a's next position fits its blocks; b's needs a third, and nothing newer than b holds any.
  const PlannedStep& step = plan.plan();
  EXPECT_THAT(chunks(step), ElementsAre(Chunk{9001, 7, 1, true}));
  EXPECT_THAT(step.preempted, ElementsAre(b));
  complete(plan, step);
  EXPECT_EQ(plan.figures().waiting, 1u);
  EXPECT_EQ(plan.figures().used_blocks, 2u);
}

TEST(StepPlanner, StaticBatchingAdmitsOnlyWhenNothingRuns) {
  StepPlanner plan = planner(4, 64, 8, true);
  submit(plan, a, 6, 2);
  submit(plan, b, 6, 2);
  // Both join the batch at once; the token budget spreads their prefill over two steps.
  const PlannedStep& first = plan.plan();
  EXPECT_THAT(chunks(first), ElementsAre(Chunk{100, 0, 6, true}, Chunk{200, 0, 2, false}));
  EXPECT_EQ(plan.figures().running, 2u);
  complete(plan, first);
  submit(plan, c, 3, 2);
  EXPECT_TRUE(plan.admission_would_wait(3));
  const PlannedStep& second = plan.plan();
  EXPECT_THAT(chunks(second), ElementsAre(Chunk{9001, 6, 1, true}, Chunk{202, 2, 4, true}));
  EXPECT_THAT(complete(plan, second), ElementsAre(a));  // a's second token was its last
  const PlannedStep& third = plan.plan();
  EXPECT_THAT(chunks(third), ElementsAre(Chunk{9002, 6, 1, true}));  // c still waits for b
  EXPECT_THAT(complete(plan, third), ElementsAre(b));
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{300, 0, 3, true}));
}

TEST(StepPlanner, ContinuousBatchingAdmitsBesideRunningSequences) {
  StepPlanner plan = planner(4, 64, 8);
  submit(plan, a, 6, 5);
  complete(plan, plan.plan());
  EXPECT_FALSE(plan.admission_would_wait(3));
  submit(plan, c, 3, 2);
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{9001, 6, 1, true}, Chunk{300, 0, 3, true}));
}

TEST(StepPlanner, ARequestThatCouldNeverFitTheCacheIsRefusedAtSubmit) {
  StepPlanner plan = planner(4, 4);                             // 16 positions
  EXPECT_THAT(plan.submit({a, prompt(a, 10), 7}), Succeeds());  // the last token takes no position
  EXPECT_THAT(plan.submit({b, prompt(b, 10), 8}),
              FailsWith("the prompt (10 tokens) and \"max_tokens\" (8) need 17 positions in the KV cache, which holds "
                        "16"));
  EXPECT_THAT(plan.submit({a, prompt(a, 1), 1}), FailsWith("sequence 1 is already planned"));
  EXPECT_THAT(plan.submit({c, {}, 1}), FailsWith("the prompt has no tokens"));
  EXPECT_THAT(plan.submit({c, prompt(c, 1), 0}), FailsWith(HasSubstr("\"max_tokens\" must be at least 1")));
  EXPECT_EQ(plan.figures().waiting, 1u);
}

TEST(StepPlanner, CancelFreesTheBlocksOfARunningOrWaitingSequence) {
  StepPlanner plan = planner(4, 4);
  submit(plan, a, 6);
  complete(plan, plan.plan());
  submit(plan, b, 12, 2);
  EXPECT_EQ(plan.figures().used_blocks, 2u);
  EXPECT_TRUE(plan.cancel(a));
  EXPECT_EQ(plan.figures().used_blocks, 0u);
  EXPECT_EQ(plan.figures().running, 0u);
  EXPECT_TRUE(plan.cancel(b));
  EXPECT_EQ(plan.figures().waiting, 0u);
  EXPECT_FALSE(plan.cancel(b));
  EXPECT_EQ(plan.figures().cancellations, 2u);
  EXPECT_THAT(plan.plan().step.sequences, IsEmpty());
}

TEST(StepPlanner, ASequenceCancelledDuringItsStepIsSkippedWhenTheStepCompletes) {
  StepPlanner plan = planner(4, 16);
  submit(plan, a, 3);
  submit(plan, b, 3);
  const PlannedStep& step = plan.plan();
  ASSERT_THAT(step.logits_rows, ElementsAre(a, b));
  EXPECT_TRUE(plan.cancel(a));
  EXPECT_THAT(step.step.sequences[0].tokens, ElementsAre(100, 101, 102));  // the step the backend runs stays whole
  ASSERT_THAT(plan.complete_step(std::vector<int32_t>{7, 8}), Succeeds());
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{8, 3, 1, true}));
}

TEST(StepPlanner, ASequenceThatReachesMaxTokensIsFinishedByTheStep) {
  StepPlanner plan = planner(4, 16);
  submit(plan, a, 3, 2);
  EXPECT_THAT(complete(plan, plan.plan()), IsEmpty());
  EXPECT_THAT(complete(plan, plan.plan()), ElementsAre(a));
  EXPECT_EQ(plan.figures().used_blocks, 0u);
  EXPECT_FALSE(plan.finish(a));
}

TEST(StepPlanner, CompletingWithTheWrongNumberOfTokensIsAnError) {
  StepPlanner plan = planner(4, 16);
  submit(plan, a, 3);
  plan.plan();
  EXPECT_THAT(plan.complete_step(std::vector<int32_t>{1, 2}),
              FailsWith("the step planned 1 logits rows, got 2 sampled tokens"));
  ASSERT_THAT(plan.complete_step(std::vector<int32_t>{1}), Succeeds());
  EXPECT_THAT(plan.complete_step(std::vector<int32_t>{1}), FailsWith(HasSubstr("planned 0 logits rows")));
}

TEST(StepPlanner, PlanningAgainWithoutCompletingRepeatsTheStep) {
  StepPlanner plan = planner(4, 16);
  submit(plan, a, 5);
  plan.plan();
  EXPECT_THAT(chunks(plan.plan()), ElementsAre(Chunk{100, 0, 5, true}));
  EXPECT_EQ(plan.figures().used_blocks, 2u);
}

TEST(StepPlanner, AdmissionWaitsBehindTheQueueAndForFreeBlocks) {
  StepPlanner plan = planner(4, 4);
  EXPECT_FALSE(plan.admission_would_wait(16));
  EXPECT_TRUE(plan.admission_would_wait(17));
  submit(plan, a, 10, 2);
  EXPECT_TRUE(plan.admission_would_wait(1));  // a waits ahead of it
  complete(plan, plan.plan());
  EXPECT_FALSE(plan.admission_would_wait(4));
  EXPECT_TRUE(plan.admission_would_wait(5));
}

TEST(StepPlanner, ASettingThatCannotWorkIsAnError) {
  PlannerConfig config;
  config.cache = {16, 0};
  EXPECT_THAT(StepPlanner::create(config), FailsWith(HasSubstr("at least 1 block")));
  config.cache = {0, 8};
  EXPECT_THAT(StepPlanner::create(config), FailsWith(HasSubstr("block_tokens")));
  config.cache = {16, 8};
  config.max_sequences = 1024;
  EXPECT_THAT(StepPlanner::create(config), FailsWith("max_step_tokens (512) must be at least max_sequences (1024)"));
}

}  // namespace
}  // namespace tpustack::inferd::generation
