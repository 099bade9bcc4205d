#include "inferd/server/grpc_front.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "inferd/server/malformed_message_interceptor.h"

namespace tpustack::inferd::server {

namespace {

// The names Health/Check knows besides "" (the whole server).
constexpr const char* health_names[] = {"inferd.v1.Inferd", "tei.v1.Info",   "tei.v1.Embed",
                                        "tei.v1.Predict",   "tei.v1.Rerank", "tei.v1.Tokenize"};

}  // namespace

GrpcFront::GrpcFront(std::string listen, InferenceService& service, const ServerInfo& info, ServingState& state)
    : listen_(std::move(listen)),
      state_(state),
      inferd_(service, info, state),
      tei_info_({service, info, state}),
      tei_embed_({service, info, state}),
      tei_predict_({service, info, state}),
      tei_rerank_({service, info, state}),
      tei_tokenize_({service, info, state}) {}

GrpcFront::~GrpcFront() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now());
}

tpustack::Result<int> GrpcFront::start() {
  // Both are process-wide switches that the next ServerBuilder reads.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen_, grpc::InsecureServerCredentials(), &port);
  // gRPC binds with SO_REUSEPORT by default: a second server on the port would start and take half its calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* service : std::initializer_list<grpc::Service*>{&inferd_, &tei_info_, &tei_embed_, &tei_predict_,
                                                                      &tei_rerank_, &tei_tokenize_}) {
    builder.RegisterService(service);
  }
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<MalformedMessageInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    return tpustack::Error{"cannot listen for gRPC on " + listen_ + ": the address is in use or cannot be bound"};
  }
  update_health();
  return port;
}

void GrpcFront::update_health() {
  std::lock_guard lock(health_mu_);
  grpc::HealthCheckServiceInterface* health = server_ ? server_->GetHealthCheckService() : nullptr;
  if (health == nullptr) return;
  const bool serving = state_.ready && !state_.draining;
  for (const char* name : health_names) health->SetServingStatus(name, serving);
  health->SetServingStatus(serving);
}

void GrpcFront::stop(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_.reset();
}

}  // namespace tpustack::inferd::server
