#include "inferd/server/grpc_service.h"

#include <algorithm>

#include "inferd/server/text_generation.h"

namespace tpustack::inferd::server {

namespace {

std::optional<std::string> model_name(const std::string& model) {
  return model.empty() ? std::nullopt : std::optional<std::string>(model);
}

// The request as the HTTP routes read theirs: a chat when it has messages, else a completion.
Result<GenerationRequest, RequestError> generation_of(const ::inferd::v1::GenerateRequest& in) {
  GenerationRequest request;
  request.model = model_name(in.model());
  request.stream = true;
  SamplingFields& sampling = request.sampling;
  if (in.has_max_tokens()) sampling.max_tokens = in.max_tokens();
  if (in.has_temperature()) sampling.temperature = in.temperature();
  if (in.has_top_p()) sampling.top_p = in.top_p();
  if (in.has_top_k()) sampling.top_k = in.top_k();
  if (in.has_min_p()) sampling.min_p = in.min_p();
  if (in.has_repetition_penalty()) sampling.repetition_penalty = in.repetition_penalty();
  if (in.has_presence_penalty()) sampling.presence_penalty = in.presence_penalty();
  if (in.has_frequency_penalty()) sampling.frequency_penalty = in.frequency_penalty();
  if (in.has_seed()) sampling.seed = in.seed();
  sampling.stop = {in.stop().begin(), in.stop().end()};
  sampling.stop_token_ids = {in.stop_token_ids().begin(), in.stop_token_ids().end()};
  sampling.ignore_eos = in.ignore_eos();
  if (in.messages().empty()) {
    request.api = GenerationApi::completions;
    request.prompt = in.prompt();
    if (!is_valid_utf8(request.prompt)) return RequestError{400, "validation", "the prompt is not valid UTF-8"};
    return request;
  }
  request.api = GenerationApi::chat;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  for (const auto& message : in.messages()) {
    if (!is_valid_utf8(message.role()) || !is_valid_utf8(message.content())) {
      return RequestError{400, "validation", "a message is not valid UTF-8"};
    }
    messages.push_back({{"role", message.role()}, {"content", message.content()}});
  }
  request.chat = {{"messages", std::move(messages)}};
  return request;
}

}  // namespace

grpc::Status GrpcService::Generate(grpc::ServerContext* context, const ::inferd::v1::GenerateRequest* request,
                                   grpc::ServerWriter<::inferd::v1::GenerateResponse>* writer) {
  if (state_.draining) return draining_status();
  InFlight counted(state_);
  auto call = generation_of(*request);
  if (!call) return status_of(call.error());
  auto started = start_generation(service_, *call);
  if (!started) return status_of(started.error());
  grpc::Status status = grpc::Status::OK;
  const bool ended =
      started->follow([&] { return !context->IsCancelled(); },
                      [&](const generation::GenerationUpdate& update, size_t) {
                        if (update.error) {
                          status = {grpc::StatusCode::INTERNAL, update.error->message};
                          return true;
                        }
                        ::inferd::v1::GenerateResponse response;
                        response.set_text(update.text);
                        for (const auto& token : update.tokens) response.add_token_ids(token.token);
                        if (update.finish) {
                          response.set_finish_reason(std::string(generation::finish_reason_name(*update.finish)));
                        }
                        response.set_prompt_tokens(static_cast<uint32_t>(started->outcome.prompt_tokens));
                        response.set_completion_tokens(static_cast<uint32_t>(update.completion_tokens));
                        response.set_model(started->outcome.model);
                        return writer->Write(response);
                      });
  return ended ? status : grpc::Status{grpc::StatusCode::CANCELLED, "the client cancelled the call or went away"};
}

grpc::Status GrpcService::Embed(grpc::ServerContext* context, const ::inferd::v1::EmbedRequest* request,
                                ::inferd::v1::EmbedResponse* response) {
  if (state_.draining) return draining_status();
  InFlight counted(state_);
  EmbedRequest call;
  call.model = model_name(request->model());
  call.inputs = {request->inputs().begin(), request->inputs().end()};
  call.normalize = !request->has_normalize() || request->normalize();
  call.truncate = request->truncate();
  for (const std::string& input : call.inputs) {
    if (!is_valid_utf8(input)) return {grpc::StatusCode::INVALID_ARGUMENT, "an input is not valid UTF-8"};
  }
  auto answer = service_.embed(call, call_context(context, "embed"));
  if (!answer) return status_of(answer.error());
  const auto& result = answer.value();
  response->set_model(result.model);
  for (size_t i = 0; i < result.embeddings.size(); ++i) {
    auto row = result.embeddings.row(i);
    response->add_embeddings()->mutable_values()->Add(row.begin(), row.end());
  }
  fill_metadata(result.timing, response->mutable_metadata());
  return grpc::Status::OK;
}

grpc::Status GrpcService::Rerank(grpc::ServerContext* context, const ::inferd::v1::RerankRequest* request,
                                 ::inferd::v1::RerankResponse* response) {
  if (state_.draining) return draining_status();
  InFlight counted(state_);
  RerankRequest call{model_name(request->model()),
                     request->query(),
                     {request->texts().begin(), request->texts().end()},
                     request->truncate(),
                     request->raw_scores()};
  if (!is_valid_utf8(call.query) || !std::all_of(call.texts.begin(), call.texts.end(), is_valid_utf8)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "the query or a text is not valid UTF-8"};
  }
  auto answer = service_.rerank(call, call_context(context, "rerank"));
  if (!answer) return status_of(answer.error());
  const auto& result = answer.value();
  response->set_model(result.model);
  for (size_t i : best_first(result.scores)) {
    auto* rank = response->add_ranks();
    rank->set_index(static_cast<uint32_t>(i));
    rank->set_score(result.scores[i]);
    if (request->return_text()) rank->set_text(call.texts[i]);
  }
  fill_metadata(result.timing, response->mutable_metadata());
  return grpc::Status::OK;
}

grpc::Status GrpcService::Tokenize(grpc::ServerContext*, const ::inferd::v1::TokenizeRequest* request,
                                   ::inferd::v1::TokenizeResponse* response) {
  TokenizeRequest call{model_name(request->model()),
                       {request->inputs().begin(), request->inputs().end()},
                       !request->has_add_special_tokens() || request->add_special_tokens()};
  if (!std::all_of(call.inputs.begin(), call.inputs.end(), is_valid_utf8)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "an input is not valid UTF-8"};
  }
  auto answer = service_.tokenize(call);
  if (!answer) return status_of(answer.error());
  const auto& result = answer.value();
  response->set_model(result.model);
  for (size_t i = 0; i < result.encodings.size(); ++i) {
    auto* tokens = response->add_tokens();
    tokens->mutable_ids()->Add(result.encodings[i].ids.begin(), result.encodings[i].ids.end());
    tokens->mutable_type_ids()->Add(result.encodings[i].type_ids.begin(), result.encodings[i].type_ids.end());
    for (const SimpleToken& token : result.tokens[i]) fill_simple_token(token, tokens->add_simple_tokens());
  }
  return grpc::Status::OK;
}

grpc::Status GrpcService::Info(grpc::ServerContext*, const ::inferd::v1::InfoRequest*,
                               ::inferd::v1::InfoResponse* response) {
  response->set_version(info_.version);
  response->set_backend(info_.backend);
  if (info_.pjrt) {
    response->set_pjrt_plugin(info_.pjrt->library().string());
    response->set_device_kind(info_.pjrt->device_kind());
    response->set_devices(static_cast<uint32_t>(info_.pjrt->devices().size()));
  }
  const std::vector<std::string> loaded = service_.pool().loaded();
  const auto catalog = service_.pool().catalog();
  for (const auto& [name, entry] : *catalog) {
    auto* model = response->add_models();
    model->set_id(name);
    model->set_digest(entry.digest);
    model->set_type(entry.card.generator ? "generator" : entry.reranker ? "reranker" : "embedding");
    model->set_loaded(std::find(loaded.begin(), loaded.end(), name) != loaded.end());
  }
  response->set_max_batch_tokens(static_cast<uint32_t>(info_.limits.max_batch_tokens));
  response->set_max_batch_requests(static_cast<uint32_t>(info_.limits.max_batch_requests));
  response->set_max_client_batch_size(static_cast<uint32_t>(info_.max_client_batch_size));
  response->set_max_queue(static_cast<uint32_t>(info_.max_queue));
  response->set_worker_id(info_.worker.worker_id);
  response->set_workers(static_cast<uint32_t>(info_.worker.workers));
  response->set_worker_role(info_.worker.role);
  response->set_accelerator_type(info_.accelerator_type);
  if (const slice::SliceWorkers* slice = service_.slice()) {
    const auto now = slice::Clock::now();
    const auto statuses = slice->workers();
    for (size_t i = 0; i < statuses.size(); ++i) {
      const slice::WorkerStatus& w = statuses[i];
      auto* worker = response->add_slice_workers();
      worker->set_id(static_cast<uint32_t>(i));
      worker->set_address(w.address);
      worker->set_self(w.self);
      worker->set_state(w.state());
      worker->set_batches(w.units);
      worker->set_last_error(w.last_error);
      worker->set_next_retry_in_ms(w.retry_in_ms(now));
    }
  }
  return grpc::Status::OK;
}

grpc::Status GrpcService::Health(grpc::ServerContext*, const ::inferd::v1::HealthRequest*,
                                 ::inferd::v1::HealthResponse* response) {
  response->set_serving(!state_.draining);
  response->set_ready(state_.ready && !state_.draining);
  return grpc::Status::OK;
}

}  // namespace tpustack::inferd::server
