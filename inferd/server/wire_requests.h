#pragma once

#include <variant>

#include <nlohmann/json.hpp>

#include "inferd/server/inference_service.h"
#include "inferd/server/request_error.h"

// The request bodies of TEI's and OpenAI's routes as the service's requests (TEI keeps its wire types in one file,
// router/src/http/types.rs; so does inferd). `auto_truncate` is --auto-truncate: what `truncate` is when the body
// does not say. A field of the wrong type is refused with 422.
namespace tpustack::inferd::server {

Result<EmbedRequest, RequestError> tei_embed_request(const nlohmann::json& body, bool auto_truncate);

struct OpenAiEmbedRequest {
  EmbedRequest embed;
  bool base64 = false;  // encoding_format "base64": little-endian float32 bytes, base64-encoded
};
Result<OpenAiEmbedRequest, RequestError> openai_embed_request(const nlohmann::json& body, bool auto_truncate);

struct TeiRerankRequest {
  RerankRequest rerank;
  bool return_text = false;
};
Result<TeiRerankRequest, RequestError> tei_rerank_request(const nlohmann::json& body, bool auto_truncate);

struct TeiPredictRequest {
  PredictRequest predict;
  bool batch = false;  // a list of sequences was sent: the answer is a list per sequence
};
Result<TeiPredictRequest, RequestError> tei_predict_request(const nlohmann::json& body, bool auto_truncate);

// {"inputs": {"source_sentence": ..., "sentences": [...]}}: the source sentence is the first input, the sentences
// follow; the answer is the cosine of each with the source.
Result<EmbedRequest, RequestError> tei_similarity_request(const nlohmann::json& body, bool auto_truncate);
bool is_similarity_body(const nlohmann::json& body);

// Termite's /api/embed ({input, model?, truncate = true}) and /api/rerank ({query, prompts, model?}).
Result<EmbedRequest, RequestError> termite_embed_request(const nlohmann::json& body);
Result<RerankRequest, RequestError> termite_rerank_request(const nlohmann::json& body);

}  // namespace tpustack::inferd::server
