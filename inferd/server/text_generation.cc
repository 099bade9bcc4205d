#include "inferd/server/text_generation.h"

#include <ctime>
#include <random>

namespace tpustack::inferd::server {

namespace {

// "cmpl-" / "chatcmpl-" and 24 hex digits, as OpenAI's ids look.
std::string generation_id(GenerationApi api) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string id = api == GenerationApi::chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += digits[random() % 16];
  return id;
}

}  // namespace

size_t StartedGeneration::add(const generation::GenerationUpdate& update) {
  const auto now = std::chrono::steady_clock::now();
  if (metrics && !update.tokens.empty()) {
    const std::vector<std::string> labels{outcome.model};
    if (last_token == std::chrono::steady_clock::time_point{}) {
      metrics->time_to_first_token.labels(labels).observe(std::chrono::duration<double>(now - arrived).count());
    } else {
      // An update that merged several tokens (the reader was slower than the engine) spreads the wait over them.
      const double each = std::chrono::duration<double>(now - last_token).count() / update.tokens.size();
      for (size_t i = 0; i < update.tokens.size(); ++i) metrics->inter_token_latency.labels(labels).observe(each);
    }
    last_token = now;
  }
  if (metrics && update.last()) {
    metrics->generation_tokens.labels({outcome.model, "prompt"}).inc(static_cast<double>(outcome.prompt_tokens));
    metrics->generation_tokens.labels({outcome.model, "completion"}).inc(static_cast<double>(update.completion_tokens));
  }
  outcome.text += update.text;
  outcome.completion_tokens = update.completion_tokens;
  if (update.finish) {
    outcome.finish = update.finish;
    outcome.stop_reason = update.stop_reason;
  }
  if (!report_tokens) return update.tokens.size();
  const generation::GenerativeModel& generator = *model->generator();
  auto reported = [&generator](int32_t id, float logprob) {
    const auto text = generator.token_text(id);
    return ReportedToken{id, text.text, text.bytes, text.special, logprob, {}};
  };
  for (const generation::GeneratedToken& token : update.tokens) {
    ReportedToken added = reported(token.token, token.logprob.value_or(0));
    for (const generation::TokenLogprob& alternative : token.top_logprobs) {
      added.top.push_back(reported(alternative.token, alternative.logprob));
    }
    outcome.tokens.push_back(std::move(added));
  }
  return update.tokens.size();
}

bool StartedGeneration::follow(const std::function<bool()>& present,
                               const std::function<bool(const generation::GenerationUpdate&, size_t)>& deliver) {
  constexpr auto poll = std::chrono::milliseconds(50);
  for (;;) {
    std::optional<generation::GenerationUpdate> update;
    while (!(update = stream->next(poll))) {
      if (present()) continue;
      stream->cancel();
      return false;
    }
    if (!deliver(*update, add(*update))) {
      stream->cancel();
      return false;
    }
    if (update->error || update->last()) return true;
  }
}

Result<StartedGeneration, RequestError> start_generation(InferenceService& service, const GenerationRequest& request) {
  const auto arrived = std::chrono::steady_clock::now();
  auto model = service.acquire(request.model, Task::generate);
  if (!model) return model.error();
  generation::GenerativeModel& generator = *(*model)->generator();
  auto prompt =
      request.api == GenerationApi::chat ? generator.chat_prompt(request.chat) : generator.text_prompt(request.prompt);
  if (!prompt)
    return RequestError{400, "validation", prompt.error().message,
                        request.api == GenerationApi::chat ? "messages" : "prompt"};
  auto max_tokens =
      generator.max_tokens_for(request.sampling.max_tokens, prompt->size(), request.api == GenerationApi::chat);
  if (!max_tokens) return RequestError{400, "validation", max_tokens.error().message, "max_tokens"};
  generation::SamplingParams params = request.sampling.over(generator.defaults());
  params.max_tokens = *max_tokens;
  if (!generator.engine().has_room_for(prompt->size())) {
    return RequestError{429, "overloaded",
                        "the KV cache has no room for a prompt of " + std::to_string(prompt->size()) +
                            " tokens now: retry after the running requests finish"};
  }
  StartedGeneration started;
  started.outcome.id = generation_id(request.api);
  started.outcome.created = static_cast<int64_t>(std::time(nullptr));
  started.outcome.model = (*model)->served_name();
  started.outcome.prompt_tokens = prompt->size();
  started.outcome.seed = params.seed;
  started.metrics = &service.metrics();
  started.arrived = arrived;
  started.report_tokens = request.sampling.logprobs || request.api == GenerationApi::tgi;
  auto stream = generator.engine().submit(std::move(*prompt), std::move(params), request.api != GenerationApi::chat);
  if (!stream) return RequestError{400, "validation", stream.error().message};
  started.model = std::move(*model);
  started.stream = std::move(*stream);
  return started;
}

void publish_generation_gauges(const ModelPool& pool, ServerMetrics& metrics) {
  for (const std::string& name : pool.loaded()) {
    const auto model = pool.resident(name);
    if (!model || !model->generator()) continue;
    const auto figures = model->generator()->engine().figures().planner;
    const std::string& served = model->served_name();
    metrics.generation_sequences.labels({served, "running"}).set(static_cast<double>(figures.running));
    metrics.generation_sequences.labels({served, "waiting"}).set(static_cast<double>(figures.waiting));
    metrics.kv_cache_blocks.labels({served, "used"}).set(static_cast<double>(figures.used_blocks));
    metrics.kv_cache_blocks.labels({served, "free"}).set(static_cast<double>(figures.free_blocks));
  }
}

}  // namespace tpustack::inferd::server
