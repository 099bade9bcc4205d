// libFuzzer target: arbitrary bytes as the body of an inference request to inferd (TEI's /embed, /rerank and
// /tokenize, OpenAI's /v1/embeddings, /v1/completions and /v1/chat/completions, TGI's /generate, Termite's
// /api/embed and /api/rerank), read as HttpApi reads it: parse_body, then every field any of those routes takes;
// a generation request read is answered (whole and as a stream's events) from an outcome that echoes its prompt. A
// RequestError is the documented answer to a bad body; besides crashes and sanitizer reports, a refusal without a 4xx
// status and a message, or a text that is not UTF-8, is a finding.
//   scripts/fuzz.sh inferd_request_fuzzer 300
//   inferd_request_fuzz_replay tests/fuzz/corpus/inferd_request
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "inferd/server/generation_wire.h"
#include "inferd/server/input_limits.h"
#include "inferd/server/request_body.h"

namespace tpustack::inferd::server {
namespace {

void check_refusal(const RequestError& error) {
  if (error.status >= 400 && error.status < 500 && !error.message.empty()) return;
  std::fprintf(stderr, "refused with %d: %s\n", error.status, error.message.c_str());
  std::abort();
}

void check_text(const std::string& text) {
  if (is_valid_utf8(text)) return;
  std::fprintf(stderr, "a text that is not UTF-8: %s\n", text.c_str());
  std::abort();
}

}  // namespace
}  // namespace tpustack::inferd::server

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tpustack::inferd::server;
  const auto body = parse_body(std::string_view(reinterpret_cast<const char*>(data), size), InputLimits{});
  if (!body) {
    check_refusal(body.error());
    return 0;
  }
  const auto& doc = body.value();
  for (const char* field : {"inputs", "input", "texts", "prompts"}) {
    const auto texts = string_list(doc, field);
    if (!texts) {
      check_refusal(texts.error());
      continue;
    }
    for (const std::string& text : texts.value()) check_text(text);
  }
  for (const char* field : {"model", "query", "encoding_format"}) {
    if (const auto text = optional_string(doc, field)) check_text(*text);
  }
  for (const char* field : {"normalize", "truncate", "raw_scores", "return_text", "add_special_tokens"}) {
    flag(doc, field, false);
  }
  for (const char* field : {"inputs", "input"}) {
    const auto inputs = embedding_inputs(doc, field);
    if (!inputs) {
      check_refusal(inputs.error());
    } else {
      for (const std::string& text : inputs.value().texts) check_text(text);
    }
    const auto sequences = predict_inputs(doc, field);
    if (!sequences) check_refusal(sequences.error());
  }
  for (const GenerationApi api : {GenerationApi::completions, GenerationApi::chat, GenerationApi::tgi}) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    const auto request = generation_request(doc, raw, api, false);
    if (!request) {
      check_refusal(request.error());
      continue;
    }
    check_text(request.value().prompt);
    GenerationOutcome outcome;
    outcome.text = request.value().prompt;
    outcome.finish = tpustack::inferd::generation::FinishReason::stop;
    outcome.tokens.push_back({1, request.value().prompt, request.value().prompt, false, -1.0f, {}});
    generation_answer(request.value(), outcome).dump();
    tpustack::inferd::generation::GenerationUpdate update;
    update.text = outcome.text;
    update.finish = outcome.finish;
    check_text(generation_event(request.value(), outcome, update, 1, true));
    check_text(generation_stream_end(request.value(), outcome));
  }
  OptionReader options(doc);
  options.boolean("normalize", true);
  if (const auto text = options.text("truncation_direction")) check_text(*text);
  options.count("dimensions");
  if (options.error()) check_refusal(*options.error());
  return 0;
}
