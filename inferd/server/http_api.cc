#include "inferd/server/http_api.h"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/config/duration.h"
#include "common/encoding/base64.h"
#include "inferd/server/request_body.h"

namespace inferd::server {

namespace {

using batching::Clock;
using nlohmann::json;

enum class ErrorShape { tei, openai, termite };

HttpReply error_reply(const RequestError& error, ErrorShape shape) {
  json body;
  if (shape == ErrorShape::openai) {
    body = {{"error", {{"message", error.message}, {"type", error.type}, {"code", error.status}}}};
  } else if (shape == ErrorShape::termite) {
    body = {{"error", error.message}};
  } else {
    body = {{"error", error.message}, {"error_type", error.type}};
  }
  HttpReply reply{error.status, body.dump(), "application/json", {}};
  if (error.status == 429 || error.status == 503) reply.headers.push_back({"Retry-After", "1"});
  return reply;
}

HttpReply json_reply(const json& body) { return {200, body.dump(), "application/json", {}}; }

ErrorShape shape_of(const std::string& path) {
  return path.starts_with("/v1/")    ? ErrorShape::openai
         : path.starts_with("/api/") ? ErrorShape::termite
                                     : ErrorShape::tei;
}

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

}  // namespace

const std::map<std::string, HttpApi::Read> HttpApi::reads_ = {
    {"/health", &HttpApi::health},           {"/ready", &HttpApi::ready},
    {"/metrics", &HttpApi::metrics},         {"/info", &HttpApi::info},
    {"/v1/models", &HttpApi::models_openai}, {"/api/models", &HttpApi::models_termite},
};

const std::map<std::string, HttpApi::InferenceRoute> HttpApi::inference_ = {
    {"/embed", {&HttpApi::embed_tei, "embed"}},
    {"/v1/embeddings", {&HttpApi::embed_openai, "embed"}},
    {"/api/embed", {&HttpApi::embed_termite, "embed"}},
    {"/rerank", {&HttpApi::rerank_tei, "rerank"}},
    {"/api/rerank", {&HttpApi::rerank_termite, "rerank"}},
};

std::string HttpApi::allowed_methods(const std::string& path) {
  if (reads_.contains(path)) return "GET, HEAD, OPTIONS";
  if (inference_.contains(path) || path == "/tokenize") return "POST, OPTIONS";
  if (path == "*") return "GET, HEAD, POST, OPTIONS";  // OPTIONS * asks about the server as a whole
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
  metrics_.http_requests.labels({allowed_methods(path).empty() ? "other" : path, std::to_string(status)}).inc();
  spdlog::debug("{} {} {}: {}", method, path, status, reason);
  return reply;
}

HttpReply HttpApi::route(const HttpCall& call, std::string& label) {
  const std::string allow = allowed_methods(call.path);
  if (allow.empty()) {
    return error_reply({404, "not_found", call.method + " " + call.path + " is not a route of inferd"},
                       ErrorShape::tei);
  }
  label = call.path;
  if (call.method == "OPTIONS") return {204, "", "", {{"Allow", allow}}};
  const auto read = reads_.find(call.path);
  if (read != reads_.end() && call.method == "GET") return (this->*read->second)();
  if (read != reads_.end() || call.method != "POST") {
    return error_for(call.path, {405, "validation", call.path + " answers " + allow + ", not " + call.method});
  }
  if (call.path == "/tokenize") return tokenize(call);
  const InferenceRoute& found = inference_.at(call.path);
  const ErrorShape shape = shape_of(call.path);
  if (state_.draining) return error_reply({503, "unhealthy", "the server is shutting down"}, shape);
  CallContext context{Clock::now() + default_timeout_, call.client_gone, found.method};
  if (auto header = call.headers.find("x-request-timeout"); header != call.headers.end()) {
    try {
      context.deadline = Clock::now() + tpustack::config::parse_duration(header->second);
    } catch (const std::invalid_argument& e) {
      return error_reply({400, "validation", std::string("x-request-timeout: ") + e.what()}, shape);
    }
  }
  metrics_.request_count.labels({context.method}).inc();
  HttpReply reply;
  {
    InFlight counted(state_);
    reply = (this->*found.serve)(call, context);
  }
  if (reply.status == 200) {
    metrics_.request_success.labels({context.method}).inc();
  } else {
    metrics_.request_failure.labels({std::to_string(reply.status)}).inc();
  }
  return reply;
}

HttpReply HttpApi::health() const {
  if (state_.draining) return error_reply({503, "unhealthy", "draining"}, ErrorShape::tei);
  return json_reply({{"status", "ok"}});
}

HttpReply HttpApi::ready() const {
  if (state_.draining || !state_.ready) return error_reply({503, "unhealthy", "not ready"}, ErrorShape::tei);
  return json_reply({{"status", "ready"}, {"models", service_.pool().loaded()}});
}

HttpReply HttpApi::metrics() const { return {200, registry_.render(), "text/plain; version=0.0.4; charset=utf-8", {}}; }

HttpReply HttpApi::embed_tei(const HttpCall& call, const CallContext& context) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::tei);
  const json& doc = std::get<json>(body);
  auto inputs = string_list(doc, "inputs");
  if (auto* error = std::get_if<RequestError>(&inputs)) return error_reply(*error, ErrorShape::tei);
  EmbedRequest request{optional_string(doc, "model"), std::move(std::get<std::vector<std::string>>(inputs)),
                       flag(doc, "normalize", true), flag(doc, "truncate", false)};
  auto answer = service_.embed(request, context);
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::tei);
  const auto& result = std::get<EmbedResult>(answer);
  HttpReply reply = json_reply(rows_json(result.embeddings));
  add_timing(reply, result.timing, info_.backend);
  return reply;
}

HttpReply HttpApi::embed_openai(const HttpCall& call, const CallContext& context) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::openai);
  const json& doc = std::get<json>(body);
  auto inputs = string_list(doc, "input");
  if (auto* error = std::get_if<RequestError>(&inputs)) return error_reply(*error, ErrorShape::openai);
  const std::string format = optional_string(doc, "encoding_format").value_or("float");
  if (format != "float" && format != "base64") {
    return error_reply({400, "validation", "encoding_format must be \"float\" or \"base64\""}, ErrorShape::openai);
  }
  EmbedRequest request{optional_string(doc, "model"), std::move(std::get<std::vector<std::string>>(inputs)), true,
                       true};
  auto answer = service_.embed(request, context);
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::openai);
  const auto& result = std::get<EmbedResult>(answer);
  json data = json::array();
  for (size_t i = 0; i < result.embeddings.size(); ++i) {
    auto row = result.embeddings.row(i);
    json embedding = format == "base64"
                         ? json(tpustack::base64_encode({reinterpret_cast<const char*>(row.data()), row.size_bytes()}))
                         : json(std::vector<float>(row.begin(), row.end()));
    data.push_back({{"object", "embedding"}, {"embedding", std::move(embedding)}, {"index", i}});
  }
  HttpReply reply =
      json_reply({{"object", "list"},
                  {"data", std::move(data)},
                  {"model", result.model},
                  {"usage", {{"prompt_tokens", result.timing.tokens}, {"total_tokens", result.timing.tokens}}}});
  add_timing(reply, result.timing, info_.backend);
  return reply;
}

HttpReply HttpApi::embed_termite(const HttpCall& call, const CallContext& context) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::termite);
  const json& doc = std::get<json>(body);
  auto inputs = string_list(doc, "input");
  if (auto* error = std::get_if<RequestError>(&inputs)) return error_reply(*error, ErrorShape::termite);
  EmbedRequest request{optional_string(doc, "model"), std::move(std::get<std::vector<std::string>>(inputs)), true,
                       flag(doc, "truncate", true)};
  auto answer = service_.embed(request, context);
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::termite);
  const auto& result = std::get<EmbedResult>(answer);
  HttpReply reply;
  auto accept = call.headers.find("accept");
  if (accept != call.headers.end() && accept->second.find("application/json") != std::string::npos) {
    reply = json_reply({{"model", result.model}, {"embeddings", rows_json(result.embeddings)}});
  } else {
    // Termite's binary form: little-endian uint64 count, uint64 dimensions, then count × dimensions float32.
    const uint64_t header[2] = {result.embeddings.size(), result.embeddings.width};
    reply.content_type = "application/octet-stream";
    reply.body.assign(reinterpret_cast<const char*>(header), sizeof header);
    reply.body.append(reinterpret_cast<const char*>(result.embeddings.values.data()),
                      result.embeddings.values.size() * sizeof(float));
  }
  add_timing(reply, result.timing, info_.backend);
  return reply;
}

HttpReply HttpApi::rerank_tei(const HttpCall& call, const CallContext& context) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::tei);
  const json& doc = std::get<json>(body);
  auto query = optional_string(doc, "query");
  auto texts = string_list(doc, "texts");
  if (auto* error = std::get_if<RequestError>(&texts)) return error_reply(*error, ErrorShape::tei);
  if (!query) return error_reply({400, "validation", "\"query\" must be a string"}, ErrorShape::tei);
  RerankRequest request{optional_string(doc, "model"), *query, std::move(std::get<std::vector<std::string>>(texts)),
                        flag(doc, "truncate", false), flag(doc, "raw_scores", false)};
  auto answer = service_.rerank(request, context);
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::tei);
  const auto& result = std::get<RerankResult>(answer);
  const bool return_text = flag(doc, "return_text", false);
  json ranked = json::array();
  for (size_t i : best_first(result.scores)) {
    json entry = {{"index", i}, {"score", result.scores[i]}};
    if (return_text) entry["text"] = request.texts[i];
    ranked.push_back(std::move(entry));
  }
  HttpReply reply = json_reply(ranked);
  add_timing(reply, result.timing, info_.backend);
  return reply;
}

HttpReply HttpApi::rerank_termite(const HttpCall& call, const CallContext& context) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::termite);
  const json& doc = std::get<json>(body);
  auto query = optional_string(doc, "query");
  auto prompts = string_list(doc, "prompts");
  if (auto* error = std::get_if<RequestError>(&prompts)) return error_reply(*error, ErrorShape::termite);
  if (!query) return error_reply({400, "validation", "\"query\" must be a string"}, ErrorShape::termite);
  RerankRequest request{optional_string(doc, "model"), *query, std::move(std::get<std::vector<std::string>>(prompts)),
                        true, false};
  auto answer = service_.rerank(request, context);
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::termite);
  const auto& result = std::get<RerankResult>(answer);
  HttpReply reply = json_reply({{"model", result.model}, {"scores", result.scores}});
  add_timing(reply, result.timing, info_.backend);
  return reply;
}

HttpReply HttpApi::tokenize(const HttpCall& call) {
  auto body = parse_body(call.body, service_.limits());
  if (auto* error = std::get_if<RequestError>(&body)) return error_reply(*error, ErrorShape::tei);
  const json& doc = std::get<json>(body);
  auto inputs = string_list(doc, "inputs");
  if (auto* error = std::get_if<RequestError>(&inputs)) return error_reply(*error, ErrorShape::tei);
  auto answer = service_.tokenize({optional_string(doc, "model"), std::move(std::get<std::vector<std::string>>(inputs)),
                                   flag(doc, "add_special_tokens", true)});
  if (auto* error = std::get_if<RequestError>(&answer)) return error_reply(*error, ErrorShape::tei);
  const auto& result = std::get<TokenizeResult>(answer);
  // TEI's SimpleTokens, their fields in TEI's order.
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::vector<SimpleToken>& tokens : result.tokens) {
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

HttpReply HttpApi::info() const {
  const auto& catalog = service_.pool().catalog();
  json models = json::array();
  for (const auto& [name, entry] : catalog) {
    json model = {{"id", name}, {"type", entry.reranker ? "reranker" : "embedding"}};
    if (auto resident = service_.pool().resident(name)) {
      model["variant"] = engine::precision_name(resident->model().precision());
      model["kernel"] = resident->model().kernel();
    }
    models.push_back(std::move(model));
  }
  return json_reply({
      {"model_id", catalog.size() == 1 ? catalog.begin()->first : ""},
      {"models", std::move(models)},
      {"loaded", service_.pool().loaded()},
      {"version", info_.version},
      {"backend", info_.backend},
      {"variant", info_.variant},
      {"accelerator_type", info_.accelerator_type},
      {"worker", {{"id", info_.worker.worker_id}, {"workers", info_.worker.workers}, {"role", info_.worker.role}}},
      {"max_batch_tokens", info_.limits.max_batch_tokens},
      {"max_batch_requests", info_.limits.max_batch_requests},
      {"max_client_batch_size", info_.max_client_batch_size},
      {"max_queue", info_.max_queue},
  });
}

HttpReply HttpApi::models_openai() const {
  json data = json::array();
  for (const auto& [name, entry] : service_.pool().catalog()) {
    data.push_back({{"id", name}, {"object", "model"}, {"owned_by", "inferd"}});
  }
  return json_reply({{"object", "list"}, {"data", std::move(data)}});
}

HttpReply HttpApi::models_termite() const {
  json embedders = json::array(), rerankers = json::array();
  for (const auto& [name, entry] : service_.pool().catalog()) (entry.reranker ? rerankers : embedders).push_back(name);
  return json_reply({{"embedders", std::move(embedders)}, {"rerankers", std::move(rerankers)}});
}

}  // namespace inferd::server
