#include "inferd/server/generation_wire.h"

#include <algorithm>
#include <span>

#include "inferd/server/request_body.h"

namespace tpustack::inferd::server {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

RequestError invalid(const std::string& message, const std::string& param) {
  return {400, "validation", message, param};
}

// `stop`: a text or a list of at most 4 texts (OpenAI); TGI's is a list.
Result<std::vector<std::string>, RequestError> stop_texts(const json& value, const char* param) {
  if (value.is_null()) return std::vector<std::string>{};
  if (value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  std::vector<std::string> texts;
  if (value.is_array()) {
    for (const json& text : value) {
      if (!text.is_string())
        return invalid(std::string("\"") + param + "\" must be a string or a list of strings", param);
      texts.push_back(text.get<std::string>());
    }
    return texts;
  }
  return invalid(std::string("\"") + param + "\" must be a string or a list of strings", param);
}

// The fields every API shares, under their OpenAI (and vLLM) names, read from `fields`.
Result<SamplingFields, RequestError> sampling_fields(const json& fields, const char* max_tokens_field) {
  OptionReader read(fields);
  SamplingFields sampling;
  sampling.temperature = read.number("temperature");
  sampling.top_p = read.number("top_p");
  sampling.min_p = read.number("min_p");
  sampling.repetition_penalty = read.number("repetition_penalty");
  sampling.presence_penalty = read.number("presence_penalty");
  sampling.frequency_penalty = read.number("frequency_penalty");
  sampling.top_k = read.integer("top_k");
  if (auto seed = read.integer("seed")) sampling.seed = static_cast<uint64_t>(*seed);
  if (auto max_tokens = read.count(max_tokens_field)) {
    if (*max_tokens > UINT32_MAX)
      return invalid(std::string("\"") + max_tokens_field + "\" is too large", max_tokens_field);
    sampling.max_tokens = static_cast<uint32_t>(*max_tokens);
  }
  sampling.ignore_eos = read.boolean("ignore_eos", false);
  if (read.error()) return RequestError{400, "validation", read.error()->message, read.error()->param};
  auto stop = stop_texts(fields.value("stop", json()), "stop");
  if (!stop) return stop.error();
  sampling.stop = std::move(*stop);
  if (const json ids = fields.value("stop_token_ids", json()); !ids.is_null()) {
    if (!ids.is_array()) return invalid("\"stop_token_ids\" must be a list of token ids", "stop_token_ids");
    for (const json& id : ids) {
      if (!id.is_number_integer()) return invalid("\"stop_token_ids\" must be a list of token ids", "stop_token_ids");
      sampling.stop_token_ids.push_back(id.get<int32_t>());
    }
  }
  return sampling;
}

// n: one choice per request is what this server generates.
Result<void, RequestError> one_choice_asked(const json& body) {
  const json n = body.value("n", json());
  if (!n.is_null() && !(n.is_number_integer() && n.get<int64_t>() == 1)) {
    return invalid("only n = 1 is served: send one request per choice", "n");
  }
  return {};
}

// Completions' logprobs is the number of alternatives (0: the chosen token's alone); chat's is a flag with
// top_logprobs beside it. TGI reports each token's logprob in its details.
Result<void, RequestError> read_logprobs(const json& body, GenerationApi api, SamplingFields& sampling) {
  const json logprobs = body.value("logprobs", json());
  const json top = body.value("top_logprobs", json());
  if (api == GenerationApi::completions) {
    if (logprobs.is_null()) return {};
    if (!logprobs.is_number_integer() || logprobs.get<int64_t>() < 0 || logprobs.get<int64_t>() > 20) {
      return invalid("\"logprobs\" must be an integer between 0 and 20", "logprobs");
    }
    sampling.logprobs = true;
    sampling.top_logprobs = logprobs.get<uint32_t>();
    return {};
  }
  if (!logprobs.is_null() && !logprobs.is_boolean()) return invalid("\"logprobs\" must be true or false", "logprobs");
  sampling.logprobs = logprobs == json(true);
  if (top.is_null()) return {};
  if (!top.is_number_integer() || top.get<int64_t>() < 0 || top.get<int64_t>() > 20) {
    return invalid("\"top_logprobs\" must be an integer between 0 and 20", "top_logprobs");
  }
  if (!sampling.logprobs) return invalid("\"top_logprobs\" needs \"logprobs\": true", "top_logprobs");
  sampling.top_logprobs = top.get<uint32_t>();
  return {};
}

// A message's content as chat templates take it: a text, or the text parts of a list joined by new lines.
Result<ordered_json, RequestError> message_content(const ordered_json& content, size_t index) {
  if (content.is_string() || content.is_null()) return content;
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (!content.is_array()) return invalid(param + " must be a string or a list of parts", param);
  std::string text;
  for (const ordered_json& part : content) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.value("text", ordered_json()).is_string()) {
      return invalid(param + ": only text parts are served", param);
    }
    text += (text.empty() ? "" : "\n") + part["text"].get<std::string>();
  }
  return ordered_json(text);
}

Result<ordered_json, RequestError> chat_variables(std::string_view raw) {
  // The key order of the client's messages and tools is what tojson shows: read them again in order.
  const ordered_json ordered = ordered_json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!ordered.is_object()) return invalid("the body is not a JSON object", "");
  const ordered_json messages = ordered.value("messages", ordered_json());
  if (!messages.is_array() || messages.empty()) return invalid("\"messages\" must be a non-empty list", "messages");
  ordered_json variables = ordered_json::object();
  ordered_json list = ordered_json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const ordered_json& message = messages[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!message.is_object() || !message.value("role", ordered_json()).is_string()) {
      return invalid(param + " must be an object with a \"role\"", param);
    }
    ordered_json copy = message;
    if (message.contains("content")) {
      auto content = message_content(message["content"], i);
      if (!content) return content.error();
      copy["content"] = std::move(*content);
    }
    list.push_back(std::move(copy));
  }
  variables["messages"] = std::move(list);
  if (const ordered_json tools = ordered.value("tools", ordered_json()); !tools.is_null()) {
    if (!tools.is_array()) return invalid("\"tools\" must be a list", "tools");
    variables["tools"] = tools;
  }
  if (const ordered_json kwargs = ordered.value("chat_template_kwargs", ordered_json()); !kwargs.is_null()) {
    if (!kwargs.is_object()) return invalid("\"chat_template_kwargs\" must be an object", "chat_template_kwargs");
    for (const auto& [key, value] : kwargs.items()) variables[key] = value;
  }
  return variables;
}

Result<GenerationRequest, RequestError> openai_request(const json& body, std::string_view raw, GenerationApi api) {
  GenerationRequest request;
  request.api = api;
  OptionReader read(body);
  request.model = read.text("model");
  request.stream = read.boolean("stream", false);
  if (read.error()) return RequestError{400, "validation", read.error()->message, read.error()->param};
  if (auto one = one_choice_asked(body); !one) return one.error();
  if (const json options = body.value("stream_options", json()); !options.is_null()) {
    if (!options.is_object()) return invalid("\"stream_options\" must be an object", "stream_options");
    request.include_usage = options.value("include_usage", json(false)) == json(true);
  }
  // Chat's max_completion_tokens replaced max_tokens; both are read, the newer first.
  const char* max_field =
      api == GenerationApi::chat && body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  auto sampling = sampling_fields(body, max_field);
  if (!sampling) return sampling.error();
  request.sampling = std::move(*sampling);
  if (auto logprobs = read_logprobs(body, api, request.sampling); !logprobs) return logprobs.error();
  if (api == GenerationApi::chat) {
    auto variables = chat_variables(raw);
    if (!variables) return variables.error();
    request.chat = std::move(*variables);
    return request;
  }
  if (body.value("echo", json(false)) == json(true)) return invalid("echo is not served", "echo");
  const json prompt = body.value("prompt", json());
  if (prompt.is_string()) {
    request.prompt = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    request.prompt = prompt[0].get<std::string>();
  } else {
    return invalid("\"prompt\" must be a string (one prompt per request)", "prompt");
  }
  return request;
}

Result<GenerationRequest, RequestError> tgi_request(const json& body, bool stream_route) {
  GenerationRequest request;
  request.api = GenerationApi::tgi;
  request.stream = stream_route;
  const json inputs = body.value("inputs", json());
  if (!inputs.is_string() || inputs.get<std::string>().empty()) {
    return RequestError{422, "validation", "`inputs` must be a non-empty string", "inputs"};
  }
  request.prompt = inputs.get<std::string>();
  const json parameters = body.value("parameters", json::object());
  if (!parameters.is_object()) return RequestError{422, "validation", "`parameters` must be an object", "parameters"};
  auto sampling = sampling_fields(parameters, "max_new_tokens");
  if (!sampling) return RequestError{422, "validation", sampling.error().message, sampling.error().param};
  request.sampling = std::move(*sampling);
  // TGI samples only with do_sample, or when a sampling field asks for it.
  const bool samples = parameters.value("do_sample", json(false)) == json(true) || request.sampling.top_k ||
                       request.sampling.top_p || (request.sampling.temperature && *request.sampling.temperature != 1.0);
  request.sampling.greedy = !samples;
  request.details = parameters.value("details", json(false)) == json(true);
  request.sampling.logprobs = true;  // TGI reports each token's logprob, in its stream and in details
  return request;
}

std::string tgi_finish_reason(const GenerationOutcome& outcome) {
  if (outcome.finish == generation::FinishReason::length) return "length";
  return std::holds_alternative<std::monostate>(outcome.stop_reason) ? "eos_token" : "stop_sequence";
}

ordered_json finish_json(const std::optional<generation::FinishReason>& finish) {
  return finish ? ordered_json(std::string(generation::finish_reason_name(*finish))) : ordered_json();
}

ordered_json byte_values(const std::string& bytes) {
  ordered_json values = ordered_json::array();
  for (unsigned char byte : bytes) values.push_back(byte);
  return values;
}

// OpenAI's logprobs of `tokens` (null when the request asked for none): completions' token, token_logprobs,
// top_logprobs and text_offset lists (offsets into the completion, from `offset`), or chat's content list.
ordered_json logprobs_json(const GenerationRequest& request, std::span<const ReportedToken> tokens, size_t offset) {
  if (!request.sampling.logprobs) return nullptr;
  if (request.api == GenerationApi::completions) {
    ordered_json texts = ordered_json::array(), logprobs = ordered_json::array(), tops = ordered_json::array(),
                 offsets = ordered_json::array();
    for (const ReportedToken& token : tokens) {
      texts.push_back(token.text);
      logprobs.push_back(token.logprob);
      ordered_json top = ordered_json::object();
      for (const ReportedToken& alternative : token.top) top[alternative.text] = alternative.logprob;
      tops.push_back(std::move(top));
      offsets.push_back(offset);
      offset += token.text.size();
    }
    return {{"tokens", std::move(texts)},
            {"token_logprobs", std::move(logprobs)},
            {"top_logprobs", std::move(tops)},
            {"text_offset", std::move(offsets)}};
  }
  ordered_json content = ordered_json::array();
  for (const ReportedToken& token : tokens) {
    ordered_json top = ordered_json::array();
    for (const ReportedToken& alternative : token.top) {
      top.push_back(
          {{"token", alternative.text}, {"logprob", alternative.logprob}, {"bytes", byte_values(alternative.bytes)}});
    }
    content.push_back({{"token", token.text},
                       {"logprob", token.logprob},
                       {"bytes", byte_values(token.bytes)},
                       {"top_logprobs", std::move(top)}});
  }
  return {{"content", std::move(content)}};
}

// The choices of an OpenAI answer or chunk: one (n is 1), with its `field` (text, message or delta).
ordered_json choices_of(const char* field, ordered_json value, ordered_json logprobs,
                        const std::optional<generation::FinishReason>& finish) {
  return ordered_json::array({{{"index", 0},
                               {field, std::move(value)},
                               {"logprobs", std::move(logprobs)},
                               {"finish_reason", finish_json(finish)}}});
}

ordered_json usage_json(const GenerationOutcome& outcome) {
  return {{"prompt_tokens", outcome.prompt_tokens},
          {"completion_tokens", outcome.completion_tokens},
          {"total_tokens", outcome.prompt_tokens + outcome.completion_tokens}};
}

ordered_json openai_envelope(const GenerationOutcome& outcome, const char* object) {
  return {{"id", outcome.id}, {"object", object}, {"created", outcome.created}, {"model", outcome.model}};
}

ordered_json tgi_token(const ReportedToken& token) {
  return {{"id", token.id}, {"text", token.text}, {"logprob", token.logprob}, {"special", token.special}};
}

ordered_json tgi_details(const GenerationOutcome& outcome) {
  ordered_json tokens = ordered_json::array();
  for (const ReportedToken& token : outcome.tokens) tokens.push_back(tgi_token(token));
  return {{"finish_reason", tgi_finish_reason(outcome)},
          {"generated_tokens", outcome.completion_tokens},
          {"seed", outcome.seed ? ordered_json(*outcome.seed) : ordered_json()},
          {"prefill", ordered_json::array()},
          {"tokens", std::move(tokens)}};
}

std::string event(const ordered_json& data) { return "data: " + data.dump() + "\n\n"; }

}  // namespace

generation::SamplingParams SamplingFields::over(generation::SamplingParams params) const {
  if (greedy) params.temperature = 0;
  if (temperature) params.temperature = static_cast<float>(*temperature);
  if (top_p) params.top_p = static_cast<float>(*top_p);
  if (min_p) params.min_p = static_cast<float>(*min_p);
  if (repetition_penalty) params.repetition_penalty = static_cast<float>(*repetition_penalty);
  if (presence_penalty) params.presence_penalty = static_cast<float>(*presence_penalty);
  if (frequency_penalty) params.frequency_penalty = static_cast<float>(*frequency_penalty);
  if (top_k) params.top_k = static_cast<int32_t>(*top_k);
  if (seed) params.seed = *seed;
  params.stop = stop;
  params.stop_token_ids = stop_token_ids;
  params.logprobs = logprobs;
  params.top_logprobs = top_logprobs;
  params.ignore_eos = ignore_eos;
  return params;
}

Result<GenerationRequest, RequestError> generation_request(const json& body, std::string_view raw, GenerationApi api,
                                                           bool stream_route) {
  if (api == GenerationApi::tgi) return tgi_request(body, stream_route);
  const std::string dumped = raw.empty() ? body.dump() : "";
  return openai_request(body, raw.empty() ? dumped : raw, api);
}

ordered_json generation_answer(const GenerationRequest& request, const GenerationOutcome& outcome) {
  switch (request.api) {
    case GenerationApi::completions: {
      ordered_json answer = openai_envelope(outcome, "text_completion");
      answer["choices"] = choices_of("text", outcome.text, logprobs_json(request, outcome.tokens, 0), outcome.finish);
      answer["usage"] = usage_json(outcome);
      return answer;
    }
    case GenerationApi::chat: {
      ordered_json answer = openai_envelope(outcome, "chat.completion");
      answer["choices"] = choices_of("message", {{"role", "assistant"}, {"content", outcome.text}},
                                     logprobs_json(request, outcome.tokens, 0), outcome.finish);
      answer["usage"] = usage_json(outcome);
      return answer;
    }
    case GenerationApi::tgi:
      break;
  }
  ordered_json answer = {{"generated_text", outcome.text}};
  if (request.details) answer["details"] = tgi_details(outcome);
  return answer;
}

std::string generation_event(const GenerationRequest& request, const GenerationOutcome& so_far,
                             const generation::GenerationUpdate& update, size_t new_tokens, bool first) {
  const auto tokens = std::span<const ReportedToken>(so_far.tokens).last(std::min(new_tokens, so_far.tokens.size()));
  switch (request.api) {
    case GenerationApi::completions: {
      // Where the update's tokens begin in the completion's text: completions' logprobs give text offsets.
      size_t offset = 0;
      if (request.sampling.logprobs) {
        for (size_t i = 0; i + tokens.size() < so_far.tokens.size(); ++i) offset += so_far.tokens[i].text.size();
      }
      ordered_json chunk = openai_envelope(so_far, "text_completion");
      chunk["choices"] = choices_of("text", update.text, logprobs_json(request, tokens, offset), update.finish);
      if (request.include_usage) chunk["usage"] = nullptr;
      return event(chunk);
    }
    case GenerationApi::chat: {
      std::string events;
      ordered_json chunk = openai_envelope(so_far, "chat.completion.chunk");
      if (first) {
        // OpenAI's first chunk carries the role alone.
        chunk["choices"] = choices_of("delta", {{"role", "assistant"}, {"content", ""}}, nullptr, std::nullopt);
        if (request.include_usage) chunk["usage"] = nullptr;
        events += event(chunk);
      }
      const ordered_json delta = update.text.empty() ? ordered_json::object() : ordered_json{{"content", update.text}};
      // Tokens whose text is held back (a possible stop string) still bring their logprobs.
      if (update.text.empty() && !update.finish && (tokens.empty() || !request.sampling.logprobs)) return events;
      chunk["choices"] = choices_of("delta", delta, logprobs_json(request, tokens, 0), update.finish);
      if (request.include_usage) chunk["usage"] = nullptr;
      return events + event(chunk);
    }
    case GenerationApi::tgi:
      break;
  }
  // TGI's StreamResponse: one per token; an update that merged several carries their text under the last one.
  if (tokens.empty() && !update.finish) return "";
  ordered_json token = tokens.empty() ? tgi_token({}) : tgi_token(tokens.back());
  token["text"] = update.text;
  ordered_json chunk = {{"index", so_far.completion_tokens},
                        {"token", std::move(token)},
                        {"generated_text", nullptr},
                        {"details", nullptr}};
  if (update.finish) {
    chunk["generated_text"] = so_far.text;
    chunk["details"] = tgi_details(so_far);
  }
  return event(chunk);
}

std::string generation_stream_end(const GenerationRequest& request, const GenerationOutcome& outcome) {
  if (request.api == GenerationApi::tgi) return "";
  std::string end;
  if (request.include_usage) {
    ordered_json chunk =
        openai_envelope(outcome, request.api == GenerationApi::chat ? "chat.completion.chunk" : "text_completion");
    chunk["choices"] = ordered_json::array();
    chunk["usage"] = usage_json(outcome);
    end += event(chunk);
  }
  return end + "data: [DONE]\n\n";
}

std::string generation_stream_error(const GenerationRequest& request, const std::string& message) {
  if (request.api == GenerationApi::tgi) return event({{"error", message}, {"error_type", "generation"}});
  return event(
             {{"error", {{"message", message}, {"type", "InternalServerError"}, {"param", nullptr}, {"code", 500}}}}) +
         "data: [DONE]\n\n";
}

}  // namespace tpustack::inferd::server
