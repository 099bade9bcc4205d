#include "inferd/server/wire_requests.h"

#include "inferd/server/request_body.h"

namespace tpustack::inferd::server {

namespace {

using nlohmann::json;

RequestError invalid(const Error& error, const char* param) { return {422, "validation", error.message, param}; }

// TEI's options of every embedding route; the first wrong one is the reader's error.
void read_embed_options(OptionReader& options, EmbedRequest& request, bool auto_truncate) {
  request.model = options.text("model");
  request.truncate = options.boolean("truncate", auto_truncate);
  request.normalize = options.boolean("normalize", true);
  request.dimensions = options.count("dimensions");
  request.prompt_name = options.text("prompt_name");
}

// The options of the routes that score with a classifier (rerank, predict).
template <class Request>
void read_scoring_options(OptionReader& options, Request& request, bool auto_truncate) {
  request.model = options.text("model");
  request.truncate = options.boolean("truncate", auto_truncate);
  request.raw_scores = options.boolean("raw_scores", false);
}

// truncation_direction, once the other options are read without error.
std::optional<RequestError> read_direction(OptionReader& options, TruncationDirection& direction) {
  const auto text = options.text("truncation_direction");
  if (options.error()) return options.error();
  if (!text) return std::nullopt;
  auto parsed = parse_truncation_direction(*text);
  if (!parsed) return invalid(parsed.error(), "truncation_direction");
  direction = *parsed;
  return std::nullopt;
}

std::variant<EmbedRequest, RequestError> with_inputs(EmbedRequest request, const json& body, const char* field) {
  auto inputs = embedding_inputs(body, field);
  if (auto* error = std::get_if<RequestError>(&inputs)) return *error;
  auto& given = std::get<EmbeddingInputs>(inputs);
  request.inputs = std::move(given.texts);
  request.token_ids = std::move(given.token_ids);
  return request;
}

}  // namespace

std::variant<EmbedRequest, RequestError> tei_embed_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  EmbedRequest request;
  read_embed_options(options, request, auto_truncate);
  if (auto error = read_direction(options, request.truncation_direction)) return *error;
  return with_inputs(std::move(request), body, "inputs");
}

std::variant<OpenAiEmbedRequest, RequestError> openai_embed_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  OpenAiEmbedRequest request;
  request.embed.model = options.text("model");
  request.embed.dimensions = options.count("dimensions");
  request.embed.truncate = auto_truncate;
  options.text("user");  // accepted, and only checked for its type
  const std::string format = options.text("encoding_format").value_or("float");
  if (options.error()) return *options.error();
  if (format != "float" && format != "base64") {
    return RequestError{400, "validation", "\"encoding_format\" must be \"float\" or \"base64\"", "encoding_format"};
  }
  request.base64 = format == "base64";
  auto embed = with_inputs(std::move(request.embed), body, "input");
  if (auto* error = std::get_if<RequestError>(&embed)) return *error;
  request.embed = std::move(std::get<EmbedRequest>(embed));
  return request;
}

std::variant<TeiRerankRequest, RequestError> tei_rerank_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  TeiRerankRequest request;
  read_scoring_options(options, request.rerank, auto_truncate);
  request.return_text = options.boolean("return_text", false);
  const auto query = options.text("query");
  TruncationDirection ignored = TruncationDirection::right;  // pairs are cut longest first, as TEI cuts them
  if (auto error = read_direction(options, ignored)) return *error;
  if (!query) return RequestError{400, "validation", "\"query\" must be a string", "query"};
  auto texts = string_list(body, "texts");
  if (auto* error = std::get_if<RequestError>(&texts)) return *error;
  request.rerank.query = *query;
  request.rerank.texts = std::move(std::get<std::vector<std::string>>(texts));
  return request;
}

std::variant<TeiPredictRequest, RequestError> tei_predict_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  TeiPredictRequest request;
  read_scoring_options(options, request.predict, auto_truncate);
  if (auto error = read_direction(options, request.predict.truncation_direction)) return *error;
  auto inputs = predict_inputs(body, "inputs");
  if (auto* error = std::get_if<RequestError>(&inputs)) return *error;
  request.predict.sequences = std::move(std::get<PredictInputs>(inputs).sequences);
  request.batch = std::get<PredictInputs>(inputs).batch;
  return request;
}

bool is_similarity_body(const json& body) {
  return body.contains("inputs") && body["inputs"].is_object() && body["inputs"].contains("source_sentence");
}

std::variant<EmbedRequest, RequestError> tei_similarity_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  EmbedRequest request;
  read_embed_options(options, request, auto_truncate);
  if (auto error = read_direction(options, request.truncation_direction)) return *error;
  if (!is_similarity_body(body)) {
    return RequestError{422, "validation", "\"inputs\" must be {\"source_sentence\": ..., \"sentences\": [...]}",
                        "inputs"};
  }
  const json& inputs = body["inputs"];
  auto sentences = string_list(inputs, "sentences");
  if (!inputs["source_sentence"].is_string() || std::holds_alternative<RequestError>(sentences)) {
    return RequestError{422, "validation", "\"source_sentence\" must be a string and \"sentences\" strings", "inputs"};
  }
  request.inputs.push_back(inputs["source_sentence"].get<std::string>());
  for (std::string& sentence : std::get<std::vector<std::string>>(sentences))
    request.inputs.push_back(std::move(sentence));
  return request;
}

std::variant<EmbedRequest, RequestError> termite_embed_request(const json& body) {
  auto inputs = string_list(body, "input");
  if (auto* error = std::get_if<RequestError>(&inputs)) return *error;
  return EmbedRequest{optional_string(body, "model"), std::move(std::get<std::vector<std::string>>(inputs)), true,
                      flag(body, "truncate", true)};
}

std::variant<RerankRequest, RequestError> termite_rerank_request(const json& body) {
  auto prompts = string_list(body, "prompts");
  if (auto* error = std::get_if<RequestError>(&prompts)) return *error;
  auto query = optional_string(body, "query");
  if (!query) return RequestError{400, "validation", "\"query\" must be a string", "query"};
  return RerankRequest{optional_string(body, "model"), *query, std::move(std::get<std::vector<std::string>>(prompts)),
                       true, false};
}

}  // namespace tpustack::inferd::server
