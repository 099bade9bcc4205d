#include "inferd/cli/bench_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/cli/command_line.h"
#include "inferd/cli/accelerator_choice.h"
#include "inferd/cli/generation_bench.h"
#include "inferd/encoder/encoder_model.h"

namespace tpustack::inferd::cli {

namespace {

struct BenchOptions {
  std::string model;
  size_t batch = 1;
  size_t seq_len = 128;
  std::string texts;
  size_t threads = 1;
  double seconds = 5.0;
  std::optional<engine::WeightPrecision> precision = engine::WeightPrecision::f32;  // none: auto
  bool generate = false;
  GenerationBenchOptions generation;
  AcceleratorFlags accelerator{"cpu", "", ""};  // cpu unless asked, so figures stay comparable
};

void add_flags(CLI::App& app, BenchOptions& o, std::string& variant) {
  app.add_flag("--generate", o.generate,
               "measure a decoder's text generation (the flags below) instead of an encoder's throughput");
  GenerationBenchOptions& g = o.generation;
  app.add_option("--streams", g.streams, "with --generate: concurrent decoding streams to measure")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--prompt-tokens", g.prompt_tokens, "with --generate: prompt tokens of each stream")
      ->capture_default_str();
  app.add_option("--decode-tokens", g.decode_tokens, "with --generate: tokens each stream generates")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ttft-prompts", g.ttft_prompts, "with --generate: prompt lengths whose first token is timed")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--requests", g.requests,
                 "with --generate: requests run under continuous batching, static batching and one at a time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--batching-streams", g.batching_streams,
                 "with --generate: sequences running at once when comparing continuous and static batching")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--min-tokens", g.min_tokens, "with --generate: fewest tokens a request asks for")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-tokens", g.max_tokens, "with --generate: most tokens a request asks for")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--kv-cache-bytes", g.kv_cache_bytes, "with --generate: bytes of the KV cache")->capture_default_str();
  app.add_option("--model", o.model, "model directory")->required();
  add_accelerator_flags(app, o.accelerator);
  app.add_option("--batch", o.batch, "sequences per batch")->capture_default_str()->check(CLI::PositiveNumber);
  auto* seq_len = app.add_option("--seq-len", o.seq_len, "tokens per synthetic sequence")
                      ->capture_default_str()
                      ->check(CLI::Range(size_t{2}, size_t{1} << 20));
  app.add_option("--texts", o.texts, "JSON lines {\"text\": ...} to encode instead of synthetic sequences")
      ->excludes(seq_len);
  app.add_option("--threads", o.threads, "engine threads")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seconds", o.seconds, "how long to measure")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--variant", variant, "number format of the products: f32, bf16, i8 or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16", "i8", "auto"}));
}

// Synthetic sequences of exactly seq_len tokens: [CLS] ids [SEP], ids spread over the vocabulary.
std::vector<tokenizer::Encoding> fixed_length_batch(const EncoderModel& model, size_t batch, size_t seq_len) {
  const tokenizer::TokenId cls = std::max(model.tokenizer().model().find("[CLS]"), 0);
  const tokenizer::TokenId sep = std::max(model.tokenizer().model().find("[SEP]"), 0);
  const auto vocab = static_cast<tokenizer::TokenId>(model.tokenizer().model().size());
  std::vector<tokenizer::Encoding> encodings(batch);
  for (size_t b = 0; b < batch; ++b) {
    auto& ids = encodings[b].ids;
    ids.push_back(cls);
    for (size_t t = 1; t + 1 < seq_len; ++t)
      ids.push_back(static_cast<tokenizer::TokenId>(1000 + 7919 * (b + t)) % vocab);
    ids.push_back(sep);
    encodings[b].type_ids.assign(seq_len, 0);
  }
  return encodings;
}

Result<std::vector<tokenizer::Encoding>> read_texts(const EncoderModel& model, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot open " + path};
  std::vector<tokenizer::Encoding> encodings;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.contains("text") || !doc["text"].is_string()) {
      return Error{path + ":" + std::to_string(number) + ": expected {\"text\": \"...\"}"};
    }
    auto encoding = model.tokenize(doc["text"].get<std::string>());
    if (!encoding) return Error{path + ":" + std::to_string(number) + ": " + encoding.error().message};
    encodings.push_back(std::move(encoding).value());
  }
  if (encodings.empty()) return Error{path + " has no texts"};
  return encodings;
}

// FLOPs of one sequence of n tokens (2 per multiply-add): the dense projections plus QKᵀ and AV.
double sequence_flops(const model::BertConfig& c, size_t n) {
  const double h = static_cast<double>(c.hidden_size), inter = static_cast<double>(c.intermediate_size);
  const double s = static_cast<double>(n);
  return static_cast<double>(c.num_layers) * (2.0 * s * (4.0 * h * h + 2.0 * h * inter) + 4.0 * s * s * h);
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

int run_bench(BenchOptions options, const std::string& variant) {
  options.precision = engine::parse_precision(variant);
  auto accelerator = choose_accelerator(options.accelerator, server::read_device_environment());
  if (!accelerator) {
    spdlog::error("{}", accelerator.error().message);
    return 1;
  }
  if (options.generate) {
    GenerationBenchOptions& generation = options.generation;
    generation.model = options.model;
    generation.threads = options.threads;
    generation.precision = options.precision;
    generation.pjrt = accelerator->pjrt;
    if (generation.streams.empty() || generation.min_tokens > generation.max_tokens) {
      spdlog::error("--streams needs a count, and --min-tokens may not exceed --max-tokens");
      return 1;
    }
    return run_generation_bench(generation);
  }
  PjrtPlacement placement{accelerator->pjrt, {}};
  placement.options.max_batch = options.batch;
  auto model = EncoderModel::load(options.model, {options.threads, options.precision}, placement);
  if (!model) {
    spdlog::error("cannot load model: {}", model.error().message);
    return 1;
  }
  std::vector<std::vector<tokenizer::Encoding>> batches;
  if (options.texts.empty()) {
    batches.push_back(fixed_length_batch(*model, options.batch, std::min(options.seq_len, model->max_length())));
  } else {
    auto encodings = read_texts(*model, options.texts);
    if (!encodings) {
      spdlog::error("{}", encodings.error().message);
      return 1;
    }
    for (size_t start = 0; start < encodings->size(); start += options.batch) {
      size_t end = std::min(start + options.batch, encodings->size());
      batches.emplace_back(encodings->begin() + static_cast<std::ptrdiff_t>(start),
                           encodings->begin() + static_cast<std::ptrdiff_t>(end));
    }
  }

  auto run = [&](const std::vector<tokenizer::Encoding>& batch) {
    return model->kind() == ModelKind::reranker ? model->rerank(batch).ok() : model->embed(batch).ok();
  };
  if (!run(batches.front())) {
    spdlog::error("the model rejected the benchmark batch");
    return 1;
  }
  using clock = std::chrono::steady_clock;
  std::vector<double> latencies_ms;
  size_t sequences = 0, tokens = 0;
  double flops = 0;
  const auto start = clock::now();
  const auto deadline = start + std::chrono::duration<double>(options.seconds);
  // At least one pass over every batch, so runs of different engines on one texts file see the same inputs.
  for (size_t i = 0; clock::now() < deadline || latencies_ms.size() < batches.size(); i = (i + 1) % batches.size()) {
    const auto begin = clock::now();
    run(batches[i]);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - begin).count());
    for (const auto& encoding : batches[i]) {
      tokens += encoding.ids.size();
      flops += sequence_flops(model->config(), encoding.ids.size());
    }
    sequences += batches[i].size();
  }
  const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  nlohmann::ordered_json line = {
      {"batch", options.batch},
      {"seq_len", options.texts.empty() ? nlohmann::json(std::min(options.seq_len, model->max_length()))
                                        : nlohmann::json(static_cast<double>(tokens) / static_cast<double>(sequences))},
      {"threads", options.threads},
      {"backend", accelerator->choice.backend},
      {"variant", engine::precision_name(model->precision())},
      {"kernel", model->kernel()},
      {"seq_per_s", static_cast<double>(sequences) / elapsed},
      {"tokens_per_s", static_cast<double>(tokens) / elapsed},
      {"gflop_per_s", flops / elapsed / 1e9},
      {"p50_ms", percentile(latencies_ms, 0.5)},
      {"p99_ms", percentile(latencies_ms, 0.99)},
  };
  std::cout << line.dump() << std::endl;
  return 0;
}

std::function<int()> add_bench_command(CLI::App& command) {
  auto options = std::make_shared<BenchOptions>();
  auto variant = std::make_shared<std::string>("f32");
  add_flags(command, *options, *variant);
  return [options, variant] { return run_bench(*options, *variant); };
}

}  // namespace tpustack::inferd::cli
