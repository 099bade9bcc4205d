#include "inferd/server/tei_grpc_service.h"

#include <algorithm>
#include <limits>
#include <map>

#include "inferd/server/grpc_call.h"
#include "inferd/server/input_limits.h"
#include "inferd/server/model_routing.h"
#include "inferd/tokenizer/token_decoder.h"

namespace tpustack::inferd::server {

namespace {

// The model a TEI call names in its `model` metadata; none lets the InferenceService route it (model_routing.h).
std::optional<std::string> asked_model(grpc::ServerContext* context) {
  const auto& metadata = context->client_metadata();
  const auto named = metadata.find("model");
  if (named == metadata.end()) return std::nullopt;
  return std::string(named->second.data(), named->second.size());
}

grpc::Status invalid(std::string message) { return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)}; }

// proto3 cannot tell `truncate: false` from a call that does not say, so --auto-truncate holds for gRPC as it does
// for an HTTP request without "truncate" (serve with --auto-truncate=false to refuse over-long inputs).
template <class Request>
bool truncate(const TeiServing& serving, const Request& request) {
  return request.truncate() || serving.info.auto_truncate;
}

TruncationDirection direction(tei::v1::TruncationDirection direction) {
  return direction == tei::v1::TRUNCATION_DIRECTION_LEFT ? TruncationDirection::left : TruncationDirection::right;
}

grpc::Status not_utf8(const char* what) { return invalid(std::string(what) + " is not valid UTF-8"); }

void add(Timing& total, const Timing& part) {
  total.tokenization += part.tokenization;
  total.queue += part.queue;
  total.inference += part.inference;
  total.total += part.total;
  total.tokens += part.tokens;
  total.characters += part.characters;
}

grpc::Status embed_one(const TeiServing& serving, grpc::ServerContext* context, const tei::v1::EmbedRequest& request,
                       tei::v1::EmbedResponse& response) {
  if (serving.state.draining) return draining_status();
  InFlight counted(serving.state);
  if (!is_valid_utf8(request.inputs())) return not_utf8("inputs");
  EmbedRequest call;
  call.model = asked_model(context);
  call.inputs = {request.inputs()};
  call.normalize = request.normalize();
  call.truncate = truncate(serving, request);
  call.truncation_direction = direction(request.truncation_direction());
  if (request.has_prompt_name()) call.prompt_name = request.prompt_name();
  auto answer = serving.service.embed(call, call_context(context, "embed"));
  if (!answer) return status_of(answer.error());
  const auto& result = answer.value();
  auto row = result.embeddings.row(0);
  response.mutable_embeddings()->Add(row.begin(), row.end());
  fill_metadata(result.timing, response.mutable_metadata());
  return grpc::Status::OK;
}

// Reranking cuts pairs on the right only.
template <class Request>
std::optional<grpc::Status> unsupported_direction(const Request& request) {
  if (request.truncation_direction() != tei::v1::TRUNCATION_DIRECTION_LEFT) return std::nullopt;
  return invalid("truncation_direction LEFT is not supported by Rerank; inferd cuts pairs on the right");
}

struct RerankPair {
  std::string query;
  std::string text;
};

// Scores each pair, one InferenceService call per distinct query, and answers TEI's ranking: best first.
grpc::Status rerank_pairs(const TeiServing& serving, grpc::ServerContext* context, const std::vector<RerankPair>& pairs,
                          bool truncate, bool raw_scores, bool return_text, tei::v1::RerankResponse& response) {
  if (serving.state.draining) return draining_status();
  InFlight counted(serving.state);
  for (const RerankPair& pair : pairs) {
    if (!is_valid_utf8(pair.query) || !is_valid_utf8(pair.text)) return not_utf8("the query or a text");
  }
  std::map<std::string, std::vector<size_t>> by_query;
  for (size_t i = 0; i < pairs.size(); ++i) by_query[pairs[i].query].push_back(i);
  std::vector<float> scores(pairs.size());
  Timing timing;
  const auto model = asked_model(context);
  for (const auto& [query, indices] : by_query) {
    RerankRequest call;
    call.model = model;
    call.query = query;
    call.truncate = truncate;
    call.raw_scores = raw_scores;
    for (size_t i : indices) call.texts.push_back(pairs[i].text);
    auto answer = serving.service.rerank(call, call_context(context, "rerank"));
    if (!answer) return status_of(answer.error());
    const auto& result = answer.value();
    for (size_t k = 0; k < indices.size(); ++k) scores[indices[k]] = result.scores[k];
    add(timing, result.timing);
  }
  for (size_t i : best_first(scores)) {
    auto* rank = response.add_ranks();
    rank->set_index(static_cast<uint32_t>(i));
    rank->set_score(scores[i]);
    if (return_text) rank->set_text(pairs[i].text);
  }
  fill_metadata(timing, response.mutable_metadata());
  return grpc::Status::OK;
}

// One text, or a pair (PredictPair's inputs), classified.
template <class Request>
grpc::Status predict_one(const TeiServing& serving, grpc::ServerContext* context, const Request& request,
                         std::vector<std::string> sequence, tei::v1::PredictResponse& response) {
  if (serving.state.draining) return draining_status();
  InFlight counted(serving.state);
  if (sequence.empty() || sequence.size() > 2) return invalid("inputs must be one text or a pair of texts");
  if (!std::all_of(sequence.begin(), sequence.end(), is_valid_utf8)) return not_utf8("an input");
  PredictRequest call;
  call.model = asked_model(context);
  call.sequences = {std::move(sequence)};
  call.truncate = truncate(serving, request);
  call.raw_scores = request.raw_scores();
  call.truncation_direction = direction(request.truncation_direction());
  auto answer = serving.service.predict(call, call_context(context, "predict"));
  if (!answer) return status_of(answer.error());
  const auto& result = answer.value();
  for (const Prediction& prediction : result.predictions.at(0)) {
    auto* added = response.add_predictions();
    added->set_label(prediction.label);
    added->set_score(prediction.score);
  }
  fill_metadata(result.timing, response.mutable_metadata());
  return grpc::Status::OK;
}

grpc::Status predict_text(const TeiServing& serving, grpc::ServerContext* context,
                          const tei::v1::PredictRequest& request, tei::v1::PredictResponse& response) {
  return predict_one(serving, context, request, {request.inputs()}, response);
}

grpc::Status predict_pair(const TeiServing& serving, grpc::ServerContext* context,
                          const tei::v1::PredictPairRequest& request, tei::v1::PredictResponse& response) {
  return predict_one(serving, context, request, {request.inputs().begin(), request.inputs().end()}, response);
}

grpc::Status tokenize_one(const TeiServing& serving, grpc::ServerContext* context,
                          const tei::v1::EncodeRequest& request, tei::v1::EncodeResponse& response) {
  if (request.has_prompt_name()) return invalid("prompt_name is not supported by Tokenize yet");
  if (!is_valid_utf8(request.inputs())) return not_utf8("inputs");
  auto answer = serving.service.tokenize({asked_model(context), {request.inputs()}, request.add_special_tokens()});
  if (!answer) return status_of(answer.error());
  for (const SimpleToken& token : answer.value().tokens.at(0)) {
    fill_simple_token(token, response.add_tokens());
  }
  return grpc::Status::OK;
}

grpc::Status decode_one(const TeiServing& serving, grpc::ServerContext* context, const tei::v1::DecodeRequest& request,
                        tei::v1::DecodeResponse& response) {
  // The model Tokenize would use: a named one whatever its task, else the default embedder.
  const auto asked = asked_model(context);
  const auto snapshot = serving.service.pool().catalog();
  const ModelCatalog& catalog = *snapshot;
  auto chosen = choose_model(catalog, asked, tokenizing_task(catalog, asked));
  if (!chosen) return status_of(chosen.error());
  auto acquired = serving.service.pool().acquire(chosen.value().name);
  if (!acquired) return status_of(acquired.error());
  const auto& model = acquired.value();
  std::vector<tokenizer::TokenId> ids;
  for (uint32_t id : request.ids()) {
    if (id > static_cast<uint32_t>(std::numeric_limits<tokenizer::TokenId>::max())) {
      return invalid("token id " + std::to_string(id) + " is not in the vocabulary");
    }
    ids.push_back(static_cast<tokenizer::TokenId>(id));
  }
  auto text = tokenizer::decode_tokens(model->model().tokenizer(), ids, request.skip_special_tokens());
  if (!text) return invalid(text.error().message);
  response.set_text(std::move(text).value());
  return grpc::Status::OK;
}

// One of the functions above bound to a service's TeiServing, as a stream's handler calls it for each message.
template <class Request, class Response>
auto bound(const TeiServing& serving,
           grpc::Status (*answer)(const TeiServing&, grpc::ServerContext*, const Request&, Response&)) {
  return [&serving, answer](grpc::ServerContext* context, const Request& request, Response& response) {
    return answer(serving, context, request, response);
  };
}

grpc::Status unimplemented(const char* what) { return {grpc::StatusCode::UNIMPLEMENTED, what}; }

constexpr const char* no_sparse = "inferd serves dense embedding models only: there is no sparse (SPLADE) model to run";
constexpr const char* no_embed_all = "inferd returns pooled embeddings only; EmbedAll's per-token vectors are not kept";

}  // namespace

grpc::Status TeiInfoService::Info(grpc::ServerContext*, const tei::v1::InfoRequest*, tei::v1::InfoResponse* response) {
  const ServerInfo& info = serving_.info;
  ModelPool& pool = serving_.service.pool();
  response->set_version(info.version);
  const auto catalog = pool.catalog();
  if (catalog->empty()) return grpc::Status::OK;
  // TEI describes its one model; here the primary one, as HTTP /info does.
  const std::string& primary = primary_model(*catalog);
  const CatalogEntry& entry = catalog->at(primary);
  response->set_model_id(served_name(*catalog, primary));
  response->set_model_sha(entry.digest);
  response->set_model_type(!entry.reranker                 ? tei::v1::MODEL_TYPE_EMBEDDING
                           : entry.card.labels.size() <= 1 ? tei::v1::MODEL_TYPE_RERANKER
                                                           : tei::v1::MODEL_TYPE_CLASSIFIER);
  response->set_model_dtype(tei_model_dtype(pool, primary, info.variant));
  response->set_max_input_length(
      static_cast<uint32_t>(std::min(entry.card.max_input_length, info.limits.max_batch_tokens)));
  response->set_max_concurrent_requests(static_cast<uint32_t>(info.max_concurrent_requests));
  response->set_max_batch_tokens(static_cast<uint32_t>(info.limits.max_batch_tokens));
  response->set_max_batch_requests(static_cast<uint32_t>(info.limits.max_batch_requests));
  response->set_max_client_batch_size(static_cast<uint32_t>(info.max_client_batch_size));
  response->set_tokenization_workers(static_cast<uint32_t>(info.tokenization_workers));
  return grpc::Status::OK;
}

TeiEmbedService::TeiEmbedService(TeiServing serving) : serving_(serving) {
  MarkMethodStreamed(
      1, each_message_handler<tei::v1::EmbedRequest, tei::v1::EmbedResponse>(this, bound(serving_, embed_one)));
}

grpc::Status TeiEmbedService::Embed(grpc::ServerContext* context, const tei::v1::EmbedRequest* request,
                                    tei::v1::EmbedResponse* response) {
  return embed_one(serving_, context, *request, *response);
}

grpc::Status TeiEmbedService::EmbedSparse(grpc::ServerContext*, const tei::v1::EmbedSparseRequest*,
                                          tei::v1::EmbedSparseResponse*) {
  return unimplemented(no_sparse);
}

grpc::Status TeiEmbedService::EmbedSparseStream(
    grpc::ServerContext*, grpc::ServerReaderWriter<tei::v1::EmbedSparseResponse, tei::v1::EmbedSparseRequest>*) {
  return unimplemented(no_sparse);
}

grpc::Status TeiEmbedService::EmbedAll(grpc::ServerContext*, const tei::v1::EmbedAllRequest*,
                                       tei::v1::EmbedAllResponse*) {
  return unimplemented(no_embed_all);
}

grpc::Status TeiEmbedService::EmbedAllStream(
    grpc::ServerContext*, grpc::ServerReaderWriter<tei::v1::EmbedAllResponse, tei::v1::EmbedAllRequest>*) {
  return unimplemented(no_embed_all);
}

TeiRerankService::TeiRerankService(TeiServing serving) : serving_(serving) {
  MarkMethodStreamed(1, raw_stream_handler(this, &TeiRerankService::rerank_stream));
}

grpc::Status TeiRerankService::Rerank(grpc::ServerContext* context, const tei::v1::RerankRequest* request,
                                      tei::v1::RerankResponse* response) {
  if (auto refused = unsupported_direction(*request)) return *refused;
  std::vector<RerankPair> pairs;
  for (const std::string& text : request->texts()) pairs.push_back({request->query(), text});
  return rerank_pairs(serving_, context, pairs, truncate(serving_, *request), request->raw_scores(),
                      request->return_text(), *response);
}

grpc::Status TeiRerankService::rerank_stream(grpc::ServerContext* context, RawStream* stream) {
  grpc::Status status;
  tei::v1::RerankStreamRequest request;
  std::vector<RerankPair> pairs;
  bool truncate_pairs = false, raw_scores = false, return_text = false;
  while (read_message(stream, request, status)) {
    if (auto refused = unsupported_direction(request)) return *refused;
    if (pairs.empty()) {  // as TEI: the first message's raw_scores and return_text hold for all
      raw_scores = request.raw_scores();
      return_text = request.return_text();
    }
    truncate_pairs = truncate_pairs || truncate(serving_, request);
    pairs.push_back({request.query(), request.text()});
  }
  if (!status.ok()) return status;
  tei::v1::RerankResponse response;
  status = rerank_pairs(serving_, context, pairs, truncate_pairs, raw_scores, return_text, response);
  if (!status.ok()) return status;
  if (!write_message(stream, response)) return {grpc::StatusCode::CANCELLED, "the client went away"};
  return grpc::Status::OK;
}

TeiPredictService::TeiPredictService(TeiServing serving) : serving_(serving) {
  MarkMethodStreamed(
      2, each_message_handler<tei::v1::PredictRequest, tei::v1::PredictResponse>(this, bound(serving_, predict_text)));
  MarkMethodStreamed(3, each_message_handler<tei::v1::PredictPairRequest, tei::v1::PredictResponse>(
                            this, bound(serving_, predict_pair)));
}

grpc::Status TeiPredictService::Predict(grpc::ServerContext* context, const tei::v1::PredictRequest* request,
                                        tei::v1::PredictResponse* response) {
  return predict_text(serving_, context, *request, *response);
}

grpc::Status TeiPredictService::PredictPair(grpc::ServerContext* context, const tei::v1::PredictPairRequest* request,
                                            tei::v1::PredictResponse* response) {
  return predict_pair(serving_, context, *request, *response);
}

TeiTokenizeService::TeiTokenizeService(TeiServing serving) : serving_(serving) {
  MarkMethodStreamed(
      1, each_message_handler<tei::v1::EncodeRequest, tei::v1::EncodeResponse>(this, bound(serving_, tokenize_one)));
  MarkMethodStreamed(
      3, each_message_handler<tei::v1::DecodeRequest, tei::v1::DecodeResponse>(this, bound(serving_, decode_one)));
}

grpc::Status TeiTokenizeService::Tokenize(grpc::ServerContext* context, const tei::v1::EncodeRequest* request,
                                          tei::v1::EncodeResponse* response) {
  return tokenize_one(serving_, context, *request, *response);
}

grpc::Status TeiTokenizeService::Decode(grpc::ServerContext* context, const tei::v1::DecodeRequest* request,
                                        tei::v1::DecodeResponse* response) {
  return decode_one(serving_, context, *request, *response);
}

}  // namespace tpustack::inferd::server
