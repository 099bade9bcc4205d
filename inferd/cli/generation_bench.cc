#include "inferd/cli/generation_bench.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "inferd/cli/read_bandwidth.h"
#include "inferd/generation/generative_model.h"

namespace tpustack::inferd::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::ordered_json;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

void print(const ordered_json& line) { std::cout << line.dump() << std::endl; }

// The CPU's model name and the flags that decide which kernels run, from /proc/cpuinfo.
ordered_json cpu_line() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  std::vector<std::string> flags;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0 && model == "unknown CPU") model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0 && flags.empty()) {
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string flag; words >> flag;) {
        for (const char* wanted :
             {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"}) {
          if (flag == wanted) flags.push_back(flag);
        }
      }
    }
  }
  return {{"figure", "cpu"}, {"model", model}, {"flags", flags}, {"cores", std::thread::hardware_concurrency()}};
}

size_t element_bytes(engine::WeightPrecision precision) {
  switch (precision) {
    case engine::WeightPrecision::bf16:
      return 2;
    case engine::WeightPrecision::i8:
      return 1;
    case engine::WeightPrecision::f32:
      break;
  }
  return 4;
}

// What one decode step of one sequence reads: every projection's weights once (the lm_head included; the one
// embedding row is negligible) and the keys and values of `context` positions.
double bytes_per_token(const model::DecoderConfig& c, engine::WeightPrecision precision, size_t context) {
  const double q = static_cast<double>(c.num_heads * c.head_dim), kv = static_cast<double>(c.num_kv_heads * c.head_dim);
  const double h = static_cast<double>(c.hidden_size), inter = static_cast<double>(c.intermediate_size);
  const double per_layer = h * q + 2 * h * kv + q * h + 3 * h * inter;
  const double weights = static_cast<double>(c.num_layers) * per_layer + static_cast<double>(c.vocab_size) * h;
  const double cache = static_cast<double>(context) * 2 * static_cast<double>(c.num_layers) * kv * sizeof(float);
  return weights * static_cast<double>(element_bytes(precision)) + cache;
}

struct Request {
  std::vector<int32_t> prompt;
  uint32_t max_tokens = 0;
};

struct RunFigures {
  double seconds = 0;
  size_t tokens = 0;
  double decode_tokens_per_s = 0;  // tokens after each stream's first, over the time all streams decoded
  std::vector<double> ttft_ms;
};

// Synthetic prompt ids over the vocabulary (above the tiny models' four special ids), different per stream.
std::vector<int32_t> prompt_of(size_t length, size_t stream, size_t vocab) {
  std::vector<int32_t> ids(length);
  for (size_t i = 0; i < length; ++i) ids[i] = static_cast<int32_t>(4 + (i * 7919 + stream * 104729) % (vocab - 4));
  return ids;
}

// The requests submitted together (or, `one_at_a_time`, each after the last finished), greedy, ignoring EOS.
Result<RunFigures> run(generation::GenerativeModel& model, const std::vector<Request>& requests, bool one_at_a_time) {
  RunFigures figures;
  const auto start = Clock::now();
  std::vector<std::shared_ptr<generation::GenerationStream>> streams;
  std::vector<Clock::time_point> submitted, first, ended;
  std::vector<size_t> tokens(requests.size(), 0);
  auto submit = [&](const Request& request) -> Result<void> {
    generation::SamplingParams params;
    params.temperature = 0;
    params.ignore_eos = true;
    params.max_tokens = request.max_tokens;
    auto stream = model.engine().submit(request.prompt, params, true);
    if (!stream) return stream.error();
    streams.push_back(*stream);
    submitted.push_back(Clock::now());
    first.push_back({});
    ended.push_back({});
    return {};
  };
  size_t next = 0, done = 0;
  while (done < requests.size()) {
    while (next < requests.size() && (!one_at_a_time || next == done)) {
      if (auto ok = submit(requests[next]); !ok) return ok.error();
      ++next;
    }
    bool any = false;
    for (size_t i = 0; i < streams.size(); ++i) {
      if (ended[i] != Clock::time_point{}) continue;
      auto update = streams[i]->next(std::chrono::milliseconds(0));
      if (!update) continue;
      any = true;
      if (update->error) return *update->error;
      if (!update->tokens.empty() && first[i] == Clock::time_point{}) first[i] = Clock::now();
      tokens[i] = update->completion_tokens;
      if (update->last()) {
        ended[i] = Clock::now();
        ++done;
      }
    }
    if (!any) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto end = *std::max_element(ended.begin(), ended.end());
  figures.seconds = seconds_between(start, end);
  figures.tokens = std::accumulate(tokens.begin(), tokens.end(), size_t{0});
  const auto decoding = *std::max_element(first.begin(), first.end());
  const size_t after_first = figures.tokens - requests.size();
  figures.decode_tokens_per_s = end > decoding ? static_cast<double>(after_first) / seconds_between(decoding, end) : 0;
  for (size_t i = 0; i < streams.size(); ++i) figures.ttft_ms.push_back(1000 * seconds_between(submitted[i], first[i]));
  return figures;
}

Result<std::unique_ptr<generation::GenerativeModel>> load(const GenerationBenchOptions& options, size_t max_sequences,
                                                          bool static_batching) {
  generation::GenerativeOptions load_options;
  load_options.threads = options.threads;
  load_options.precision = options.precision;
  load_options.kv_cache_bytes = options.kv_cache_bytes;
  load_options.max_step_tokens = options.max_step_tokens;
  load_options.max_sequences = max_sequences;
  load_options.static_batching = static_batching;
  load_options.pjrt = options.pjrt;
  return generation::GenerativeModel::load(options.model, load_options);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int run_generation_bench(const GenerationBenchOptions& options) {
  print(cpu_line());
  auto loaded = load(options, *std::max_element(options.streams.begin(), options.streams.end()), false);
  if (!loaded) {
    spdlog::error("cannot load model: {}", loaded.error().message);
    return 1;
  }
  generation::GenerativeModel& model = **loaded;
  const model::DecoderConfig& config = model.config();
  const std::string variant(engine::precision_name(model.precision()));
  const double bandwidth = options.pjrt ? 0 : read_bandwidth(options.threads);
  if (!options.pjrt) {
    print({{"figure", "memory_bandwidth"}, {"threads", options.threads}, {"gb_per_s", bandwidth / 1e9}});
  }

  // Decode tokens/s at each stream count; the first (batch 1) against the roofline.
  for (size_t count : options.streams) {
    std::vector<Request> requests;
    for (size_t s = 0; s < count; ++s) {
      requests.push_back(
          {prompt_of(options.prompt_tokens, s, config.vocab_size), static_cast<uint32_t>(options.decode_tokens)});
    }
    auto figures = run(model, requests, false);
    if (!figures) {
      spdlog::error("{} streams: {}", count, figures.error().message);
      return 1;
    }
    ordered_json line = {{"figure", "decode"},
                         {"streams", count},
                         {"threads", options.threads},
                         {"variant", variant},
                         {"kernel", model.kernel()},
                         {"tokens_per_s", static_cast<double>(figures->tokens) / figures->seconds},
                         {"decode_tokens_per_s", figures->decode_tokens_per_s},
                         {"per_stream_tokens_per_s", figures->decode_tokens_per_s / static_cast<double>(count)}};
    if (count == 1 && !options.pjrt) {
      const double bytes =
          bytes_per_token(config, model.precision(), options.prompt_tokens + options.decode_tokens / 2);
      const double roofline = bandwidth / bytes;
      line["bytes_per_token"] = bytes;
      line["roofline_tokens_per_s"] = roofline;
      line["fraction_of_roofline"] = figures->decode_tokens_per_s / roofline;
    }
    print(line);
  }

  // Time to the first token of one prompt alone, median of three.
  for (size_t length : options.ttft_prompts) {
    if (length + 1 > model.context_length()) {
      print({{"figure", "ttft"}, {"prompt_tokens", length}, {"skipped", "longer than the model's context"}});
      continue;
    }
    std::vector<double> times;
    for (size_t round = 0; round < 3; ++round) {
      auto figures = run(model, {{prompt_of(length, round, config.vocab_size), 1}}, false);
      if (!figures) {
        spdlog::error("ttft {}: {}", length, figures.error().message);
        return 1;
      }
      times.push_back(figures->ttft_ms.front());
    }
    print({{"figure", "ttft"}, {"prompt_tokens", length}, {"ms", median(times)}});
  }

  // The same requests (lengths drawn once, seeded), at most batching_streams running at once: continuous batching
  // (a finished sequence's place is taken at the next step), static batching (the next batch starts when the whole
  // last one is done), and one at a time.
  const size_t vocab = config.vocab_size, prompt_tokens = options.prompt_tokens;
  loaded->reset();  // one model in memory at a time
  std::mt19937 draw(17);
  std::vector<Request> requests;
  for (size_t r = 0; r < options.requests; ++r) {
    const auto tokens = std::uniform_int_distribution<size_t>(options.min_tokens, options.max_tokens)(draw);
    requests.push_back({prompt_of(prompt_tokens, r, vocab), static_cast<uint32_t>(tokens)});
  }
  auto run_batching = [&](bool static_batching, bool one_at_a_time) -> Result<RunFigures> {
    auto batched = load(options, options.batching_streams, static_batching);
    if (!batched) return batched.error();
    return run(**batched, requests, one_at_a_time);
  };
  auto continuous = run_batching(false, false);
  auto statically = continuous ? run_batching(true, false) : continuous;
  auto sequential = statically ? run_batching(false, true) : statically;
  if (!sequential) {
    spdlog::error("{}", sequential.error().message);
    return 1;
  }
  auto rate = [](const RunFigures& f) { return static_cast<double>(f.tokens) / f.seconds; };
  print({{"figure", "batching"},
         {"requests", options.requests},
         {"streams", options.batching_streams},
         {"max_tokens", {options.min_tokens, options.max_tokens}},
         {"continuous_tokens_per_s", rate(*continuous)},
         {"static_tokens_per_s", rate(*statically)},
         {"one_at_a_time_tokens_per_s", rate(*sequential)},
         {"continuous_over_static", rate(*continuous) / rate(*statically)},
         {"continuous_over_one_at_a_time", rate(*continuous) / rate(*sequential)}});
  return 0;
}

}  // namespace tpustack::inferd::cli
