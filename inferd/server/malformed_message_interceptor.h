#pragma once

#include <grpcpp/support/server_interceptor.h>

namespace tpustack::inferd::server {

// grpc++ answers a unary call whose request bytes do not parse with INTERNAL and an empty message, before any
// handler runs. This interceptor notices the failed parse and answers INVALID_ARGUMENT, naming the method, instead.
// Streams parse their own messages (grpc_raw_stream.h).
class MalformedMessageInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace tpustack::inferd::server
