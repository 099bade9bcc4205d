#include "inferd/server/inference_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>

#include "inferd/server/embedding_output.h"

namespace tpustack::inferd::server {

namespace {

using batching::Clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

RequestError client_went_away() { return {499, "cancelled", "the client went away"}; }

RequestError tokenizer_error(size_t input, const Error& error) {
  return {400, "tokenizer", "input " + std::to_string(input) + ": " + error.message};
}

RequestError invalid(const Error& error, const std::string& param) { return {400, "validation", error.message, param}; }

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
      if (auto too_long = check_length(i, untruncated_length(i), max_length, truncate); !too_long)
        return too_long.error();
    }
    encodings.push_back(std::move(encoding).value());
  }
  return encodings;
}

// A single text encoded within `max_length`, cut from the end TEI's truncation_direction names: Right as the model's
// tokenizer cuts (its tokenizer.json may say otherwise), Left keeping the end of the text.
Result<tokenizer::Encoding> encode_text(const tokenizer::Tokenizer& tokenizer, std::string_view text, size_t max_length,
                                        TruncationDirection direction) {
  if (direction == TruncationDirection::right) return tokenizer.encode(text, max_length);
  // The whole text, past the cut a tokenizer.json's own truncation would make.
  auto whole = tokenizer.encode_with_offsets(text);
  if (!whole) return whole.error();
  return keep_end(std::move(whole->encoding), max_length);
}

// Token ids a client sent: used as given (no template), inside the vocabulary, cut only when the client allows it.
Answer<std::vector<tokenizer::Encoding>> encode_ids(std::vector<std::vector<tokenizer::TokenId>> inputs,
                                                    const EncoderModel& model, size_t max_length, bool truncate,
                                                    TruncationDirection direction) {
  std::vector<tokenizer::Encoding> encodings;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<tokenizer::TokenId>& ids = inputs[i];
    if (ids.empty()) return RequestError{400, "empty", "input " + std::to_string(i) + " has no tokens", "input"};
    for (tokenizer::TokenId id : ids) {
      if (id < 0 || static_cast<size_t>(id) >= model.config().vocab_size) {
        return RequestError{400, "validation",
                            "input " + std::to_string(i) + " has token id " + std::to_string(id) +
                                "; the model's vocabulary has ids 0 to " +
                                std::to_string(model.config().vocab_size - 1),
                            "input"};
      }
    }
    if (auto too_long = check_length(i, ids.size(), max_length, truncate); !too_long) return too_long.error();
    cut_ids(ids, max_length, direction);
    const size_t length = ids.size();
    encodings.push_back({std::move(ids), std::vector<tokenizer::TokenId>(length, 0)});
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

size_t tokens(const std::vector<tokenizer::Encoding>& encodings) {
  size_t n = 0;
  for (const auto& e : encodings) n += e.ids.size();
  return n;
}

InputLimits with_max_inputs(InputLimits limits, const CallContext& context) {
  limits.max_inputs = std::max(limits.max_inputs, context.max_inputs);
  return limits;
}

}  // namespace

std::vector<size_t> best_first(const std::vector<float>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  return order;
}

FollowerPart InferenceService::embed_on_follower(const EmbedRequest& request, const CallContext& context) const {
  slice::SliceWorkers* slice = slice_.load();
  // What inferd.v1's EmbedRequest cannot say (prompt names, token ids, cutting from the left) stays here, and so do
  // batch lines: they only fill the capacity this process's own clients leave.
  if (!slice || request.prompt_name || !request.token_ids.empty() ||
      request.truncation_direction != TruncationDirection::right ||
      context.priority != batching::Priority::interactive) {
    return {};
  }
  return [slice, &request, &context](size_t worker, Part part) {
    ::inferd::v1::EmbedRequest call;
    if (request.model) call.set_model(*request.model);
    for (size_t i = part.first; i < part.first + part.count; ++i) call.add_inputs(request.inputs[i]);
    call.set_truncate(request.truncate);
    call.set_normalize(false);  // normalised here after the cut to `dimensions`, as local rows are
    return slice->embed(worker, call, context.deadline);
  };
}

FollowerPart InferenceService::rerank_on_follower(const RerankRequest& request, const CallContext& context) const {
  slice::SliceWorkers* slice = slice_.load();
  if (!slice || context.priority != batching::Priority::interactive) return {};
  return [slice, &request, &context](size_t worker, Part part) {
    ::inferd::v1::RerankRequest call;
    if (request.model) call.set_model(*request.model);
    call.set_query(request.query);
    for (size_t i = part.first; i < part.first + part.count; ++i) call.add_texts(request.texts[i]);
    call.set_truncate(request.truncate);
    call.set_raw_scores(true);  // logits, which become scores here as local ones do
    return slice->rerank(worker, call, context.deadline);
  };
}

size_t InferenceService::max_input_length(const LoadedModel& model) const {
  return std::min(model.model().max_length(), limits_.max_tokens);
}

Answer<std::shared_ptr<LoadedModel>> InferenceService::acquire(const std::optional<std::string>& asked, Task task) {
  auto chosen = choose_model(*pool_.catalog(), asked, task);
  if (!chosen) return chosen.error();
  const ModelChoice& choice = chosen.value();
  if (!choice.warning.empty()) spdlog::warn("{}", choice.warning);
  auto acquired = pool_.acquire(choice.name);
  if (!acquired) return acquired.error();
  return std::move(acquired).value();
}

Answer<batching::Rows> InferenceService::run(LoadedModel& model, std::vector<tokenizer::Encoding> encodings,
                                             const CallContext& context, Timing& timing, const FollowerPart& follower) {
  // Parts of one client batch: a request of 2,048 inputs needs no queue that holds 2,048 sequences. Each part runs
  // here at most once (a local part's error is the request's), so its inputs move into the queue.
  const size_t part = std::max<size_t>(1, limits_.max_inputs);
  auto here = [&](Part p, Timing& part_timing) {
    const auto first = std::make_move_iterator(encodings.begin() + static_cast<std::ptrdiff_t>(p.first));
    return run_part(model, {first, first + static_cast<std::ptrdiff_t>(p.count)}, context, part_timing);
  };
  if (slice::SliceWorkers* slice = slice_.load(); slice && follower) {
    return spread_parts(*slice, encodings.size(), part, here, follower, context, timing);
  }
  return run_parts_here(encodings.size(), part, here, timing);
}

Answer<batching::Rows> InferenceService::run_part(LoadedModel& model, std::vector<tokenizer::Encoding> encodings,
                                                  const CallContext& context, Timing& timing) {
  if (context.cancelled && context.cancelled()) return client_went_away();
  const size_t sequences = encodings.size(), request_tokens = tokens(encodings);
  auto ticket = std::make_shared<batching::Ticket>(sequences, context.deadline);
  switch (model.scheduler().submit(ticket, std::move(encodings), context.priority)) {
    case batching::Admission::accepted:
      break;
    case batching::Admission::queue_full:
      return RequestError{429, "overloaded", "the queue of model \"" + model.name() + "\" is full; retry shortly"};
    case batching::Admission::too_large:
      return RequestError{413, "validation",
                          std::to_string(sequences) + " inputs of " + std::to_string(request_tokens) +
                              " tokens are more than the queue of model \"" + model.name() +
                              "\" holds (--max-queue, --max-queue-tokens); send fewer or shorter inputs"};
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

Answer<batching::Rows> InferenceService::infer(LoadedModel& model, const std::vector<tokenizer::Encoding>& encodings,
                                               Clock::time_point start, const CallContext& context, Timing& timing,
                                               const FollowerPart& follower) {
  timing.tokenization = Clock::now() - start;
  timing.tokens = tokens(encodings);
  auto rows = run(model, encodings, context, timing, follower);
  timing.total = Clock::now() - start;
  if (rows.ok()) record(context, timing, encodings);
  return rows;
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
  const size_t count = request.token_ids.empty() ? request.inputs.size() : request.token_ids.size();
  if (auto bad = check_input_count(count, with_max_inputs(limits_, context)); !bad) return bad.error();
  auto acquired = acquire(request.model, Task::embed);
  if (!acquired) return acquired.error();
  LoadedModel& model = *acquired.value();
  if (auto bad = check_dimensions(request.dimensions, model.model().dimensions()); !bad) {
    return invalid(bad.error(), "dimensions");
  }
  auto prompt = model::prompt_text(model.entry().card, request.prompt_name);
  if (!prompt) return invalid(prompt.error(), "prompt_name");
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  auto text = [&](size_t i) { return *prompt + request.inputs[i]; };
  auto encoded = request.token_ids.empty()
                     ? encode_all(
                           request.inputs.size(), max_input_length(model), request.truncate,
                           [&](size_t i, size_t max) {
                             return encode_text(tokenizer, text(i), max, request.truncation_direction);
                           },
                           [&](size_t i) { return piece_count(tokenizer, text(i)) + 2; })
                     : encode_ids(request.token_ids, model.model(), max_input_length(model), request.truncate,
                                  request.truncation_direction);
  if (!encoded) return encoded.error();
  auto& encodings = encoded.value();
  EmbedResult result{model.served_name(), {}, {}};
  result.timing.characters = characters(request.inputs);
  auto rows = infer(model, encodings, start, context, result.timing, embed_on_follower(request, context));
  if (!rows) return rows.error();
  result.embeddings = std::move(rows).value();
  if (request.dimensions) keep_dimensions(result.embeddings, *request.dimensions);
  if (request.normalize) l2_normalize(result.embeddings);
  return result;
}

Answer<RerankResult> InferenceService::rerank(const RerankRequest& request, const CallContext& context) {
  const Clock::time_point start = Clock::now();
  if (auto bad = check_input_count(request.texts.size(), with_max_inputs(limits_, context)); !bad) return bad.error();
  auto acquired = acquire(request.model, Task::rerank);
  if (!acquired) return acquired.error();
  LoadedModel& model = *acquired.value();
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  const size_t query_pieces = piece_count(tokenizer, request.query);
  auto encoded = encode_all(
      request.texts.size(), max_input_length(model), request.truncate,
      [&](size_t i, size_t max) { return tokenizer.encode_pair(request.query, request.texts[i], max); },
      [&](size_t i) { return query_pieces + piece_count(tokenizer, request.texts[i]) + 3; });
  if (!encoded) return encoded.error();
  auto& encodings = encoded.value();
  RerankResult result{model.served_name(), {}, {}};
  result.timing.characters = characters(request.texts) + request.query.size() * request.texts.size();
  auto rows = infer(model, encodings, start, context, result.timing, rerank_on_follower(request, context));
  if (!rows) return rows.error();
  const auto& logits = rows.value();
  for (size_t i = 0; i < logits.size(); ++i) {
    const float logit = logits.row(i)[0];  // a reranker's one label
    result.scores.push_back(request.raw_scores ? logit : 1.0f / (1.0f + std::exp(-logit)));
  }
  return result;
}

Answer<PredictResult> InferenceService::predict(const PredictRequest& request, const CallContext& context) {
  const Clock::time_point start = Clock::now();
  if (auto bad = check_input_count(request.sequences.size(), with_max_inputs(limits_, context)); !bad)
    return bad.error();
  auto acquired = acquire(request.model, Task::predict);
  if (!acquired) return acquired.error();
  LoadedModel& model = *acquired.value();
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  const auto& texts = request.sequences;
  auto encoded = encode_all(
      texts.size(), max_input_length(model), request.truncate,
      [&](size_t i, size_t max) {
        return texts[i].size() == 2 ? tokenizer.encode_pair(texts[i][0], texts[i][1], max)
                                    : encode_text(tokenizer, texts[i].at(0), max, request.truncation_direction);
      },
      [&](size_t i) {
        size_t pieces = 0;
        for (const std::string& text : texts[i]) pieces += piece_count(tokenizer, text) + 1;
        return pieces + 1;
      });
  if (!encoded) return encoded.error();
  auto& encodings = encoded.value();
  PredictResult result{model.served_name(), {}, {}};
  for (const auto& sequence : texts) result.timing.characters += characters(sequence);
  auto rows = infer(model, encodings, start, context, result.timing);
  if (!rows) return rows.error();
  const auto& logits = rows.value();
  for (size_t i = 0; i < logits.size(); ++i) {
    result.predictions.push_back(predictions(logits.row(i), model.entry().card.labels, request.raw_scores));
  }
  return result;
}

Answer<TokenizeResult> InferenceService::tokenize(const TokenizeRequest& request) {
  if (auto bad = check_input_count(request.inputs.size(), limits_); !bad) return bad.error();
  auto acquired = acquire(request.model, tokenizing_task(*pool_.catalog(), request.model));
  if (!acquired) return acquired.error();
  LoadedModel& model = *acquired.value();
  const tokenizer::Tokenizer& tokenizer = model.model().tokenizer();
  TokenizeResult result{model.served_name(), {}, {}};
  size_t total = 0;
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    const std::string_view input = request.inputs[i];
    auto encoded = tokenizer.encode_with_offsets(input, request.add_special_tokens);
    if (!encoded) return tokenizer_error(i, encoded.error());
    const std::vector<tokenizer::TokenId>& ids = encoded->encoding.ids;
    // The answer grows about 60 bytes a token: refuse before building it.
    total += ids.size();
    if (auto too_many = check_token_count(total, limits_); !too_many) return too_many.error();
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

}  // namespace tpustack::inferd::server
