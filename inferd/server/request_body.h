#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferd/server/input_limits.h"
#include "inferd/server/request_error.h"

// The body of an inference request (TEI, OpenAI and Termite alike) and the fields each route reads of it: the bytes
// from the network are read here and nowhere else (tests/fuzz/inferd_request_fuzz.cc fuzzes them).
namespace tpustack::inferd::server {

// The body as a JSON object, or why not: size, UTF-8 and syntax are checked in that order.
Result<nlohmann::json, RequestError> parse_body(std::string_view body, const InputLimits& limits);

// "text" or ["a", "b"] under `field`.
Result<std::vector<std::string>, RequestError> string_list(const nlohmann::json& body, const char* field);

// `field` when it is a string.
std::optional<std::string> optional_string(const nlohmann::json& body, const char* field);

// `field` when it is a boolean, else `fallback`.
bool flag(const nlohmann::json& body, const char* field, bool fallback);

// The inputs of an embedding request: texts ("a", ["a", "b"]) or token ids ([1, 2, 3], [[1, 2], [3]]), as OpenAI's
// and TEI's embedding routes take them.
struct EmbeddingInputs {
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> token_ids;
};
Result<EmbeddingInputs, RequestError> embedding_inputs(const nlohmann::json& body, const char* field);

// TEI's /predict inputs: a text, a pair ["a", "b"], or a list of texts and pairs. Each sequence has one or two
// texts; `batch` tells whether the answer is a list per sequence (a list was sent) or one list.
struct PredictInputs {
  std::vector<std::vector<std::string>> sequences;
  bool batch = false;
};
Result<PredictInputs, RequestError> predict_inputs(const nlohmann::json& body, const char* field);

// A request's options read by type, as TEI's typed bodies are: an absent or null option gives the fallback, one of
// another type is refused with 422 naming it (the first such is kept).
class OptionReader {
 public:
  explicit OptionReader(const nlohmann::json& body) : body_(body) {}

  bool boolean(const char* field, bool fallback);
  std::optional<std::string> text(const char* field);
  std::optional<size_t> count(const char* field);  // a non-negative integer
  std::optional<double> number(const char* field);
  std::optional<int64_t> integer(const char* field);
  const std::optional<RequestError>& error() const { return error_; }

 private:
  // The value of `field` when present, non-null and of the type `is` checks; a wrong type records the error.
  const nlohmann::json* typed(const char* field, bool (nlohmann::json::*is)() const noexcept, const char* what);

  const nlohmann::json& body_;
  std::optional<RequestError> error_;
};

}  // namespace tpustack::inferd::server
