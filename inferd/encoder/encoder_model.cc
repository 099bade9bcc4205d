#include "inferd/encoder/encoder_model.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

#include "inferd/engine/cpu/cpu_backend.h"
#include "inferd/engine/variant_choice.h"

namespace tpustack::inferd {

namespace {

// Real sentences of mixed lengths: `--variant auto` times the variants and checks their accuracy on them.
constexpr std::array<std::string_view, 8> calibration_texts = {
    "The quick brown fox jumps over the lazy dog.",
    "Kubernetes schedules pods onto nodes; a device plugin advertises the accelerators each node has.",
    "What is the capital of France? Paris has been the capital since the tenth century, with a few interruptions.",
    "Dynamic batching groups requests that arrive close together so that the matrix products run on more rows.",
    "In 1905 Albert Einstein published four papers that changed physics: on the photoelectric effect, on Brownian "
    "motion, on special relativity, and on the equivalence of mass and energy. Each would have been enough for a "
    "career; together they made a year that physicists still call miraculous.",
    "Rinse the rice, add water, bring to a boil, cover and simmer for eighteen minutes.",
    "A slice of TPU chips is connected by inter-chip links in a two- or three-dimensional torus, and the workers of "
    "a multi-host job must land on the hosts of one slice, worker i on host i, or the collective operations fail. "
    "The scheduler extender keeps a ledger of which slices are free and which groups hold them.",
    "ok",
};

// The best of a few runs of the batch, after one that builds the primitives; and the embeddings it gave.
std::pair<double, std::vector<float>> time_embed(engine::EncoderBackend& backend, const engine::TokenBatch& batch) {
  // The CPU backend's products cannot fail.
  std::vector<float> out = backend.embed(batch, model::Pooling::mean, true).value();
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    out = backend.embed(batch, model::Pooling::mean, true).value();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return {best, std::move(out)};
}

struct ChosenBackend {
  engine::WeightPrecision precision = engine::WeightPrecision::f32;
  std::unique_ptr<engine::EncoderBackend> backend;  // null when nothing was measured
};

// `--variant auto`: tries each variant this CPU can run on the calibration batch and keeps the backend of the
// fastest that meets its accuracy bar (the best so far is kept, the others freed as soon as they lose).
ChosenBackend choose_backend(const model::ModelDirectory& directory,
                             const std::shared_ptr<const model::BertWeights>& weights, size_t threads) {
  engine::TokenBatch batch;
  for (std::string_view text : calibration_texts) {
    auto encoding = directory.tokenizer.encode(text, directory.weights.config.max_positions);
    if (encoding && !encoding->ids.empty()) batch.add(encoding->ids, encoding->type_ids);
  }
  if (batch.size() == 0) return {};
  ChosenBackend chosen;
  std::vector<engine::VariantTrial> trials;
  std::vector<float> reference;
  std::string report;
  for (auto precision : {engine::WeightPrecision::f32, engine::WeightPrecision::bf16, engine::WeightPrecision::i8}) {
    auto backend = engine::cpu::make_cpu_backend(weights, {threads, precision});
    if (!backend) {
      report += fmt::format(" {} not here ({});", engine::precision_name(precision), backend.error().message);
      continue;
    }
    auto [seconds, out] = time_embed(**backend, batch);
    if (reference.empty()) reference = out;
    const double cosine = engine::min_row_cosine(reference, out, directory.weights.config.hidden_size);
    trials.push_back({precision, seconds, cosine});
    report += fmt::format(" {} {:.2f} ms cosine {:.5f} ({});", engine::precision_name(precision), seconds * 1e3, cosine,
                          (*backend)->kernel());
    if (engine::fastest_accurate(trials) == precision) chosen = {precision, std::move(backend).value()};
  }
  spdlog::info("variant auto: {} on this CPU (the fastest with cosine to f32 at or above its bar; {} texts:{})",
               engine::precision_name(chosen.precision), batch.size(), report);
  return chosen;
}

}  // namespace

EncoderModel::EncoderModel(std::shared_ptr<model::ModelDirectory> directory,
                           std::unique_ptr<engine::EncoderBackend> backend, engine::WeightPrecision precision)
    : directory_(std::move(directory)), backend_(std::move(backend)), precision_(precision) {}

Result<EncoderModel> EncoderModel::load(const std::filesystem::path& directory, const LoadOptions& options,
                                        const PjrtPlacement& placement) {
  auto loaded = model::load_model_directory(directory);
  if (!loaded) return loaded.error();
  auto shared = std::make_shared<model::ModelDirectory>(std::move(loaded).value());
  // The backend keeps the weights alive through an aliasing pointer into the directory.
  std::shared_ptr<const model::BertWeights> weights(shared, &shared->weights);
  if (placement.runtime) {
    engine::pjrt::PjrtEncoderOptions pjrt = placement.options;
    pjrt.precision = options.precision.value_or(engine::WeightPrecision::bf16);
    if (pjrt.precision == engine::WeightPrecision::i8) return Error{"--variant i8 runs on the cpu backend only"};
    pjrt.pooling = shared->pooling;
    auto backend = engine::pjrt::make_pjrt_encoder_backend(std::move(weights), placement.runtime, pjrt);
    if (!backend) return backend.error();
    return EncoderModel(std::move(shared), std::move(backend).value(), pjrt.precision);
  }
  ChosenBackend chosen{options.precision.value_or(engine::WeightPrecision::f32), nullptr};
  if (!options.precision) chosen = choose_backend(*shared, weights, options.threads);
  if (!chosen.backend) {
    auto backend = engine::cpu::make_cpu_backend(std::move(weights), {options.threads, chosen.precision});
    if (!backend) return backend.error();
    chosen.backend = std::move(backend).value();
  }
  return EncoderModel(std::move(shared), std::move(chosen.backend), chosen.precision);
}

ModelKind EncoderModel::kind() const {
  return directory_->weights.config.head == model::BertHead::sequence_classification ? ModelKind::reranker
                                                                                     : ModelKind::embedding;
}

Result<tokenizer::Encoding> EncoderModel::tokenize(std::string_view text) const {
  return directory_->tokenizer.encode(text, max_length());
}

Result<engine::TokenBatch> EncoderModel::batch(const std::vector<tokenizer::Encoding>& encodings) const {
  const model::BertConfig& config = directory_->weights.config;
  engine::TokenBatch batch;
  for (size_t i = 0; i < encodings.size(); ++i) {
    const tokenizer::Encoding& encoding = encodings[i];
    const std::string which = "input " + std::to_string(i);
    if (encoding.ids.empty()) return Error{which + " has no tokens"};
    if (encoding.ids.size() > config.max_positions) {
      return Error{which + " has " + std::to_string(encoding.ids.size()) + " tokens; the model takes at most " +
                   std::to_string(config.max_positions)};
    }
    if (encoding.type_ids.size() != encoding.ids.size()) return Error{which + " has type ids of another length"};
    for (size_t t = 0; t < encoding.ids.size(); ++t) {
      if (encoding.ids[t] < 0 || static_cast<size_t>(encoding.ids[t]) >= config.vocab_size) {
        return Error{which + " has token id " + std::to_string(encoding.ids[t]) + " outside the vocabulary"};
      }
      if (encoding.type_ids[t] < 0 || static_cast<size_t>(encoding.type_ids[t]) >= config.type_vocab_size) {
        return Error{which + " has token type id " + std::to_string(encoding.type_ids[t]) + " outside the model's"};
      }
    }
    batch.add(encoding.ids, encoding.type_ids);
  }
  return batch;
}

Result<Embeddings> EncoderModel::embed(const std::vector<std::string>& texts) {
  std::vector<tokenizer::Encoding> encodings;
  encodings.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    auto encoding = tokenize(texts[i]);
    if (!encoding) return Error{"text " + std::to_string(i) + ": " + encoding.error().message};
    encodings.push_back(std::move(encoding).value());
  }
  return embed(encodings);
}

Result<Embeddings> EncoderModel::embed(const std::vector<tokenizer::Encoding>& encodings) {
  return embed(encodings, directory_->normalize);
}

Result<Embeddings> EncoderModel::embed(const std::vector<tokenizer::Encoding>& encodings, bool normalize) {
  auto tokens = batch(encodings);
  if (!tokens) return tokens.error();
  if (tokens->size() == 0) return Embeddings{dimensions(), {}};
  auto values = backend_->embed(*tokens, directory_->pooling, normalize);
  if (!values) return values.error();
  return Embeddings{dimensions(), std::move(values).value()};
}

Result<std::vector<float>> EncoderModel::rerank(std::string_view query, const std::vector<std::string>& documents) {
  std::vector<tokenizer::Encoding> pairs;
  pairs.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    auto encoding = directory_->tokenizer.encode_pair(query, documents[i], max_length());
    if (!encoding) return Error{"document " + std::to_string(i) + ": " + encoding.error().message};
    pairs.push_back(std::move(encoding).value());
  }
  return rerank(pairs);
}

Result<std::vector<float>> EncoderModel::rerank(const std::vector<tokenizer::Encoding>& pairs) {
  auto logits = classify(pairs);
  if (!logits) return logits.error();
  std::vector<float> scores(logits->size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = logits->row(i)[0];
  return scores;
}

Result<Embeddings> EncoderModel::classify(const std::vector<tokenizer::Encoding>& sequences) {
  if (kind() != ModelKind::reranker) return Error{"this model is not a cross-encoder: it has no classification head"};
  const size_t labels = directory_->weights.config.num_labels;
  auto tokens = batch(sequences);
  if (!tokens) return tokens.error();
  if (tokens->size() == 0) return Embeddings{labels, {}};
  auto values = backend_->classify(*tokens);
  if (!values) return values.error();
  return Embeddings{labels, std::move(values).value()};
}

}  // namespace tpustack::inferd
