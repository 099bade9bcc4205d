#pragma once

#include "inferd/server/grpc_raw_stream.h"
#include "inferd/server/inference_service.h"
#include "inferd/server/server_info.h"
#include "inferd/server/serving_state.h"
#include "proto/tei/v1/tei.grpc.pb.h"

namespace tpustack::inferd::server {

// TEI's gRPC API (tei.v1: Info, Embed, Predict, Rerank, Tokenize) over the same InferenceService as inferd.v1 and HTTP,
// so TEI's clients work unchanged. TEI serves one model and its messages name none: a call uses the model named in its
// `model` metadata, else the one model that can serve it (model_routing.h). Stream messages are answered
// concurrently and in order (grpc_raw_stream.h).
struct TeiServing {
  InferenceService& service;
  const ServerInfo& info;
  ServingState& state;
};

class TeiInfoService final : public tei::v1::Info::Service {
 public:
  explicit TeiInfoService(TeiServing serving) : serving_(serving) {}
  grpc::Status Info(grpc::ServerContext* context, const tei::v1::InfoRequest* request,
                    tei::v1::InfoResponse* response) override;

 private:
  TeiServing serving_;
};

class TeiEmbedService final : public tei::v1::Embed::Service {
 public:
  explicit TeiEmbedService(TeiServing serving);
  grpc::Status Embed(grpc::ServerContext* context, const tei::v1::EmbedRequest* request,
                     tei::v1::EmbedResponse* response) override;
  grpc::Status EmbedSparse(grpc::ServerContext* context, const tei::v1::EmbedSparseRequest* request,
                           tei::v1::EmbedSparseResponse* response) override;
  grpc::Status EmbedSparseStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<tei::v1::EmbedSparseResponse, tei::v1::EmbedSparseRequest>* stream) override;
  grpc::Status EmbedAll(grpc::ServerContext* context, const tei::v1::EmbedAllRequest* request,
                        tei::v1::EmbedAllResponse* response) override;
  grpc::Status EmbedAllStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<tei::v1::EmbedAllResponse, tei::v1::EmbedAllRequest>* stream) override;

 private:
  TeiServing serving_;
};

class TeiRerankService final : public tei::v1::Rerank::Service {
 public:
  explicit TeiRerankService(TeiServing serving);
  grpc::Status Rerank(grpc::ServerContext* context, const tei::v1::RerankRequest* request,
                      tei::v1::RerankResponse* response) override;

 private:
  // TEI's RerankStream: one (query, text) pair a message, one ranking of them all at the end.
  grpc::Status rerank_stream(grpc::ServerContext* context, RawStream* stream);
  TeiServing serving_;
};

class TeiPredictService final : public tei::v1::Predict::Service {
 public:
  explicit TeiPredictService(TeiServing serving);
  grpc::Status Predict(grpc::ServerContext* context, const tei::v1::PredictRequest* request,
                       tei::v1::PredictResponse* response) override;
  grpc::Status PredictPair(grpc::ServerContext* context, const tei::v1::PredictPairRequest* request,
                           tei::v1::PredictResponse* response) override;

 private:
  TeiServing serving_;
};

class TeiTokenizeService final : public tei::v1::Tokenize::Service {
 public:
  explicit TeiTokenizeService(TeiServing serving);
  grpc::Status Tokenize(grpc::ServerContext* context, const tei::v1::EncodeRequest* request,
                        tei::v1::EncodeResponse* response) override;
  grpc::Status Decode(grpc::ServerContext* context, const tei::v1::DecodeRequest* request,
                      tei::v1::DecodeResponse* response) override;

 private:
  TeiServing serving_;
};

}  // namespace tpustack::inferd::server
