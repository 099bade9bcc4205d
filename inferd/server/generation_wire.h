#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "inferd/generation/generation_engine.h"
#include "inferd/generation/sampling_params.h"
#include "inferd/server/request_error.h"

// The text-generation requests and answers of OpenAI's /v1/completions and /v1/chat/completions and TGI's /generate
// and /generate_stream, read from and written to JSON here and nowhere else.
namespace tpustack::inferd::server {

enum class GenerationApi { completions, chat, tgi };

// The sampling fields a request set; the rest take the model's defaults (generation_config.json).
struct SamplingFields {
  std::optional<double> temperature, top_p, min_p, repetition_penalty, presence_penalty, frequency_penalty;
  std::optional<int64_t> top_k;
  std::optional<uint64_t> seed;
  std::optional<uint32_t> max_tokens;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool logprobs = false;
  uint32_t top_logprobs = 0;
  bool ignore_eos = false;
  bool greedy = false;  // TGI's do_sample false with no sampling field set

  // `defaults` with this request's fields over them (max_tokens is decided apart: GenerativeModel::max_tokens_for).
  generation::SamplingParams over(generation::SamplingParams defaults) const;
};

struct GenerationRequest {
  GenerationApi api = GenerationApi::completions;
  std::optional<std::string> model;
  std::string prompt;           // completions and TGI: the text to continue
  nlohmann::ordered_json chat;  // chat: the template's variables (messages, tools, chat_template_kwargs' keys)
  SamplingFields sampling;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
  bool details = false;        // TGI: details with the finish reason and token count
};

// The body of a request to `api`'s route (`raw`: its text, whose key order the chat's messages and tools keep, as
// the template's tojson shows them); refusals name the field (OpenAI's `param`).
Result<GenerationRequest, RequestError> generation_request(const nlohmann::json& body, std::string_view raw,
                                                           GenerationApi api, bool stream_route);

// A generated token as logprobs report it: its text (a partial character's bytes as U+FFFD) and bytes, its
// log-probability, and the most likely alternatives when they were asked for.
struct ReportedToken {
  int32_t id = 0;
  std::string text;
  std::string bytes;
  bool special = false;
  float logprob = 0;
  std::vector<ReportedToken> top;
};

// What a finished generation says, in every API's answer.
struct GenerationOutcome {
  std::string id;       // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;  // seconds since the epoch
  std::string model;
  std::string text;
  std::optional<generation::FinishReason> finish;
  std::variant<std::monostate, int32_t, std::string> stop_reason;  // the stop token or text; none: end of sequence
  size_t prompt_tokens = 0;
  size_t completion_tokens = 0;
  std::vector<ReportedToken> tokens;  // with their logprobs, when the request asked for them
  std::optional<uint64_t> seed;
};

// The whole answer of a request that does not stream.
nlohmann::ordered_json generation_answer(const GenerationRequest& request, const GenerationOutcome& outcome);
// One server-sent event ("data: {...}\n\n") of a streamed answer for the text of `update` and its tokens, the
// last `new_tokens` of so_far.tokens; `first` adds the chat's role delta. The last update's event carries the
// finish reason.
std::string generation_event(const GenerationRequest& request, const GenerationOutcome& so_far,
                             const generation::GenerationUpdate& update, size_t new_tokens, bool first);
// What follows the last update: OpenAI's usage chunk (when asked for) and "data: [DONE]"; nothing for TGI.
std::string generation_stream_end(const GenerationRequest& request, const GenerationOutcome& outcome);
// An error in the middle of a stream, as the API's clients read it there.
std::string generation_stream_error(const GenerationRequest& request, const std::string& message);

}  // namespace tpustack::inferd::server
