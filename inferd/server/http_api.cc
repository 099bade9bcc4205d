#include "inferd/server/http_api.h"

#include <algorithm>
#include <mutex>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/config/duration.h"
#include "common/encoding/base64.h"
#include "common/encoding/percent_encoding.h"
#include "inferd/server/embedding_output.h"
#include "inferd/server/error_reply.h"
#include "inferd/server/request_body.h"
#include "inferd/server/text_generation.h"
#include "inferd/server/wire_requests.h"

namespace tpustack::inferd::server {

namespace {

using batching::Clock;
using nlohmann::json;

constexpr const char* models_prefix = "/v1/models/";

HttpReply error_reply(const RequestError& error, ErrorShape shape) {
  ErrorBody body = error_body(error, shape);
  return {body.status, std::move(body.json), "application/json", std::move(body.headers)};
}

HttpReply json_reply(const json& body) { return {200, body.dump(), "application/json", {}}; }

double milliseconds(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// TEI's timing headers, which load tests read.
void add_timing(HttpReply& reply, const Timing& t, const std::string& backend) {
  auto ms = [](Clock::duration d) { return std::to_string(static_cast<long long>(milliseconds(d))); };
  reply.headers.insert(reply.headers.end(), {{"x-compute-type", backend},
                                             {"x-compute-time", ms(t.tokenization + t.inference)},
                                             {"x-compute-characters", std::to_string(t.characters)},
                                             {"x-compute-tokens", std::to_string(t.tokens)},
                                             {"x-total-time", ms(t.total)},
                                             {"x-tokenization-time", ms(t.tokenization)},
                                             {"x-queue-time", ms(t.queue)},
                                             {"x-inference-time", ms(t.inference)}});
}

json rows_json(const batching::Rows& rows) {
  json list = json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    auto row = rows.row(i);
    list.push_back(std::vector<float>(row.begin(), row.end()));
  }
  return list;
}

// The value of a request's result, or the reply for its error in `shape`.
template <class T>
const T* value_or_reply(const Result<T, RequestError>& answer, ErrorShape shape, HttpReply& reply) {
  if (!answer) {
    reply = error_reply(answer.error(), shape);
    return nullptr;
  }
  return &answer.value();
}

// A route's work once its body is parsed: the request from the body, the service's answer to it, the reply
// `render` makes of that, with TEI's timing headers; a failure at either step is answered in `shape`.
template <class Request, class Serve, class Render>
HttpReply respond(const std::string& backend, ErrorShape shape, const Result<Request, RequestError>& parsed,
                  Serve serve, Render render) {
  HttpReply reply;
  const Request* request = value_or_reply(parsed, shape, reply);
  if (!request) return reply;
  const auto answer = serve(*request);
  const auto* result = value_or_reply(answer, shape, reply);
  if (!result) return reply;
  reply = render(*request, *result);
  add_timing(reply, result->timing, backend);
  return reply;
}

// TEI's model_type: {"embedding": {"pooling": ...}}, or {"reranker"|"classifier": {"id2label", "label2id"}}.
json model_type(const CatalogEntry& entry) {
  if (entry.card.generator) return {{"generator", json::object()}};
  if (!entry.reranker) return {{"embedding", {{"pooling", entry.card.pooling}}}};
  json id2label = json::object(), label2id = json::object();
  for (size_t i = 0; i < entry.card.labels.size(); ++i) {
    id2label[std::to_string(i)] = entry.card.labels[i];
    label2id[entry.card.labels[i]] = i;
  }
  json type = json::object();
  type[entry.card.labels.size() <= 1 ? "reranker" : "classifier"] = {{"id2label", std::move(id2label)},
                                                                     {"label2id", std::move(label2id)}};
  return type;
}

json openai_model(const std::string& id) {
  return {{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "inferd"}};
}

// The runtime's counts as the metrics' counters (which only go up, as the counts do).
void publish_pjrt_counters(const engine::pjrt::PjrtRuntime& runtime, ServerMetrics& metrics) {
  static std::mutex publishing;  // two scrapes at once would both add the same difference
  std::lock_guard lock(publishing);
  const std::vector<uint64_t> runs = runtime.runs_per_device();
  for (size_t i = 0; i < runs.size(); ++i) {
    auto& counter =
        metrics.pjrt_device_batches.labels({std::to_string(runtime.devices()[i].id), runtime.devices()[i].kind});
    counter.inc(static_cast<double>(runs[i]) - counter.value());
  }
  const engine::pjrt::CompileCache& cache = runtime.compile_cache();
  for (auto [result, count] : {std::pair{"hit", cache.hits()}, std::pair{"miss", cache.misses()}}) {
    auto& counter = metrics.pjrt_compile_cache.labels({result});
    counter.inc(static_cast<double>(count) - counter.value());
  }
}

// The PJRT plugin, its devices and what each ran, and the compile cache: /info's "pjrt".
json pjrt_info(const engine::pjrt::PjrtRuntime& runtime) {
  json devices = json::array();
  const std::vector<uint64_t> runs = runtime.runs_per_device();
  for (size_t i = 0; i < runs.size(); ++i) {
    const engine::pjrt::PjrtDevice& device = runtime.devices()[i];
    devices.push_back({{"id", device.id}, {"kind", device.kind}, {"batches", runs[i]}});
  }
  const engine::pjrt::CompileCache& cache = runtime.compile_cache();
  const auto& directory = runtime.compile_cache_directory();
  return {{"plugin", runtime.library().string()},
          {"platform", runtime.client().platform_name()},
          {"platform_version", runtime.client().platform_version()},
          {"device_kind", runtime.device_kind()},
          {"device_count", runs.size()},
          {"devices", std::move(devices)},
          {"compile_cache",
           {{"directory", directory ? json(directory->string()) : json()},
            {"hits", cache.hits()},
            {"misses", cache.misses()},
            {"compile_seconds", cache.compile_seconds()}}}};
}

}  // namespace

const std::map<std::string, HttpApi::Read> HttpApi::reads_ = {
    {"/", &HttpApi::health},
    {"/health", &HttpApi::health},
    {"/ready", &HttpApi::ready},
    {"/metrics", &HttpApi::metrics},
    {"/info", &HttpApi::info},
    {"/v1/models", &HttpApi::models_openai},
    {models_prefix, &HttpApi::model_openai},
    {"/api/models", &HttpApi::models_termite},
};

const std::map<std::string, HttpApi::InferenceRoute> HttpApi::inference_ = {
    {"/", {&HttpApi::task_of_model, "embed"}},
    {"/embed", {&HttpApi::embed_tei, "embed"}},
    {"/v1/embeddings", {&HttpApi::embed_openai, "embed"}},
    {"/embeddings", {&HttpApi::embed_openai, "embed"}},
    {"/api/embed", {&HttpApi::embed_termite, "embed"}},
    {"/rerank", {&HttpApi::rerank_tei, "rerank"}},
    {"/api/rerank", {&HttpApi::rerank_termite, "rerank"}},
    {"/predict", {&HttpApi::predict_tei, "predict"}},
    {"/similarity", {&HttpApi::similarity_tei, "embed"}},
    {"/v1/completions", {&HttpApi::completions_openai, "generate"}},
    {"/v1/chat/completions", {&HttpApi::chat_openai, "generate"}},
    {"/generate", {&HttpApi::generate_tgi, "generate"}},
    {"/generate_stream", {&HttpApi::generate_stream_tgi, "generate"}},
};

std::string HttpApi::route_of(const std::string& path) {
  if (batch_jobs::is_jobs_path(path)) return batch_jobs::jobs_route_label(path);
  return path.starts_with(models_prefix) && path.size() > std::string_view(models_prefix).size() ? models_prefix : path;
}

std::string HttpApi::allowed_methods(const std::string& path) {
  if (batch_jobs::is_jobs_path(path)) return batch_jobs::jobs_allowed_methods(path);
  const std::string route = route_of(path);
  const bool reads = reads_.contains(route), posts = inference_.contains(route) || route == "/tokenize";
  if (route == "*" || (reads && posts)) return "GET, HEAD, POST, OPTIONS";  // OPTIONS * asks about the whole server
  if (reads) return "GET, HEAD, OPTIONS";
  if (posts) return "POST, OPTIONS";
  return "";
}

HttpReply HttpApi::error_for(const std::string& path, const RequestError& error) {
  HttpReply reply = error_reply(error, shape_of(path));
  if (error.status == 405) {
    const std::string allow = allowed_methods(path);
    reply.headers.emplace_back("Allow", allow.empty() ? allowed_methods("*") : allow);
  }
  return reply;
}

HttpReply HttpApi::handle(const HttpCall& call) {
  std::string route_label = "other";
  HttpReply reply = route(call, route_label);
  metrics_.http_requests.labels({route_label, std::to_string(reply.status)}).inc();
  return reply;
}

HttpReply HttpApi::refusal(const std::string& method, const std::string& path, int status, const std::string& reason) {
  static const std::map<int, std::string> types = {
      {400, "validation"}, {405, "validation"}, {413, "payload_too_large"}, {431, "validation"}, {503, "overloaded"}};
  const auto type = types.find(status);
  HttpReply reply = error_for(path, {status, type == types.end() ? "backend" : type->second, reason});
  metrics_.http_requests.labels({allowed_methods(path).empty() ? "other" : route_of(path), std::to_string(status)})
      .inc();
  spdlog::debug("{} {} {}: {}", method, path, status, reason);
  return reply;
}

HttpReply HttpApi::route(const HttpCall& call, std::string& label) {
  const std::string allow = allowed_methods(call.path);
  if (allow.empty()) {
    return error_reply({404, "not_found", call.method + " " + call.path + " is not a route of inferd"},
                       shape_of(call.path));
  }
  label = route_of(call.path);
  if (call.method == "OPTIONS") return {204, "", "", {{"Allow", allow}}};
  if (batch_jobs::is_jobs_path(call.path)) return jobs(call);
  const auto read = reads_.find(label);
  if (read != reads_.end() && call.method == "GET") return (this->*read->second)(call);
  const auto inference = inference_.find(label);
  if (call.method != "POST" || (inference == inference_.end() && label != "/tokenize")) {
    return error_for(call.path, {405, "validation", call.path + " answers " + allow + ", not " + call.method});
  }
  if (label == "/tokenize") return tokenize(call);
  const InferenceRoute& found = inference->second;
  const ErrorShape shape = shape_of(call.path);
  if (state_.draining) return error_reply({503, "unhealthy", "the server is shutting down"}, shape);
  CallContext context{Clock::now() + default_timeout_, call.client_gone, found.method};
  if (auto header = call.headers.find("x-request-timeout"); header != call.headers.end()) {
    auto timeout = tpustack::config::parse_duration(header->second);
    if (!timeout) return error_reply({400, "validation", "x-request-timeout: " + timeout.error().message}, shape);
    context.deadline = Clock::now() + *timeout;
  }
  metrics_.request_count.labels({context.method}).inc();
  HttpReply reply;
  {
    InFlight counted(state_);
    auto body = parse_body(call.body, service_.limits());
    if (const json* doc = value_or_reply(body, shape, reply)) reply = (this->*found.serve)(*doc, call, context);
  }
  if (reply.status == 200) {
    metrics_.request_success.labels({context.method}).inc();
  } else {
    metrics_.request_failure.labels({std::to_string(reply.status)}).inc();
  }
  return reply;
}

HttpReply HttpApi::serve_background(const std::string& path, const std::string& body) {
  // Longer than a client waits: a line behind interactive work is late, not failed (a timeout is retried anyway).
  constexpr auto background_timeout = std::chrono::minutes(10);
  const ErrorShape shape = shape_of(path);
  const auto found = inference_.find(path);
  if (found == inference_.end()) return error_reply({404, "not_found", path + " is no inference route"}, shape);
  CallContext context{Clock::now() + background_timeout, nullptr, found->second.method};
  context.priority = batching::Priority::background;
  HttpReply reply;
  auto parsed = parse_body(body, service_.limits());
  if (const json* doc = value_or_reply(parsed, shape, reply)) {
    HttpCall call{"POST", path, body, {}, nullptr, ""};
    reply = (this->*found->second.serve)(*doc, call, context);
  }
  return reply;
}

HttpReply HttpApi::jobs(const HttpCall& call) {
  if (!jobs_) {
    return error_reply(
        {404, "not_found", call.path + " needs somewhere to keep files and batches: start inferd with --data-dir DIR"},
        ErrorShape::openai);
  }
  const auto content_type = call.headers.find("content-type");
  auto answer = jobs_->handle(
      {call.method, call.path, call.query, content_type == call.headers.end() ? "" : content_type->second, call.body});
  if (!answer) {
    const batch_jobs::JobsError& error = answer.error();
    return error_for(call.path,
                     {error.status, error.status == 404 ? "not_found" : "validation", error.message, error.param});
  }
  auto& reply = *answer;
  return {reply.status, std::move(reply.body), std::move(reply.content_type), {}};
}

HttpReply HttpApi::health(const HttpCall&) const {
  if (state_.draining) return error_reply({503, "unhealthy", "draining"}, ErrorShape::tei);
  return json_reply({{"status", "ok"}});
}

HttpReply HttpApi::ready(const HttpCall&) const {
  if (state_.draining || !state_.ready) return error_reply({503, "unhealthy", "not ready"}, ErrorShape::tei);
  return json_reply({{"status", "ready"}, {"models", service_.pool().loaded()}});
}

HttpReply HttpApi::metrics(const HttpCall&) const {
  publish_generation_gauges(service_.pool(), metrics_);
  if (info_.pjrt) publish_pjrt_counters(*info_.pjrt, metrics_);
  return {200, registry_.render(), "text/plain; version=0.0.4; charset=utf-8", {}};
}

HttpReply HttpApi::task_of_model(const json& body, const HttpCall& call, const CallContext& context) {
  if (is_similarity_body(body)) return similarity_tei(body, call, context);
  const auto model = body.contains("model") && body["model"].is_string()
                         ? std::optional(body["model"].get<std::string>())
                         : std::nullopt;
  switch (task_of_root(*service_.pool().catalog(), model, body.contains("query") && body.contains("texts"))) {
    case Task::embed:
      return embed_tei(body, call, context);
    case Task::rerank:
      return rerank_tei(body, call, context);
    case Task::predict:
    case Task::generate:  // task_of_root never answers it: POST / does not generate
      break;
  }
  return predict_tei(body, call, context);
}

HttpReply HttpApi::embed_tei(const json& body, const HttpCall&, const CallContext& context) {
  return respond(
      info_.backend, ErrorShape::tei, tei_embed_request(body, info_.auto_truncate),
      [&](const EmbedRequest& request) { return service_.embed(request, context); },
      [](const EmbedRequest&, const EmbedResult& result) { return json_reply(rows_json(result.embeddings)); });
}

HttpReply HttpApi::embed_openai(const json& body, const HttpCall&, const CallContext& context) {
  CallContext openai = context;
  openai.max_inputs = openai_max_inputs;
  return respond(
      info_.backend, ErrorShape::openai, openai_embed_request(body, info_.auto_truncate),
      [&](const OpenAiEmbedRequest& request) { return service_.embed(request.embed, openai); },
      [](const OpenAiEmbedRequest& request, const EmbedResult& result) {
        json data = json::array();
        for (size_t i = 0; i < result.embeddings.size(); ++i) {
          auto row = result.embeddings.row(i);
          // Little-endian float32 bytes (every host inferd runs on is little-endian), as OpenAI's SDKs decode them.
          json embedding =
              request.base64
                  ? json(tpustack::base64_encode({reinterpret_cast<const char*>(row.data()), row.size_bytes()}))
                  : json(std::vector<float>(row.begin(), row.end()));
          data.push_back({{"object", "embedding"}, {"embedding", std::move(embedding)}, {"index", i}});
        }
        const size_t tokens = result.timing.tokens;
        return json_reply({{"object", "list"},
                           {"data", std::move(data)},
                           {"model", result.model},
                           {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
      });
}

HttpReply HttpApi::embed_termite(const json& body, const HttpCall& call, const CallContext& context) {
  const auto accept = call.headers.find("accept");
  const bool as_json = accept != call.headers.end() && accept->second.find("application/json") != std::string::npos;
  return respond(
      info_.backend, ErrorShape::termite, termite_embed_request(body),
      [&](const EmbedRequest& request) { return service_.embed(request, context); },
      [as_json](const EmbedRequest&, const EmbedResult& result) {
        if (as_json) return json_reply({{"model", result.model}, {"embeddings", rows_json(result.embeddings)}});
        // Termite's binary form: little-endian uint64 count, uint64 dimensions, then count × dimensions float32.
        const uint64_t header[2] = {result.embeddings.size(), result.embeddings.width};
        HttpReply reply{
            200, std::string(reinterpret_cast<const char*>(header), sizeof header), "application/octet-stream", {}};
        reply.body.append(reinterpret_cast<const char*>(result.embeddings.values.data()),
                          result.embeddings.values.size() * sizeof(float));
        return reply;
      });
}

HttpReply HttpApi::rerank_tei(const json& body, const HttpCall&, const CallContext& context) {
  return respond(
      info_.backend, ErrorShape::tei, tei_rerank_request(body, info_.auto_truncate),
      [&](const TeiRerankRequest& request) { return service_.rerank(request.rerank, context); },
      [](const TeiRerankRequest& request, const RerankResult& result) {
        json ranked = json::array();
        for (size_t i : best_first(result.scores)) {
          json entry = {{"index", i}, {"score", result.scores[i]}};
          if (request.return_text) entry["text"] = request.rerank.texts[i];
          ranked.push_back(std::move(entry));
        }
        return json_reply(ranked);
      });
}

HttpReply HttpApi::rerank_termite(const json& body, const HttpCall&, const CallContext& context) {
  return respond(
      info_.backend, ErrorShape::termite, termite_rerank_request(body),
      [&](const RerankRequest& request) { return service_.rerank(request, context); },
      [](const RerankRequest&, const RerankResult& result) {
        return json_reply({{"model", result.model}, {"scores", result.scores}});
      });
}

HttpReply HttpApi::predict_tei(const json& body, const HttpCall&, const CallContext& context) {
  return respond(
      info_.backend, ErrorShape::tei, tei_predict_request(body, info_.auto_truncate),
      [&](const TeiPredictRequest& request) { return service_.predict(request.predict, context); },
      [](const TeiPredictRequest& request, const PredictResult& result) {
        json all = json::array();
        for (const std::vector<Prediction>& scored : result.predictions) {
          json list = json::array();
          for (const Prediction& p : scored) list.push_back({{"score", p.score}, {"label", p.label}});
          all.push_back(std::move(list));
        }
        return json_reply(request.batch ? all : all.at(0));
      });
}

HttpReply HttpApi::similarity_tei(const json& body, const HttpCall&, const CallContext& context) {
  return respond(
      info_.backend, ErrorShape::tei, tei_similarity_request(body, info_.auto_truncate),
      [&](const EmbedRequest& request) { return service_.embed(request, context); },
      [](const EmbedRequest&, const EmbedResult& result) {
        return json_reply(similarities_to_first(result.embeddings));
      });
}

HttpReply HttpApi::completions_openai(const json& body, const HttpCall& call, const CallContext& context) {
  return generate(body, call, context, GenerationApi::completions, false);
}

HttpReply HttpApi::chat_openai(const json& body, const HttpCall& call, const CallContext& context) {
  return generate(body, call, context, GenerationApi::chat, false);
}

HttpReply HttpApi::generate_tgi(const json& body, const HttpCall& call, const CallContext& context) {
  return generate(body, call, context, GenerationApi::tgi, false);
}

HttpReply HttpApi::generate_stream_tgi(const json& body, const HttpCall& call, const CallContext& context) {
  return generate(body, call, context, GenerationApi::tgi, true);
}

HttpReply HttpApi::generate(const json& body, const HttpCall& call, const CallContext& context, GenerationApi api,
                            bool stream_route) {
  const ErrorShape shape = api == GenerationApi::tgi ? ErrorShape::tei : ErrorShape::openai;
  auto request = generation_request(body, call.body, api, stream_route);
  if (!request) return error_reply(request.error(), shape);
  auto started = start_generation(service_, *request);
  if (!started) return error_reply(started.error(), shape);
  if (!request->stream) {
    const auto present = [&] { return !(call.client_gone && call.client_gone()) && Clock::now() < context.deadline; };
    std::optional<HttpReply> reply;
    started->follow(present, [&](const generation::GenerationUpdate& update, size_t) {
      if (update.error) {
        reply = error_reply({500, "backend", update.error->message}, shape);
      } else if (update.last()) {
        reply = HttpReply{200, generation_answer(*request, started->outcome).dump(), "application/json", {}};
      }
      return present();
    });
    if (reply) return std::move(*reply);
    return error_reply({504, "timeout", "the request's deadline passed before its generation finished"}, shape);
  }
  HttpReply reply{200, "", "text/event-stream", {{"Cache-Control", "no-cache"}}};
  // The answer runs after this route returns: it holds the model and counts as in flight until it ends.
  auto generation = std::make_shared<StartedGeneration>(std::move(*started));
  auto in_flight = std::make_shared<InFlight>(state_);
  reply.stream = [generation, in_flight, request = std::move(*request)](const auto& write) {
    bool first = true;
    // An empty write finds a client that hung up while nothing was produced.
    generation->follow([&] { return write(""); },
                       [&](const generation::GenerationUpdate& update, size_t added) {
                         if (update.error) return write(generation_stream_error(request, update.error->message));
                         if (!write(generation_event(request, generation->outcome, update, added, first))) return false;
                         first = false;
                         return !update.last() || write(generation_stream_end(request, generation->outcome));
                       });
  };
  return reply;
}

HttpReply HttpApi::tokenize(const HttpCall& call) {
  HttpReply reply;
  auto body = parse_body(call.body, service_.limits());
  const json* doc = value_or_reply(body, ErrorShape::tei, reply);
  if (!doc) return reply;
  auto inputs = string_list(*doc, "inputs");
  const auto* texts = value_or_reply(inputs, ErrorShape::tei, reply);
  if (!texts) return reply;
  OptionReader options(*doc);
  TokenizeRequest request{options.text("model"), *texts, options.boolean("add_special_tokens", true)};
  if (options.error()) return error_reply(*options.error(), ErrorShape::tei);
  auto answer = service_.tokenize(request);
  const TokenizeResult* result = value_or_reply(answer, ErrorShape::tei, reply);
  if (!result) return reply;
  // TEI's SimpleTokens, their fields in TEI's order.
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::vector<SimpleToken>& tokens : result->tokens) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const SimpleToken& token : tokens) {
      const auto offset = [&](size_t at) {
        return token.special ? nlohmann::ordered_json() : nlohmann::ordered_json(at);
      };
      list.push_back({{"id", token.id},
                      {"text", token.text},
                      {"special", token.special},
                      {"start", offset(token.start)},
                      {"stop", offset(token.stop)}});
    }
    all.push_back(std::move(list));
  }
  return {200, all.dump(), "application/json", {}};
}

HttpReply HttpApi::info(const HttpCall&) const {
  const auto snapshot = service_.pool().catalog();
  const ModelCatalog& catalog = *snapshot;
  json models = json::array();
  size_t max_input_length = 0;
  for (const auto& [name, entry] : catalog) {
    json model = {{"id", served_name(catalog, name)},
                  {"type", entry.card.generator ? "generator"
                           : entry.reranker     ? "reranker"
                                                : "embedding"},
                  {"model_type", model_type(entry)},
                  {"max_input_length", entry.card.max_input_length},
                  {"digest", entry.digest}};
    if (!entry.refusal.empty()) model["refused"] = entry.refusal;
    if (auto resident = service_.pool().resident(name)) {
      model["variant"] = engine::precision_name(resident->precision());
      model["kernel"] = resident->kernel();
    }
    models.push_back(std::move(model));
    if (max_input_length == 0 || (entry.card.max_input_length && entry.card.max_input_length < max_input_length)) {
      max_input_length = entry.card.max_input_length;
    }
  }
  // TEI's Info (every field its OpenAPI marks required) describes the primary model; `models` lists them all.
  const std::string& primary = primary_model(catalog);
  json worker = {{"id", info_.worker.worker_id}, {"workers", info_.worker.workers}, {"role", info_.worker.role}};
  if (const slice::SliceWorkers* slice = service_.slice()) {
    json workers = json::array();
    const auto now = slice::Clock::now();
    const auto statuses = slice->workers();
    for (size_t i = 0; i < statuses.size(); ++i) {
      const slice::WorkerStatus& w = statuses[i];
      json entry = {{"id", i}, {"address", w.address}, {"self", w.self}, {"state", w.state()}, {"batches", w.units}};
      if (!w.serving) {
        entry["last_error"] = w.last_error;
        entry["next_retry_in_ms"] = w.retry_in_ms(now);
      }
      workers.push_back(std::move(entry));
    }
    worker["slice"] = std::move(workers);
  }
  json reply = {
      {"model_id", served_name(catalog, primary)},
      {"model_sha", catalog.at(primary).digest},
      {"model_dtype", tei_model_dtype(service_.pool(), primary, info_.variant)},
      {"model_type", model_type(catalog.at(primary))},
      {"served_model_name", served_name(catalog, primary)},
      {"max_concurrent_requests", info_.max_concurrent_requests},
      {"max_input_length", std::min(max_input_length, info_.limits.max_batch_tokens)},
      {"max_batch_tokens", info_.limits.max_batch_tokens},
      {"max_batch_requests", info_.limits.max_batch_requests},
      {"max_client_batch_size", info_.max_client_batch_size},
      {"auto_truncate", info_.auto_truncate},
      {"tokenization_workers", info_.tokenization_workers},
      {"version", info_.version},
      {"sha", nullptr},
      {"docker_label", nullptr},
      {"models", std::move(models)},
      {"loaded", service_.pool().loaded()},
      {"backend", info_.backend},
      {"variant", info_.variant},
      {"accelerator_type", info_.accelerator_type},
      {"worker", std::move(worker)},
      {"max_queue", info_.max_queue},
      {"max_queue_tokens", info_.max_queue_tokens},
  };
  if (info_.pjrt) reply["pjrt"] = pjrt_info(*info_.pjrt);
  return json_reply(reply);
}

HttpReply HttpApi::models_openai(const HttpCall&) const {
  json data = json::array();
  const auto catalog = service_.pool().catalog();
  for (const auto& [name, entry] : *catalog) data.push_back(openai_model(served_name(*catalog, name)));
  return json_reply({{"object", "list"}, {"data", std::move(data)}});
}

HttpReply HttpApi::model_openai(const HttpCall& call) const {
  // OpenAI's SDKs send "owner/name" as "owner%2Fname".
  const std::string id = percent_decoded(std::string_view(call.path).substr(std::string_view(models_prefix).size()));
  const auto snapshot = service_.pool().catalog();
  const ModelCatalog& catalog = *snapshot;
  const auto* found = find_model(catalog, id);
  if (!found) {
    return error_reply({404, "not_found", "The model '" + id + "' does not exist", "model"}, ErrorShape::openai);
  }
  return json_reply(openai_model(served_name(catalog, found->first)));
}

HttpReply HttpApi::models_termite(const HttpCall&) const {
  json embedders = json::array(), rerankers = json::array();
  const auto snapshot = service_.pool().catalog();
  const ModelCatalog& catalog = *snapshot;
  for (const auto& [name, entry] : catalog) {
    if (entry.card.generator) continue;  // Termite lists embedders and rerankers only
    (entry.reranker ? rerankers : embedders).push_back(served_name(catalog, name));
  }
  return json_reply({{"embedders", std::move(embedders)}, {"rerankers", std::move(rerankers)}});
}

}  // namespace tpustack::inferd::server
