#include "extender/admission/webhook_listener.h"

#include <spdlog/spdlog.h>

#include "extender/admission/admission_review.h"

namespace tpustack::admission {

namespace {

http::Response text_reply(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.body = std::move(body) + "\n";
  return response;
}

http::HttpServerOptions server_options(const WebhookListenerOptions& options, const http::TlsCertificate& certificate) {
  http::HttpServerOptions server;
  server.listen = options.listen;
  server.what = "admission webhook";
  server.tls_certificate = certificate;
  // A pod with its managedFields is a few KB; kube-apiserver sends at most 3 MiB objects.
  server.max_body_bytes = 4 << 20;
  // kube-apiserver waits at most timeoutSeconds (5 s here) for an answer.
  server.request_timeout = std::chrono::seconds(10);
  server.inline_route = [](const http::Request& request) {
    return request.method == "GET" && request.path == "/healthz";
  };
  return server;
}

// "name", or "generateName*" before the API server gives it one; for the log only.
std::string pod_name(const nlohmann::json& pod) {
  auto field = [&](const char* key) {
    const auto pointer = nlohmann::json::json_pointer("/metadata") / key;
    return pod.contains(pointer) && pod.at(pointer).is_string() ? pod.at(pointer).get<std::string>() : "";
  };
  auto name = field("name");
  return name.empty() ? field("generateName") + "*" : name;
}

}  // namespace

WebhookListener::WebhookListener(WebhookListenerOptions options, const http::TlsCertificate& certificate)
    : mutation_(std::move(options.mutation)),
      server_(server_options(options, certificate), [this](const http::Request& request) { return serve(request); }) {}

http::Response WebhookListener::serve(const http::Request& request) const {
  if (request.path == "/healthz") {
    return request.method == "GET" ? text_reply(200, "ok") : text_reply(405, "GET /healthz");
  }
  if (request.path == "/mutate") return request.method == "POST" ? mutate(request) : text_reply(405, "POST /mutate");
  return text_reply(404, "no such path: " + request.path + " (the webhook serves POST /mutate)");
}

http::Response WebhookListener::mutate(const http::Request& request) const {
  auto read = read_admission_review(request.body);
  if (!read) {
    spdlog::warn("admission webhook: refused a request: {}", read.error().message);
    return text_reply(400, read.error().message);
  }
  const AdmissionRequest& review = *read;
  PodMutation mutation;
  if (review.creates_pod()) {
    try {
      mutation = mutate_pod(review.object, review.ns, mutation_);
    } catch (const std::exception& e) {
      spdlog::warn("admission webhook: pod {}/{} admitted unchanged: {}", review.ns, pod_name(review.object), e.what());
      mutation = {};
    }
  }
  if (!mutation.added.empty()) {
    std::string added;
    for (const auto& what : mutation.added) added += (added.empty() ? "" : ", ") + what;
    spdlog::info("admission webhook: pod {}/{}: added {}", review.ns, pod_name(review.object), added);
  }
  http::Response response;
  response.content_type = "application/json";
  response.body = admission_review_response(review, mutation.patch);
  return response;
}

}  // namespace tpustack::admission
