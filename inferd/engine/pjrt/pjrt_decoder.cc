#include "inferd/engine/pjrt/pjrt_decoder.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "inferd/decoder/step_fits.h"
#include "inferd/engine/pjrt/decoder_program.h"
#include "inferd/engine/pjrt/resident_weights.h"

namespace tpustack::inferd::engine::pjrt {

namespace {

constexpr size_t kNoRow = std::numeric_limits<size_t>::max();

}  // namespace

struct PjrtDecoder::State {
  model::DecoderConfig config;
  std::shared_ptr<PjrtRuntime> runtime;
  PjrtDecoderOptions options;
  generation::KvCacheShape cache;
  // The cache's rows: every block's slots, then one that padding tokens write to and no sequence reads.
  size_t rows = 0;
  DecoderBucketSeries series;
  std::optional<PjrtBuffer> frequencies;  // rope_inverse_frequencies
  ResidentWeights weights;
  std::vector<PjrtBuffer> caches;  // each layer's keys, then values
  std::map<DecoderBucket, PjrtExecutable> executables;

  int device() const { return runtime->devices().front().id; }
  size_t padding_row() const { return rows - 1; }

  // Zeroed caches for every layer, replacing what there was.
  Result<void> fresh_caches() {
    caches.clear();
    const size_t count = rows * config.num_kv_heads * config.head_dim;
    const std::vector<int64_t> dims{static_cast<int64_t>(rows),
                                    static_cast<int64_t>(config.num_kv_heads * config.head_dim)};
    const bool bf16 = options.precision == WeightPrecision::bf16;
    const std::vector<float> zeros(bf16 ? 0 : count, 0.0f);
    const std::vector<uint16_t> zero_bits(bf16 ? count : 0, 0);
    for (size_t i = 0; i < 2 * config.num_layers; ++i) {
      auto buffer = bf16 ? runtime->client().buffer_from_host_bf16(zero_bits, dims, device())
                         : runtime->client().buffer_from_host(zeros, dims, device());
      if (!buffer) {
        return Error{fmt::format("cannot place the KV cache ({} rows of {} {} a layer) on device {}: {}", rows,
                                 config.num_kv_heads * config.head_dim, precision_name(options.precision), device(),
                                 buffer.error().message)};
      }
      caches.push_back(std::move(buffer).value());
    }
    return {};
  }

  Result<const PjrtExecutable*> executable(DecoderBucket bucket) {
    if (auto found = executables.find(bucket); found != executables.end()) return &found->second;
    const std::string shape =
        fmt::format("{} sequences of {} tokens over {} positions", bucket.batch, bucket.tokens, bucket.context);
    auto program = decoder_program(config, bucket, rows, options.precision);
    if (!program) return Error{"the decoder for " + shape + ": " + program.error().message};
    auto compiled = runtime->compile(*program, options.model_digest);
    if (!compiled) return Error{"compiling the decoder for " + shape + ": " + compiled.error().message};
    return &executables.emplace(bucket, std::move(compiled).value()).first->second;
  }

  // One run's chunks padded to its bucket: their logits to their rows of `logits`, the caches replaced by the
  // updated ones.
  Result<void> execute(const generation::DecodeStep& step, const DecoderRun& run,
                       const std::vector<size_t>& logits_rows, float* logits) {
    auto program = executable(run.bucket);
    if (!program) return program.error();
    const size_t batch = run.bucket.batch, tokens = run.bucket.tokens, context = run.bucket.context;
    const auto padding = static_cast<int32_t>(padding_row());
    std::vector<int32_t> ids(batch * tokens, 0), positions(batch * tokens, -1), write_rows(batch * tokens, padding);
    std::vector<int32_t> context_rows(batch * context, padding);
    for (size_t r = 0; r < run.chunks.size(); ++r) {
      const generation::SequenceChunk& chunk = step.sequences[run.chunks[r]];
      const auto row_of = [&](size_t position) {
        return static_cast<int32_t>(chunk.blocks[position / cache.block_tokens] * cache.block_tokens +
                                    position % cache.block_tokens);
      };
      for (size_t t = 0; t < chunk.tokens.size(); ++t) {
        ids[r * tokens + t] = chunk.tokens[t];
        positions[r * tokens + t] = static_cast<int32_t>(chunk.start + t);
        write_rows[r * tokens + t] = row_of(chunk.start + t);
      }
      for (size_t p = 0; p < chunk.start + chunk.tokens.size(); ++p) context_rows[r * context + p] = row_of(p);
    }
    const auto& client = runtime->client();
    const std::vector<int64_t> token_dims{static_cast<int64_t>(batch), static_cast<int64_t>(tokens)};
    std::vector<PjrtBuffer> inputs;
    for (const std::vector<int32_t>* values : {&ids, &positions, &write_rows}) {
      auto buffer = client.buffer_from_host_i32(*values, token_dims, device());
      if (!buffer) return buffer.error();
      inputs.push_back(std::move(buffer).value());
    }
    auto context_buffer = client.buffer_from_host_i32(
        context_rows, {static_cast<int64_t>(batch), static_cast<int64_t>(context)}, device());
    if (!context_buffer) return context_buffer.error();
    inputs.push_back(std::move(context_buffer).value());

    std::vector<const PjrtBuffer*> arguments;
    for (const PjrtBuffer& input : inputs) arguments.push_back(&input);
    arguments.push_back(&*frequencies);
    for (const PjrtBuffer& layer_cache : caches) arguments.push_back(&layer_cache);
    for (const PjrtBuffer& weight : weights) arguments.push_back(&weight);
    auto outputs = (*program)->execute(arguments, device());
    if (!outputs) return outputs.error();
    runtime->count_run(0);
    for (size_t i = 0; i < caches.size(); ++i) caches[i] = std::move((*outputs)[1 + i]);

    auto values = outputs->front().to_host();
    if (!values) return values.error();
    const size_t vocab = config.vocab_size;
    for (size_t r = 0; r < run.chunks.size(); ++r) {
      const size_t row = logits_rows[run.chunks[r]];
      if (row != kNoRow)
        std::copy_n(values->begin() + static_cast<std::ptrdiff_t>(r * vocab), vocab, logits + row * vocab);
    }
    return {};
  }
};

PjrtDecoder::PjrtDecoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
PjrtDecoder::~PjrtDecoder() = default;

Result<std::unique_ptr<PjrtDecoder>> PjrtDecoder::create(const model::DecoderWeights& weights,
                                                         std::shared_ptr<PjrtRuntime> runtime,
                                                         generation::KvCacheShape cache,
                                                         const PjrtDecoderOptions& options) {
  if (runtime->devices().empty()) return Error{"the PJRT plugin shows no device"};
  const model::DecoderConfig& config = weights.config;
  // A model the program cannot take (i8, heads that do not group) fails here rather than at the first request.
  if (auto supported = decoder_program_supports(config, options.precision); !supported) return supported.error();
  const size_t positions = cache.block_count * cache.block_tokens;
  auto state = std::make_unique<State>(
      State{config,
            std::move(runtime),
            options,
            cache,
            positions + 1,
            DecoderBucketSeries(options.max_batch, options.max_tokens, std::min(config.max_positions, positions)),
            {},
            {},
            {},
            {}});
  auto values = decoder_weight_values(weights);
  if (!values) return values.error();
  const int device = state->device();
  auto resident = upload_weights(state->runtime->client(), std::span<const int>(&device, 1), decoder_parameters(config),
                                 *values, options.precision);
  if (!resident) return resident.error();
  state->weights = std::move(resident->front());
  const std::vector<float> frequencies = decoder_rope_frequencies(config);
  auto frequency_buffer =
      state->runtime->client().buffer_from_host(frequencies, {static_cast<int64_t>(frequencies.size())}, device);
  if (!frequency_buffer) return frequency_buffer.error();
  state->frequencies = std::move(frequency_buffer).value();
  if (auto caches = state->fresh_caches(); !caches) return caches.error();
  if (options.warmup) {
    for (const DecoderBucket& bucket : state->series.warm_buckets()) {
      if (auto compiled = state->executable(bucket); !compiled) return compiled.error();
    }
  }
  return std::unique_ptr<PjrtDecoder>(new PjrtDecoder(std::move(state)));
}

Result<void> PjrtDecoder::forward(const generation::DecodeStep& step, float* logits) {
  State& s = *state_;
  if (auto fits = decoder::step_fits(step, s.config, s.cache); !fits) return fits;
  std::vector<ChunkExtent> extents;
  std::vector<size_t> logits_rows;
  size_t rows = 0;
  for (const generation::SequenceChunk& chunk : step.sequences) {
    const ChunkExtent extent{chunk.tokens.size(), chunk.start + chunk.tokens.size()};
    // The largest buckets bound what one chunk may carry: its tokens and the positions its context reaches.
    if (extent.tokens > s.series.tokens().back() || extent.end > s.series.contexts().back()) {
      return Error{fmt::format(
          "chunk {} carries {} tokens up to position {}; this decoder's steps take at most {} "
          "tokens a chunk and {} positions",
          extents.size(), extent.tokens, extent.end - 1, s.series.tokens().back(), s.series.contexts().back())};
    }
    extents.push_back(extent);
    logits_rows.push_back(chunk.wants_logits ? rows++ : kNoRow);
  }
  if (rows > 0 && logits == nullptr) return Error{"the step wants logits and has nowhere to put them"};
  for (const DecoderRun& run : plan_decoder_runs(extents, s.series)) {
    if (auto ran = s.execute(step, run, logits_rows, logits); !ran) {
      // The caches may have been given to the failed run: what they hold is unknown.
      if (auto fresh = s.fresh_caches(); !fresh) return Error{ran.error().message + "; " + fresh.error().message};
      return ran.error();
    }
  }
  return {};
}

std::string PjrtDecoder::kernel() const {
  const PjrtRuntime& runtime = *state_->runtime;
  return fmt::format("pjrt {} {} {}", runtime.client().platform_name(), runtime.device_kind(),
                     precision_name(state_->options.precision));
}

}  // namespace tpustack::inferd::engine::pjrt
