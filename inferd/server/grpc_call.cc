#include "inferd/server/grpc_call.h"

namespace tpustack::inferd::server {

namespace {

using batching::Clock;

constexpr auto default_timeout = std::chrono::seconds(30);

}  // namespace

grpc::StatusCode grpc_code(int http_status) {
  switch (http_status) {
    case 400:
    case 413:
    case 422:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case 404:
      return grpc::StatusCode::NOT_FOUND;
    case 429:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case 499:
      return grpc::StatusCode::CANCELLED;
    case 503:
      return grpc::StatusCode::UNAVAILABLE;
    case 504:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

grpc::Status status_of(const RequestError& error) { return {grpc_code(error.status), error.message}; }

CallContext call_context(grpc::ServerContext* context, const char* method) {
  const auto left = context->deadline() - std::chrono::system_clock::now();
  const auto budget = left > std::chrono::hours(24 * 365) ? Clock::duration(default_timeout)
                                                          : std::chrono::duration_cast<Clock::duration>(left);
  return {Clock::now() + budget, [context] { return context->IsCancelled(); }, method};
}

grpc::Status draining_status() { return {grpc::StatusCode::UNAVAILABLE, "the server is shutting down"}; }

}  // namespace tpustack::inferd::server
