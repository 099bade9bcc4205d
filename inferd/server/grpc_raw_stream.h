#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/method_handler.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace tpustack::inferd::server {

// A streaming method whose messages the service parses itself. grpc++ ends a stream at a message it cannot parse as
// if the client had finished: the handler sees no error and the call ends OK with the rest unanswered. Reading bytes
// lets the service answer INVALID_ARGUMENT instead. (Unary calls get theirs from MalformedMessageInterceptor.)
using RawStream = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;

// The handler to give grpc::Service::MarkMethodStreamed so that `method` serves a generated streaming method
// (client or bidirectional) as a RawStream.
template <class Service>
grpc::internal::MethodHandler* raw_stream_handler(Service* service,
                                                  grpc::Status (Service::*method)(grpc::ServerContext*, RawStream*)) {
  return new grpc::internal::BidiStreamingHandler<Service, grpc::ByteBuffer, grpc::ByteBuffer>(
      [method](Service* self, grpc::ServerContext* context, RawStream* stream) {
        return (self->*method)(context, stream);
      },
      service);
}

// Reads the next message as a Request: false at the end of the stream, and `status` set when a message did not
// parse.
template <class Request>
bool read_message(RawStream* stream, Request& request, grpc::Status& status) {
  grpc::ByteBuffer buffer;
  if (!stream->Read(&buffer)) return false;
  if (grpc::SerializationTraits<Request>::Deserialize(&buffer, &request).ok()) return true;
  status = {grpc::StatusCode::INVALID_ARGUMENT, "a message of the stream is not a valid " + request.GetTypeName()};
  return false;
}

template <class Response>
bool write_message(RawStream* stream, const Response& response) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  return grpc::SerializationTraits<Response>::Serialize(response, &buffer, &own_buffer).ok() && stream->Write(buffer);
}

// Answers the stream's messages concurrently, up to `window` at once, and writes the answers in the order the
// messages came, as TEI does: a stream is how a TEI client lets the server batch its inputs. The first failure ends
// the stream with its status once the client has sent its last message; a client that waits for an answer before
// sending more is cancelled a second later instead, since a blocked read cannot be left any other way.
template <class Request, class Response, class Answer>
grpc::Status answer_each(grpc::ServerContext* context, RawStream* stream, const Answer& answer, size_t window = 32) {
  struct Answered {
    grpc::Status status;
    Response response;
  };
  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::future<Answered>> in_order;
  bool reading = true;
  grpc::Status failure;  // the first one; OK while there is none
  std::thread writer([&] {
    std::unique_lock lock(mu);
    while (true) {
      changed.wait(lock, [&] { return !in_order.empty() || !reading; });
      if (in_order.empty()) return;
      std::future<Answered> next = std::move(in_order.front());
      in_order.pop_front();
      changed.notify_all();
      lock.unlock();
      Answered answered = next.get();
      const bool written = failure.ok() && answered.status.ok() && write_message(stream, answered.response);
      lock.lock();
      if (written || !failure.ok()) continue;
      failure =
          answered.status.ok() ? grpc::Status(grpc::StatusCode::CANCELLED, "the client went away") : answered.status;
      changed.notify_all();
      if (!changed.wait_for(lock, std::chrono::seconds(1), [&] { return !reading; })) context->TryCancel();
    }
  });
  grpc::Status status;
  Request request;
  while (read_message(stream, request, status)) {
    std::unique_lock lock(mu);
    changed.wait(lock, [&] { return in_order.size() < window || !failure.ok(); });
    if (!failure.ok()) break;
    try {
      in_order.push_back(std::async(std::launch::async, [&answer, context, request = std::move(request)] {
        Answered answered;
        try {
          answered.status = answer(context, request, answered.response);
        } catch (const std::exception& e) {
          answered.status = {grpc::StatusCode::INTERNAL, e.what()};
        }
        return answered;
      }));
    } catch (const std::system_error&) {  // no thread to be had: the writer must still be joined
      status = {grpc::StatusCode::RESOURCE_EXHAUSTED, "the server cannot start another thread now; retry shortly"};
      break;
    }
    changed.notify_all();
    request = Request();
  }
  {
    std::lock_guard lock(mu);
    reading = false;
    changed.notify_all();
  }
  writer.join();
  return failure.ok() ? status : failure;
}

// The handler for a streaming method that answers each message as its unary sibling would: `answer(context,
// request, response)`.
template <class Request, class Response, class Service, class Answer>
grpc::internal::MethodHandler* each_message_handler(Service* service, Answer answer) {
  return new grpc::internal::BidiStreamingHandler<Service, grpc::ByteBuffer, grpc::ByteBuffer>(
      [answer](Service*, grpc::ServerContext* context, RawStream* stream) {
        return answer_each<Request, Response>(context, stream, answer);
      },
      service);
}

}  // namespace tpustack::inferd::server
