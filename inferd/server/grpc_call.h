#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>

#include "inferd/server/inference_service.h"

namespace tpustack::inferd::server {

// What inferd's two gRPC APIs (inferd.v1 and TEI's tei.v1) share around a call to the InferenceService.

// Errors map to gRPC codes: a full queue is RESOURCE_EXHAUSTED, a passed deadline DEADLINE_EXCEEDED, an unknown model
// NOT_FOUND, bad input INVALID_ARGUMENT.
grpc::StatusCode grpc_code(int http_status);
grpc::Status status_of(const RequestError& error);

// The client's gRPC deadline on our steady clock (30 s when it set none), and whether it hung up.
CallContext call_context(grpc::ServerContext* context, const char* method);

// What a call started during the shutdown drain gets.
grpc::Status draining_status();

inline uint64_t nanoseconds(batching::Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// inferd.v1.Metadata and tei.v1.Metadata have the same fields.
template <class Metadata>
void fill_metadata(const Timing& t, Metadata* metadata) {
  metadata->set_compute_chars(static_cast<uint32_t>(t.characters));
  metadata->set_compute_tokens(static_cast<uint32_t>(t.tokens));
  metadata->set_total_time_ns(nanoseconds(t.total));
  metadata->set_tokenization_time_ns(nanoseconds(t.tokenization));
  metadata->set_queue_time_ns(nanoseconds(t.queue));
  metadata->set_inference_time_ns(nanoseconds(t.inference));
}

// inferd.v1.SimpleToken and tei.v1.SimpleToken too (the id is int32 in one, uint32 in the other).
template <class Message>
void fill_simple_token(const SimpleToken& token, Message* simple) {
  simple->set_id(static_cast<decltype(simple->id())>(token.id));
  simple->set_text(token.text);
  simple->set_special(token.special);
  if (!token.special) {
    simple->set_start(static_cast<uint32_t>(token.start));
    simple->set_stop(static_cast<uint32_t>(token.stop));
  }
}

}  // namespace tpustack::inferd::server
