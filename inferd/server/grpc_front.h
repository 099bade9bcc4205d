#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/result/result.h"
#include "inferd/server/grpc_service.h"
#include "inferd/server/tei_grpc_service.h"

namespace tpustack::inferd::server {

// inferd's gRPC port: inferd.v1 and TEI's tei.v1 side by side, grpc.health.v1.Health (NOT_SERVING until told
// otherwise, so Kubernetes' gRPC probes follow readiness) and server reflection (grpcurl, Postman).
class GrpcFront {
 public:
  GrpcFront(std::string listen, InferenceService& service, const ServerInfo& info, ServingState& state);
  ~GrpcFront();

  // Binds (never with SO_REUSEPORT) and starts; answers the bound port.
  tpustack::Result<int> start();
  // Health/Check answers SERVING, for the server ("") and each of its services, while the state is ready and not
  // draining: call after changing either (from any thread; the last call sees both).
  void update_health();
  // Finishes calls in progress for up to `grace`, then cancels the rest.
  void stop(std::chrono::milliseconds grace);

 private:
  std::string listen_;
  ServingState& state_;
  GrpcService inferd_;
  TeiInfoService tei_info_;
  TeiEmbedService tei_embed_;
  TeiPredictService tei_predict_;
  TeiRerankService tei_rerank_;
  TeiTokenizeService tei_tokenize_;
  std::mutex health_mu_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tpustack::inferd::server
