#include "inferd/api/encoder_model.h"

#include "inferd/engine/cpu/cpu_backend.h"

namespace inferd {

EncoderModel::EncoderModel(std::shared_ptr<model::ModelDirectory> directory,
                           std::unique_ptr<engine::EncoderBackend> backend)
    : directory_(std::move(directory)), backend_(std::move(backend)) {}

Result<EncoderModel> EncoderModel::load(const std::filesystem::path& directory, const LoadOptions& options) {
  auto loaded = model::load_model_directory(directory);
  if (!loaded) return loaded.error();
  auto shared = std::make_shared<model::ModelDirectory>(std::move(loaded).value());
  // The backend keeps the weights alive through an aliasing pointer into the directory.
  std::shared_ptr<const model::BertWeights> weights(shared, &shared->weights);
  auto backend = engine::cpu::make_cpu_backend(std::move(weights), {options.threads, options.precision});
  return EncoderModel(std::move(shared), std::move(backend));
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
  auto tokens = batch(encodings);
  if (!tokens) return tokens.error();
  if (tokens->size() == 0) return Embeddings{dimensions(), {}};
  return Embeddings{dimensions(), backend_->embed(*tokens, directory_->pooling, directory_->normalize)};
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
  if (kind() != ModelKind::reranker) return Error{"this model is not a cross-encoder and cannot rerank"};
  auto tokens = batch(pairs);
  if (!tokens) return tokens.error();
  if (tokens->size() == 0) return std::vector<float>{};
  std::vector<float> logits = backend_->classify(*tokens);
  const size_t labels = directory_->weights.config.num_labels;
  std::vector<float> scores(tokens->size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = logits[i * labels];
  return scores;
}

}  // namespace inferd
