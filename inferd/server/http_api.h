#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics/metrics_registry.h"
#include "inferd/batch_jobs/jobs_api.h"
#include "inferd/server/generation_wire.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/server_info.h"
#include "inferd/server/serving_state.h"

namespace tpustack::inferd::server {

struct HttpCall {
  std::string method;  // "GET", "POST"
  std::string path;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::function<bool()> client_gone;           // may be empty: then only the deadline ends a wait
  std::string query;                           // the target after '?', "" when none
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is produced after the headers went out (server-sent events) instead of `body`: the producer
  // writes each piece as it has it, and stops when a write answers false (the client has gone).
  std::function<void(const std::function<bool(std::string_view)>& write)> stream = nullptr;
};

// Every HTTP route, as plain calls to replies: TEI (POST / for the model's task, /embed, /rerank, /predict,
// /similarity, /tokenize, /info, /health, /metrics), TGI (/generate, /generate_stream), OpenAI (/v1/embeddings,
// /v1/completions, /v1/chat/completions, /v1/models, /v1/models/{id}; /v1/files and /v1/batches through
// batch_jobs::JobsApi), Termite (/api/embed, /api/rerank, /api/models) and /ready. OPTIONS
// is answered with the route's methods (`Allow`), another method with 405; a HEAD request arrives as GET.
class HttpApi {
 public:
  HttpApi(InferenceService& service, const ServerInfo& info, ServingState& state,
          const tpustack::metrics::MetricsRegistry& registry, ServerMetrics& metrics,
          std::chrono::nanoseconds default_timeout)
      : service_(service),
        info_(info),
        state_(state),
        registry_(registry),
        metrics_(metrics),
        default_timeout_(default_timeout) {}

  HttpReply handle(const HttpCall& call);
  // The answer to a request the HTTP server refused before it reached a route (400, 405, 413, 431, 503), in
  // the error format of the route it asked for.
  HttpReply refusal(const std::string& method, const std::string& path, int status, const std::string& reason);

  // The Files and Batch APIs (/v1/files, /v1/batches), served with --data-dir; null: they answer 404 saying so.
  void serve_jobs(batch_jobs::JobsApi* jobs) { jobs_ = jobs; }
  // A batch job's line: the inference route `path` answers `body` as it answers a client, at background priority.
  HttpReply serve_background(const std::string& path, const std::string& body);

 private:
  using Read = HttpReply (HttpApi::*)(const HttpCall&) const;
  // The body parsed as a JSON object (the route answers its errors in the route's shape), the call, its context.
  using Inference = HttpReply (HttpApi::*)(const nlohmann::json&, const HttpCall&, const CallContext&);
  struct InferenceRoute {
    Inference serve;
    std::string method;  // metrics label
  };
  static const std::map<std::string, Read> reads_;
  static const std::map<std::string, InferenceRoute> inference_;
  // The methods `path` answers to (Allow's value), or "" when it is no route of inferd.
  static std::string allowed_methods(const std::string& path);
  // An error in the format of the route `path` names; a 405 carries the methods it answers (Allow).
  static HttpReply error_for(const std::string& path, const RequestError& error);

  // The route table's key for `path`: /v1/models/{id} is one route.
  static std::string route_of(const std::string& path);

  HttpReply route(const HttpCall& call, std::string& route_label);
  HttpReply task_of_model(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply embed_tei(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply embed_openai(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply embed_termite(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply rerank_tei(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply rerank_termite(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply predict_tei(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply similarity_tei(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply completions_openai(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply chat_openai(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply generate_tgi(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  HttpReply generate_stream_tgi(const nlohmann::json& body, const HttpCall& call, const CallContext& context);
  // The generation routes' one body: the request in `api`'s form, answered whole or streamed.
  HttpReply generate(const nlohmann::json& body, const HttpCall& call, const CallContext& context, GenerationApi api,
                     bool stream_route);
  HttpReply tokenize(const HttpCall& call);
  HttpReply jobs(const HttpCall& call);
  HttpReply health(const HttpCall&) const;
  HttpReply ready(const HttpCall&) const;
  HttpReply metrics(const HttpCall&) const;
  HttpReply info(const HttpCall&) const;
  HttpReply models_openai(const HttpCall&) const;
  HttpReply model_openai(const HttpCall& call) const;
  HttpReply models_termite(const HttpCall&) const;

  InferenceService& service_;
  const ServerInfo& info_;
  ServingState& state_;
  const tpustack::metrics::MetricsRegistry& registry_;
  ServerMetrics& metrics_;
  std::chrono::nanoseconds default_timeout_;
  batch_jobs::JobsApi* jobs_ = nullptr;
};

}  // namespace tpustack::inferd::server
