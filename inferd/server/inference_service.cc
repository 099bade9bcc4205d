#include "inferd/server/inference_service.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace inferd::server {

namespace {

using batching::Clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

RequestError client_went_away() { return {499, "cancelled", "the client went away"}; }

RequestError tokenizer_error(size_t input, const Error& error) {
  return {400, "tokenizer", "input " + std::to_string(input) + ": " + error.message};
}

// Tokenizes each input within the model's maximum, the way Hugging Face's tokenizers truncate. An input that reached
// the maximum may have been cut: unless the client allowed that, its untruncated length (word pieces plus the
// template's special tokens, counted over the whole text) decides.
template <class Encode, class Pieces>
Answer<std::vector<tokenizer::Encoding>> encode_all(size_t count, size_t max_length, bool truncate, Encode encode,
                                                    Pieces untruncated_length) {
  std::vector<tokenizer::Encoding> encodings;
  encodings.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    auto encoding = encode(i, max_length);
    if (!encoding) return tokenizer_error(i, encoding.error());
    if (!truncate && encoding->ids.size() >= max_length) {
      if (auto too_long = check_length(i, untruncated_length(i), max_length, truncate)) return *too_long;
    }
    encodings.push_back(std::move(encoding).value());
  }
  return encodings;
}

size_t piece_count(const tokenizer::Tokenizer& tokenizer, std::string_view text) {
  auto pieces = tokenizer.pieces(text);
  return pieces ? pieces->size() : 0;
}

size_t characters(const std::vector<std::string>& texts) {
  size_t n = 0;
  for (const std::string& t : texts) n += t.size();
  return n;
}

void l2_normalize(batching::Rows& rows) {
  for (size_t i = 0; i < rows.size(); ++i) {
    float* row = rows.values.data() + i * rows.width;
    double norm = 0;
    for (size_t j = 0; j < rows.width; ++j) norm += double(row[j]) * row[j];
    if (norm <= 0) continue;
    const float scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (size_t j = 0; j < rows.width; ++j) row[j] *= scale;
  }
}

}  // namespace

std::vector<size_t> best_first(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

Answer<batching::Rows> InferenceService::run(LoadedModel& model, std::vector<tokenizer::Encoding> encodings,
                                             const CallContext& context, Timing& timing) {
  if (context.cancelled && context.cancelled()) return client_went_away();
  auto ticket = std::make_shared<batching::Ticket>(encodings.size(), context.deadline);
  switch (model.scheduler().submit(ticket, std::move(encodings))) {
    case batching::Admission::accepted:
      break;
    case batching::Admission::queue_full:
      return RequestError{429, "overloaded", "the queue of model \"" + model.name() + "\" is full; retry shortly"};
    case batching::Admission::stopped:
      return RequestError{503, "unhealthy", "the server is shutting down"};
  }
  // Wake now and then to notice a client that went away, so its queued work is dropped instead of computed.
  while (true) {
    const Clock::time_point until = std::min(context.deadline, Clock::now() + std::chrono::milliseconds(20));
    if (auto completion = ticket->wait_until(until)) {
      timing.queue = completion->queue_time;
      timing.inference = completion->inference_time;
      switch (completion->failure) {
        case batching::Failure::none:
          return std::move(completion->rows);
        case batching::Failure::engine:
          return RequestError{424, "backend", completion->message};
        case batching::Failure::deadline:
          return RequestError{504, "timeout", completion->message};
        case batching::Failure::shutting_down:
          return RequestError{503, "unhealthy", completion->message};
      }
    }
    if (Clock::now() >= context.deadline) {
      ticket->abandon();
      return RequestError{504, "timeout", "the request's deadline passed before its batch finished"};
    }
    if (context.cancelled && context.cancelled()) {
      ticket->abandon();
      return client_went_away();
    }
  }
}

void InferenceService::record(const CallContext& context, const Timing& timing,
                              const std::vector<tokenizer::Encoding>& encodings) {
  metrics_.request_tokenization_duration.labels({context.method}).observe(seconds(timing.tokenization));
  metrics_.request_queue_duration.labels({context.method}).observe(seconds(timing.queue));
  metrics_.request_inference_duration.labels({context.method}).observe(seconds(timing.inference));
  metrics_.request_duration.labels({context.method}).observe(seconds(timing.total));
  auto& lengths = metrics_.request_input_length.labels({context.method});
  for (const auto& e : encodings) lengths.observe(static_cast<double>(e.ids.size()));
}

Answer<EmbedResult> InferenceService::embed(const EmbedRequest& request, const CallContext& context) {
  const Clock::time_point start = Clock::now();
  if (auto bad = check_input_count(request.inputs.size(), limits_)) return *bad;
  auto acquired = pool_.acquire(request.model);
  if (auto* error = std::get_if<RequestError>(&acquired)) return *error;
  LoadedModel& model = *std::get<std::shared_ptr<LoadedModel>>(acquired);
  if (model.model().kind() != ModelKind::embedding) {
    return RequestError{400, "validation", "model \"" + model.name() + "\" is a reranker; it cannot embed"};
  }
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  auto encoded = encode_all(
      request.inputs.size(), model.model().max_length(), request.truncate,
      [&](size_t i, size_t max) { return tokenizer.encode(request.inputs[i], max); },
      [&](size_t i) { return piece_count(tokenizer, request.inputs[i]) + 2; });
  if (auto* error = std::get_if<RequestError>(&encoded)) return *error;
  auto& encodings = std::get<std::vector<tokenizer::Encoding>>(encoded);
  EmbedResult result{model.name(), {}, {}};
  result.timing.tokenization = Clock::now() - start;
  result.timing.characters = characters(request.inputs);
  for (const auto& e : encodings) result.timing.tokens += e.ids.size();
  auto rows = run(model, encodings, context, result.timing);
  if (auto* error = std::get_if<RequestError>(&rows)) return *error;
  result.embeddings = std::move(std::get<batching::Rows>(rows));
  if (request.normalize) l2_normalize(result.embeddings);
  result.timing.total = Clock::now() - start;
  record(context, result.timing, encodings);
  return result;
}

Answer<RerankResult> InferenceService::rerank(const RerankRequest& request, const CallContext& context) {
  const Clock::time_point start = Clock::now();
  if (auto bad = check_input_count(request.texts.size(), limits_)) return *bad;
  auto acquired = pool_.acquire(request.model);
  if (auto* error = std::get_if<RequestError>(&acquired)) return *error;
  LoadedModel& model = *std::get<std::shared_ptr<LoadedModel>>(acquired);
  if (model.model().kind() != ModelKind::reranker) {
    return RequestError{400, "validation", "model \"" + model.name() + "\" is not a cross-encoder; it cannot rerank"};
  }
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  const size_t query_pieces = piece_count(tokenizer, request.query);
  auto encoded = encode_all(
      request.texts.size(), model.model().max_length(), request.truncate,
      [&](size_t i, size_t max) { return tokenizer.encode_pair(request.query, request.texts[i], max); },
      [&](size_t i) { return query_pieces + piece_count(tokenizer, request.texts[i]) + 3; });
  if (auto* error = std::get_if<RequestError>(&encoded)) return *error;
  auto& encodings = std::get<std::vector<tokenizer::Encoding>>(encoded);
  RerankResult result{model.name(), {}, {}};
  result.timing.tokenization = Clock::now() - start;
  result.timing.characters = characters(request.texts) + request.query.size() * request.texts.size();
  for (const auto& e : encodings) result.timing.tokens += e.ids.size();
  auto rows = run(model, encodings, context, result.timing);
  if (auto* error = std::get_if<RequestError>(&rows)) return *error;
  result.scores = std::move(std::get<batching::Rows>(rows).values);
  if (!request.raw_scores) {
    for (float& s : result.scores) s = 1.0f / (1.0f + std::exp(-s));
  }
  result.timing.total = Clock::now() - start;
  record(context, result.timing, encodings);
  return result;
}

Answer<TokenizeResult> InferenceService::tokenize(const TokenizeRequest& request) {
  if (auto bad = check_input_count(request.inputs.size(), limits_)) return *bad;
  auto acquired = pool_.acquire(request.model);
  if (auto* error = std::get_if<RequestError>(&acquired)) return *error;
  LoadedModel& model = *std::get<std::shared_ptr<LoadedModel>>(acquired);
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  TokenizeResult result{model.name(), {}, {}};
  size_t total = 0;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const std::string_view input = request.inputs[i];
    auto encoded = tokenizer.encode_with_offsets(input, request.add_special_tokens);
    if (!encoded) return tokenizer_error(i, encoded.error());
    const std::vector<tokenizer::TokenId>& ids = encoded->encoding.ids;
    // The answer grows about 60 bytes a token: refuse before building it.
    total += ids.size();
    if (auto too_many = check_token_count(total, limits_)) return *too_many;
    std::vector<SimpleToken>& tokens = result.tokens.emplace_back();
    for (size_t t = 0; t < ids.size(); ++t) {
      const tokenizer::TokenOffsets& at = encoded->offsets[t];
      tokens.push_back(
          {ids[t],
           std::string(at.special ? tokenizer.model().token(ids[t]) : input.substr(at.start, at.stop - at.start)),
           at.special, at.start, at.stop});
    }
    result.encodings.push_back(std::move(encoded->encoding));
  }
  return result;
}

}  // namespace inferd::server
