#pragma once

#include "inferd/server/grpc_call.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/server_info.h"
#include "inferd/server/serving_state.h"
#include "proto/inferd/v1/inferd.grpc.pb.h"

namespace tpustack::inferd::server {

// inferd.v1.Inferd over the same InferenceService as HTTP; errors map to gRPC codes as grpc_code says.
class GrpcService final : public ::inferd::v1::Inferd::Service {
 public:
  GrpcService(InferenceService& service, const ServerInfo& info, ServingState& state)
      : service_(service), info_(info), state_(state) {}

  grpc::Status Embed(grpc::ServerContext* context, const ::inferd::v1::EmbedRequest* request,
                     ::inferd::v1::EmbedResponse* response) override;
  grpc::Status Rerank(grpc::ServerContext* context, const ::inferd::v1::RerankRequest* request,
                      ::inferd::v1::RerankResponse* response) override;
  grpc::Status Tokenize(grpc::ServerContext* context, const ::inferd::v1::TokenizeRequest* request,
                        ::inferd::v1::TokenizeResponse* response) override;
  grpc::Status Info(grpc::ServerContext* context, const ::inferd::v1::InfoRequest* request,
                    ::inferd::v1::InfoResponse* response) override;
  grpc::Status Health(grpc::ServerContext* context, const ::inferd::v1::HealthRequest* request,
                      ::inferd::v1::HealthResponse* response) override;
  grpc::Status Generate(grpc::ServerContext* context, const ::inferd::v1::GenerateRequest* request,
                        grpc::ServerWriter<::inferd::v1::GenerateResponse>* writer) override;

 private:
  InferenceService& service_;
  const ServerInfo& info_;
  ServingState& state_;
};

}  // namespace tpustack::inferd::server
