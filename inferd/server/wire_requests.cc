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
Result<void, RequestError> read_direction(OptionReader& options, TruncationDirection& direction) {
  const auto text = options.text("truncation_direction");
  if (options.error()) return *options.error();
  if (!text) return {};
  auto parsed = parse_truncation_direction(*text);
  if (!parsed) return invalid(parsed.error(), "truncation_direction");
  direction = *parsed;
  return {};
}

Result<EmbedRequest, RequestError> with_inputs(EmbedRequest request, const json& body, const char* field) {
  auto inputs = embedding_inputs(body, field);
  if (!inputs) return inputs.error();
  auto& given = inputs.value();
  request.inputs = std::move(given.texts);
  request.token_ids = std::move(given.token_ids);
  return request;
}

}  // namespace

Result<EmbedRequest, RequestError> tei_embed_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  EmbedRequest request;
  read_embed_options(options, request, auto_truncate);
  if (auto error = read_direction(options, request.truncation_direction); !error) return error.error();
  return with_inputs(std::move(request), body, "inputs");
}

Result<OpenAiEmbedRequest, RequestError> openai_embed_request(const json& body, bool auto_truncate) {
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
  if (!embed) return embed.error();
  request.embed = std::move(embed).value();
  return request;
}

Result<TeiRerankRequest, RequestError> tei_rerank_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  TeiRerankRequest request;
  read_scoring_options(options, request.rerank, auto_truncate);
  request.return_text = options.boolean("return_text", false);
  const auto query = options.text("query");
  TruncationDirection ignored = TruncationDirection::right;  // pairs are cut longest first, as TEI cuts them
  if (auto error = read_direction(options, ignored); !error) return error.error();
  if (!query) return RequestError{400, "validation", "\"query\" must be a string", "query"};
  auto texts = string_list(body, "texts");
  if (!texts) return texts.error();
  request.rerank.query = *query;
  request.rerank.texts = std::move(texts).value();
  return request;
}

Result<TeiPredictRequest, RequestError> tei_predict_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  TeiPredictRequest request;
  read_scoring_options(options, request.predict, auto_truncate);
  if (auto error = read_direction(options, request.predict.truncation_direction); !error) return error.error();
  auto inputs = predict_inputs(body, "inputs");
  if (!inputs) return inputs.error();
  request.predict.sequences = std::move(inputs.value().sequences);
  request.batch = inputs.value().batch;
  return request;
}

bool is_similarity_body(const json& body) {
  return body.contains("inputs") && body["inputs"].is_object() && body["inputs"].contains("source_sentence");
}

Result<EmbedRequest, RequestError> tei_similarity_request(const json& body, bool auto_truncate) {
  OptionReader options(body);
  EmbedRequest request;
  read_embed_options(options, request, auto_truncate);
  if (auto error = read_direction(options, request.truncation_direction); !error) return error.error();
  if (!is_similarity_body(body)) {
    return RequestError{422, "validation", "\"inputs\" must be {\"source_sentence\": ..., \"sentences\": [...]}",
                        "inputs"};
  }
  const json& inputs = body["inputs"];
  auto sentences = string_list(inputs, "sentences");
  if (!inputs["source_sentence"].is_string() || !sentences) {
    return RequestError{422, "validation", "\"source_sentence\" must be a string and \"sentences\" strings", "inputs"};
  }
  request.inputs.push_back(inputs["source_sentence"].get<std::string>());
  for (std::string& sentence : sentences.value()) request.inputs.push_back(std::move(sentence));
  return request;
}

Result<EmbedRequest, RequestError> termite_embed_request(const json& body) {
  auto inputs = string_list(body, "input");
  if (!inputs) return inputs.error();
  return EmbedRequest{optional_string(body, "model"), std::move(inputs).value(), true, flag(body, "truncate", true)};
}

Result<RerankRequest, RequestError> termite_rerank_request(const json& body) {
  auto prompts = string_list(body, "prompts");
  if (!prompts) return prompts.error();
  auto query = optional_string(body, "query");
  if (!query) return RequestError{400, "validation", "\"query\" must be a string", "query"};
  return RerankRequest{optional_string(body, "model"), *query, std::move(prompts).value(), true, false};
}

}  // namespace tpustack::inferd::server
