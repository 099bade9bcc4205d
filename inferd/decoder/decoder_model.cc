#include "inferd/decoder/decoder_model.h"

#include <omp.h>

#include <algorithm>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "inferd/decoder/decoder_kernels.h"
#include "inferd/decoder/rotary_embedding.h"
#include "inferd/decoder/sharded_linear.h"
#include "inferd/decoder/step_fits.h"
#include "inferd/engine/cpu/linear.h"
#include "inferd/engine/cpu/scratch.h"

namespace tpustack::inferd::decoder {

namespace {

// Shards of the products cut at multiples of 16 columns (a vector register of floats; oneDNN's kernels block
// columns by 16 or more).
constexpr size_t column_unit = 16;
// Query rows of one chunk that one attention task takes (for the query heads of one key/value head).
constexpr size_t attention_task_rows = 16;

struct Layer {
  std::vector<float> input_norm;
  std::vector<float> post_attention_norm;
  ShardedLinear qkv;      // [q | k | v], cut at whole heads
  ShardedLinear output;   // o_proj
  ShardedLinear gate_up;  // gate and up paired shard by shard (sharded_linear.h `paired`)
  ShardedLinear down;
  std::vector<size_t> ffn_boundaries;  // gate_up's shards in intermediate columns
};

// One token of the step: its sequence's chunk and its place in the cache.
struct TokenRow {
  int32_t token;
  size_t chunk;
  size_t position;
  size_t block;
  size_t slot;
};

// Query rows first_row .. first_row + rows - 1 of one chunk, for the query heads of one key/value head.
struct AttentionTask {
  size_t chunk;
  size_t kv_head;
  size_t first_row;
  size_t rows;
};

// The activations of one step, a row per token (or per row that gives logits: last), kept between steps.
struct Activations {
  engine::cpu::Scratch x, normed, qkv, context, projected, gate_up, act, cos, sin, last, scores;
};

// Where the activations of the step at hand are.
struct StepBuffers {
  float* x;          // [tokens, hidden]: the residual stream
  float* normed;     // [tokens, hidden]
  float* qkv;        // [tokens, (heads + 2 kv_heads) * head_dim]
  float* context;    // [tokens, heads * head_dim]
  float* projected;  // [tokens, hidden]: o_proj's or down_proj's output before it joins x
  float* gate_up;    // [tokens, 2 * intermediate]
  float* act;        // [tokens, intermediate]
  float* cos;        // [tokens, head_dim / 2]
  float* sin;
  float* last;     // [logit rows, hidden]
  float* scores;   // [threads, query heads per key/value head, longest]
  size_t longest;  // positions of the longest context
};

}  // namespace

struct DecoderModel::State {
  model::DecoderConfig config;
  model::GenerationConfig generation;
  engine::WeightPrecision precision;
  int threads;
  RotaryEmbedding rope;
  std::vector<float> embed_tokens;
  std::vector<Layer> layers;
  std::vector<float> final_norm;
  std::optional<ShardedLinear> lm_head;

  // One step's plan, kept between steps.
  std::vector<TokenRow> rows;
  std::vector<size_t> chunk_first_row;
  std::vector<size_t> logit_rows;
  std::vector<AttentionTask> tasks;
  Activations activations;

  State(model::DecoderWeights&& weights, model::GenerationConfig generation, const DecoderOptions& options)
      : config(weights.config),
        generation(std::move(generation)),
        precision(options.precision),
        threads(static_cast<int>(std::max<size_t>(options.threads, 1))),
        rope(weights.config) {
    const size_t shards = static_cast<size_t>(threads);
    const size_t d = config.head_dim, heads = config.num_heads + 2 * config.num_kv_heads;
    const auto qkv_boundaries = shard_boundaries(heads * d, d, shards);
    const auto hidden_boundaries = shard_boundaries(config.hidden_size, column_unit, shards);
    for (model::DecoderLayerWeights& source : weights.layers) {
      auto ffn_boundaries = shard_boundaries(config.intermediate_size, column_unit, shards);
      std::vector<size_t> gate_up_boundaries;
      for (size_t boundary : ffn_boundaries) gate_up_boundaries.push_back(2 * boundary);
      layers.push_back(
          Layer{std::move(source.input_norm), std::move(source.post_attention_norm),
                ShardedLinear(stacked({&source.q, &source.k, &source.v}), qkv_boundaries, precision),
                ShardedLinear(source.o, hidden_boundaries, precision),
                ShardedLinear(paired(source.gate, source.up, ffn_boundaries), gate_up_boundaries, precision),
                ShardedLinear(source.down, hidden_boundaries, precision), std::move(ffn_boundaries)});
      source = {};  // packed now: the fp32 copy goes before the next layer's is packed
    }
    const auto vocab_boundaries = shard_boundaries(config.vocab_size, column_unit, shards);
    if (weights.lm_head) {
      lm_head.emplace(*weights.lm_head, vocab_boundaries, precision);
    } else {
      lm_head.emplace(model::DenseWeights{weights.embed_tokens, {}, config.vocab_size, config.hidden_size},
                      vocab_boundaries, precision);
    }
    embed_tokens = std::move(weights.embed_tokens);
    final_norm = std::move(weights.final_norm);
  }

  // The step's token rows, which rows give logits, and the attention tasks.
  void plan(const generation::DecodeStep& step, size_t block_tokens) {
    rows.clear();
    chunk_first_row.clear();
    logit_rows.clear();
    tasks.clear();
    for (size_t c = 0; c < step.sequences.size(); ++c) {
      const generation::SequenceChunk& chunk = step.sequences[c];
      chunk_first_row.push_back(rows.size());
      for (size_t i = 0; i < chunk.tokens.size(); ++i) {
        const size_t position = chunk.start + i;
        rows.push_back({chunk.tokens[i], c, position, chunk.blocks[position / block_tokens], position % block_tokens});
      }
      if (chunk.wants_logits) logit_rows.push_back(rows.size() - 1);
      for (size_t kv_head = 0; kv_head < config.num_kv_heads; ++kv_head) {
        for (size_t first = 0; first < chunk.tokens.size(); first += attention_task_rows) {
          tasks.push_back({c, kv_head, first, std::min(attention_task_rows, chunk.tokens.size() - first)});
        }
      }
    }
    // The longest contexts first, so that a dynamic schedule ends evenly.
    std::stable_sort(tasks.begin(), tasks.end(), [&](const AttentionTask& a, const AttentionTask& b) {
      return step.sequences[a.chunk].start + a.first_row > step.sequences[b.chunk].start + b.first_row;
    });
  }

  // The planned step's buffers.
  StepBuffers buffers() {
    const size_t tokens = rows.size(), h = config.hidden_size, d = config.head_dim, inner = config.intermediate_size;
    size_t longest = 0;
    for (const TokenRow& row : rows) longest = std::max(longest, row.position + 1);
    Activations& a = activations;
    return StepBuffers{a.x.get(tokens * h),
                       a.normed.get(tokens * h),
                       a.qkv.get(tokens * (config.num_heads + 2 * config.num_kv_heads) * d),
                       a.context.get(tokens * config.num_heads * d),
                       a.projected.get(tokens * h),
                       a.gate_up.get(tokens * 2 * inner),
                       a.act.get(tokens * inner),
                       a.cos.get(tokens * d / 2),
                       a.sin.get(tokens * d / 2),
                       a.last.get(std::max<size_t>(logit_rows.size(), 1) * h),
                       a.scores.get(static_cast<size_t>(threads) * group() * longest),
                       longest};
  }

  // The steps of a forward pass below are called by every thread of its parallel region; each shares its work out
  // with an OpenMP worksharing loop, which ends with the threads meeting.

  void embed(const StepBuffers& b) const {
    const size_t h = config.hidden_size, pairs = config.head_dim / 2;
#pragma omp for schedule(static)
    for (size_t t = 0; t < rows.size(); ++t) {
      std::copy_n(embed_tokens.data() + static_cast<size_t>(rows[t].token) * h, h, b.x + t * h);
      rope.angles(rows[t].position, b.cos + t * pairs, b.sin + t * pairs);
    }
  }

  void normalize(const std::vector<float>& weight, const StepBuffers& b) const {
    const size_t h = config.hidden_size;
#pragma omp for schedule(static)
    for (size_t t = 0; t < rows.size(); ++t)
      rms_norm(b.x + t * h, weight.data(), h, config.rms_norm_eps, b.normed + t * h);
  }

  // q/k/v, then each head of a shard rotated (q in place, k into the cache) or copied (v into the cache) by the
  // thread that computed it.
  void project_qkv(size_t l, KvCache& cache, const StepBuffers& b) const {
    const ShardedLinear& qkv = layers[l].qkv;
    const size_t d = config.head_dim, pairs = d / 2, heads = config.num_heads, kv_heads = config.num_kv_heads;
#pragma omp for schedule(static)
    for (size_t shard = 0; shard < qkv.shards(); ++shard) {
      qkv.multiply(shard, b.normed, rows.size(), b.qkv);
      const size_t first_head = qkv.first_column(shard) / d, end_head = first_head + qkv.columns(shard) / d;
      for (size_t t = 0; t < rows.size(); ++t) {
        const TokenRow& row = rows[t];
        const float *cos = b.cos + t * pairs, *sin = b.sin + t * pairs;
        for (size_t unit = first_head; unit < end_head; ++unit) {
          float* head = b.qkv + t * qkv.out() + unit * d;
          if (unit < heads) {
            rotate_half(head, cos, sin, pairs, head);
          } else if (unit < heads + kv_heads) {
            rotate_half(head, cos, sin, pairs, cache.keys(l, row.block, row.slot) + (unit - heads) * d);
          } else {
            std::copy_n(head, d, cache.values(l, row.block, row.slot) + (unit - heads - kv_heads) * d);
          }
        }
      }
    }
  }

  // Query heads per key/value head.
  size_t group() const { return config.num_heads / config.num_kv_heads; }

  void attend_all(const generation::DecodeStep& step, const KvCache& cache, size_t l, const StepBuffers& b) const {
    const size_t d = config.head_dim, heads = config.num_heads, qkv_width = layers[l].qkv.out();
    float* scores = b.scores + static_cast<size_t>(omp_get_thread_num()) * group() * b.longest;
#pragma omp for schedule(dynamic, 1)
    for (size_t i = 0; i < tasks.size(); ++i) {
      const AttentionTask& task = tasks[i];
      const generation::SequenceChunk& chunk = step.sequences[task.chunk];
      const PagedSequence sequence{cache, l, chunk.blocks};
      for (size_t r = task.first_row; r < task.first_row + task.rows; ++r) {
        const size_t t = chunk_first_row[task.chunk] + r, position = chunk.start + r;
        const size_t window = config.sliding_window.value_or(position + 1);
        const size_t first = position + 1 > window ? position + 1 - window : 0;
        const size_t head = task.kv_head * group();
        attend(b.qkv + t * qkv_width + head * d, group(), sequence, task.kv_head, first, position, scores,
               b.context + t * heads * d + head * d);
      }
    }
  }

  // x += input . Wᵀ: each thread adds the columns of its shard.
  void add_product(const ShardedLinear& linear, const float* input, const StepBuffers& b) const {
    const size_t h = config.hidden_size;
#pragma omp for schedule(static)
    for (size_t shard = 0; shard < linear.shards(); ++shard) {
      linear.multiply(shard, input, rows.size(), b.projected);
      const size_t first = linear.first_column(shard), columns = linear.columns(shard);
      for (size_t t = 0; t < rows.size(); ++t) add(b.x + t * h + first, b.projected + t * h + first, columns);
    }
  }

  // act = silu(gate) * up, each thread on the columns of its shard.
  void gate_and_up(const Layer& layer, const StepBuffers& b) const {
    const size_t inner = config.intermediate_size;
#pragma omp for schedule(static)
    for (size_t shard = 0; shard < layer.gate_up.shards(); ++shard) {
      layer.gate_up.multiply(shard, b.normed, rows.size(), b.gate_up);
      const size_t first = layer.ffn_boundaries[shard], columns = layer.ffn_boundaries[shard + 1] - first;
      for (size_t t = 0; t < rows.size(); ++t) {
        const float* pair = b.gate_up + t * 2 * inner + 2 * first;
        swiglu(pair, pair + columns, columns, b.act + t * inner + first);
      }
    }
  }

  void project_logits(const StepBuffers& b, float* logits) const {
    const size_t h = config.hidden_size;
#pragma omp for schedule(static)
    for (size_t r = 0; r < logit_rows.size(); ++r) {
      rms_norm(b.x + logit_rows[r] * h, final_norm.data(), h, config.rms_norm_eps, b.last + r * h);
    }
    if (logit_rows.empty()) return;
#pragma omp for schedule(static)
    for (size_t shard = 0; shard < lm_head->shards(); ++shard)
      lm_head->multiply(shard, b.last, logit_rows.size(), logits);
  }
};

DecoderModel::DecoderModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
DecoderModel::DecoderModel(DecoderModel&&) noexcept = default;
DecoderModel& DecoderModel::operator=(DecoderModel&&) noexcept = default;
DecoderModel::~DecoderModel() = default;

Result<DecoderModel> DecoderModel::load(const std::filesystem::path& directory, const DecoderOptions& options) {
  auto checkpoint = model::read_decoder_checkpoint(directory);
  if (!checkpoint) return checkpoint.error();
  return create(std::move(checkpoint).value(), options);
}

Result<DecoderModel> DecoderModel::create(model::DecoderCheckpoint checkpoint, const DecoderOptions& options) {
  if (options.precision == engine::WeightPrecision::bf16 && !engine::cpu::has_native_bf16()) {
    return Error{"the bf16 variant needs a CPU with bf16 products (AVX512_BF16 or AMX-BF16); this one offers " +
                 engine::cpu::cpu_isa_name() + ": use f32 or i8"};
  }
  try {
    return DecoderModel(
        std::make_unique<State>(std::move(checkpoint.weights), std::move(checkpoint.generation), options));
  } catch (const dnnl::error& e) {
    return Error{fmt::format("oneDNN has no {} matrix product for this CPU ({}): {}",
                             engine::precision_name(options.precision), engine::cpu::cpu_isa_name(), e.what())};
  }
}

const model::DecoderConfig& DecoderModel::config() const { return state_->config; }
const model::GenerationConfig& DecoderModel::generation_config() const { return state_->generation; }
engine::WeightPrecision DecoderModel::precision() const { return state_->precision; }
std::string DecoderModel::kernel() const {
  return engine::cpu::cpu_isa_name() + " " + state_->layers.front().gate_up.kernel();
}

KvCache DecoderModel::make_cache(generation::KvCacheShape shape) const {
  return KvCache(state_->config.num_layers, state_->config.num_kv_heads, state_->config.head_dim, shape);
}

Result<void> DecoderModel::check(const generation::DecodeStep& step, const KvCache& cache, const float* logits) const {
  const model::DecoderConfig& config = state_->config;
  if (cache.layers() != config.num_layers || cache.kv_heads() != config.num_kv_heads ||
      cache.head_dim() != config.head_dim) {
    return Error{fmt::format(
        "the KV cache holds {} layers of {} key/value heads of {}; the model has {} layers of {} heads of {}",
        cache.layers(), cache.kv_heads(), cache.head_dim(), config.num_layers, config.num_kv_heads, config.head_dim)};
  }
  if (auto fits = step_fits(step, config, cache.shape()); !fits) return fits;
  if (step.logits_rows() > 0 && logits == nullptr) return Error{"the step wants logits and has nowhere to put them"};
  return {};
}

// One parallel region for the whole step. Row-wise work (embedding, norms) is shared out by rows; each product by
// its column shards, and the thread that computes a shard also does what follows on those columns alone (rotary
// embedding and the cache writes after q/k/v, the residual after o_proj and down_proj, SwiGLU after gate/up), so the
// threads meet only where a step needs whole rows: 7 times a layer.
Result<void> DecoderModel::forward(const generation::DecodeStep& step, KvCache& cache, float* logits) {
  if (auto checked = check(step, cache, logits); !checked) return checked;
  State& s = *state_;
  s.plan(step, cache.shape().block_tokens);
  if (s.rows.empty()) return {};
  const StepBuffers b = s.buffers();
  omp_set_num_threads(s.threads);
#pragma omp parallel num_threads(s.threads)
  {
    // oneDNN's gemm-based products (the kernel it picks for narrow shards) split their rows among as many threads
    // as omp_get_max_threads() says when they run, and a team that OMP_THREAD_LIMIT cut to one thread is no
    // parallel region to them: they would leave the rows of the threads the nested team lacks undone. Each product
    // here runs on its own thread alone.
    omp_set_num_threads(1);
    s.embed(b);
    for (size_t l = 0; l < s.layers.size(); ++l) {
      const Layer& layer = s.layers[l];
      s.normalize(layer.input_norm, b);
      s.project_qkv(l, cache, b);
      s.attend_all(step, cache, l, b);
      s.add_product(layer.output, b.context, b);
      s.normalize(layer.post_attention_norm, b);
      s.gate_and_up(layer, b);
      s.add_product(layer.down, b.act, b);
    }
    s.project_logits(b, logits);
  }
  return {};
}

}  // namespace tpustack::inferd::decoder
