#include "inferd/server/malformed_message_interceptor.h"

#include <string>

namespace tpustack::inferd::server {

namespace {

using grpc::experimental::InterceptionHookPoints;

class MalformedMessageInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit MalformedMessageInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // A unary call receives exactly one message; none after the receive means it did not parse.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      malformed_ = true;
    }
    if (malformed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(
          {grpc::StatusCode::INVALID_ARGUMENT, "the request is not a valid message for " + method_});
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  bool malformed_ = false;
};

}  // namespace

grpc::experimental::Interceptor* MalformedMessageInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // A stream's end also receives no message: only calls with one request message can be told apart.
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
  return new MalformedMessageInterceptor(info->method());
}

}  // namespace tpustack::inferd::server
