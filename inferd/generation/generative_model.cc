#include "inferd/generation/generative_model.h"

#include <algorithm>
#include <ctime>
#include <variant>

#include "inferd/decoder/decoder_model.h"
#include "inferd/engine/cpu/linear.h"
#include "inferd/engine/pjrt/decoder_program.h"
#include "inferd/engine/pjrt/pjrt_decoder.h"
#include "inferd/jinja/chat_template.h"
#include "inferd/model/tokenizer_config.h"
#include "inferd/tokenizer/bpe_decoder.h"
#include "inferd/tokenizer/sentencepiece_model.h"
#include "inferd/tokenizer/tokenizer_json.h"

namespace tpustack::inferd::generation {

struct GenerativeModel::Parts {
  model::DecoderConfig config;
  engine::WeightPrecision precision;
  std::string kernel;
  KvCacheShape cache_shape;
  ForwardPass forward;  // owns the backend
  tokenizer::BpeTokenizer tokenizer;
  std::optional<jinja::ChatTemplate> chat_template;
  std::map<std::string, std::string> special_tokens;
  SamplingParams defaults;
};

namespace {

// What a request leaves out: HF's generate samples only with do_sample, so a model whose generation_config.json
// does not ask for sampling answers greedily unless the request asks otherwise.
SamplingParams defaults_of(const model::GenerationConfig& config) {
  SamplingParams params;
  params.repetition_penalty = config.repetition_penalty;
  if (!config.do_sample) {
    params.temperature = 0;
    return params;
  }
  params.temperature = config.temperature;
  params.top_p = config.top_p;
  params.top_k = static_cast<int32_t>(config.top_k);
  return params;
}

// tokenizer.json, else the tokenizer.json transformers would make of a SentencePiece tokenizer.model.
Result<tokenizer::BpeTokenizer> read_bpe_tokenizer(const std::filesystem::path& directory) {
  const auto path = directory / "tokenizer.json";
  if (!std::filesystem::exists(path)) {
    const auto sentencepiece = directory / "tokenizer.model";
    if (!std::filesystem::exists(sentencepiece)) {
      return Error{directory.string() + " has no tokenizer: neither tokenizer.json nor tokenizer.model"};
    }
    auto doc = tokenizer::tokenizer_json_from_sentencepiece(sentencepiece);
    if (!doc) return doc.error();
    auto bpe = tokenizer::BpeTokenizer::from_json(*doc);
    if (!bpe) return Error{sentencepiece.string() + ": " + bpe.error().message};
    return bpe;
  }
  auto any = tokenizer::read_tokenizer_json(path);
  if (!any) return any.error();
  if (auto* bpe = std::get_if<tokenizer::BpeTokenizer>(&*any)) return std::move(*bpe);
  return Error{path.string() + ": a decoder needs a BPE tokenizer, this one is WordPiece"};
}

// The template LlamaTokenizerFast's update_post_processor builds: "<bos> $A <eos>", "<bos> $A <eos> <bos> $B <eos>"
// (B's tokens of type 1), each special token only when its flag is set.
Result<tokenizer::PostProcessor> special_token_template(const tokenizer::BpeTokenizer& tokenizer,
                                                        const std::map<std::string, std::string>& special_tokens,
                                                        model::TokenizerConfig::SpecialTokenFlags flags) {
  const auto id_of = [&](const std::string& name, bool wanted) -> Result<std::optional<tokenizer::TokenId>> {
    if (!wanted) return std::optional<tokenizer::TokenId>();
    const auto text = special_tokens.find(name);
    if (text == special_tokens.end()) return Error{"add_" + name + " is set but " + name + " is not"};
    auto ids = tokenizer.encode(text->second, false);
    if (!ids || ids->size() != 1) return Error{name + " \"" + text->second + "\" is not one token of tokenizer.json"};
    return std::optional(ids->front());
  };
  auto bos = id_of("bos_token", flags.add_bos);
  if (!bos) return bos.error();
  auto eos = id_of("eos_token", flags.add_eos);
  if (!eos) return eos.error();
  tokenizer::PostProcessor processor;
  for (int sequence : {0, 1}) {
    std::vector<tokenizer::TemplateItem> items;
    if (*bos) items.push_back({false, 0, **bos, sequence});
    items.push_back({true, sequence, -1, sequence});
    if (*eos) items.push_back({false, 0, **eos, sequence});
    processor.pair.insert(processor.pair.end(), items.begin(), items.end());
    if (sequence == 0) processor.single = items;
  }
  return processor;
}

// What runs the steps: the forward pass (owning the model and its cache) and the kernel it names.
struct Backend {
  ForwardPass forward;
  std::string kernel;
};

// The precision the options ask for on the backend they choose: --variant auto is bf16 on a PJRT device, and on the
// CPU where it multiplies bf16 itself.
engine::WeightPrecision precision_of(const GenerativeOptions& options) {
  const bool bf16 = options.pjrt || engine::cpu::has_native_bf16();
  return options.precision.value_or(bf16 ? engine::WeightPrecision::bf16 : engine::WeightPrecision::f32);
}

// The decoder of `checkpoint` on the device the options choose, at `precision`, with a KV cache of `cache`.
Result<Backend> start_backend(model::DecoderCheckpoint checkpoint, const GenerativeOptions& options,
                              engine::WeightPrecision precision, KvCacheShape cache, size_t max_sequences) {
  if (options.pjrt) {
    auto decoder = engine::pjrt::PjrtDecoder::create(
        checkpoint.weights, options.pjrt, cache,
        {precision, max_sequences, options.max_step_tokens, options.pjrt_warmup, options.model_digest});
    if (!decoder) return decoder.error();
    std::shared_ptr<engine::pjrt::PjrtDecoder> shared = std::move(decoder).value();
    std::string kernel = shared->kernel();
    return Backend{[shared](const DecodeStep& step, float* logits) { return shared->forward(step, logits); },
                   std::move(kernel)};
  }
  auto model = decoder::DecoderModel::create(std::move(checkpoint), {options.threads, precision});
  if (!model) return model.error();
  // The CPU decoder and its cache, shared by the copies of the forward pass.
  struct CpuDecoder {
    decoder::DecoderModel model;
    decoder::KvCache cache;
  };
  decoder::KvCache kv = model->make_cache(cache);
  auto cpu = std::make_shared<CpuDecoder>(CpuDecoder{std::move(model).value(), std::move(kv)});
  std::string kernel = cpu->model.kernel();
  return Backend{[cpu](const DecodeStep& step, float* logits) { return cpu->model.forward(step, cpu->cache, logits); },
                 std::move(kernel)};
}

}  // namespace

GenerativeModel::GenerativeModel(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

GenerativeModel::~GenerativeModel() {
  if (engine_) engine_->stop();
}

Result<std::unique_ptr<GenerativeModel>> GenerativeModel::load(const std::filesystem::path& directory,
                                                               const GenerativeOptions& options) {
  auto checkpoint = model::read_decoder_checkpoint(directory);
  if (!checkpoint) return checkpoint.error();
  auto tokenizer = read_bpe_tokenizer(directory);
  if (!tokenizer) return tokenizer.error();
  auto config = model::read_tokenizer_config(directory);
  if (!config) return config.error();
  if (config->rebuilt_template) {
    auto processor = special_token_template(*tokenizer, config->special_tokens, *config->rebuilt_template);
    if (!processor) return Error{(directory / "tokenizer_config.json").string() + ": " + processor.error().message};
    tokenizer->set_post_processor(std::move(*processor));
  }
  std::optional<jinja::ChatTemplate> chat_template;
  if (config->chat_template) {
    auto parsed = jinja::ChatTemplate::parse(*config->chat_template);
    if (!parsed)
      return Error{(directory / "tokenizer_config.json").string() + ": chat_template: " + parsed.error().message};
    chat_template = std::move(*parsed);
  }

  const model::DecoderConfig shape = checkpoint->weights.config;
  const engine::WeightPrecision precision = precision_of(options);
  // The CPU keeps its cache in f32; a PJRT device in the products' type.
  const size_t element_bytes = options.pjrt ? engine::pjrt::decoder_cache_element_bytes(precision) : sizeof(float);
  const size_t position_bytes = 2 * shape.num_layers * shape.num_kv_heads * shape.head_dim * element_bytes;
  const KvCacheShape cache_shape{options.block_tokens,
                                 options.kv_cache_bytes / (options.block_tokens * position_bytes)};
  if (cache_shape.block_count == 0) {
    return Error{"the KV cache of " + std::to_string(options.kv_cache_bytes) + " bytes holds no block of " +
                 std::to_string(options.block_tokens) + " positions of this model (" + std::to_string(position_bytes) +
                 " bytes each)"};
  }
  SamplingParams defaults = defaults_of(checkpoint->generation);
  std::vector<int32_t> eos = checkpoint->generation.eos_token_ids;
  if (eos.empty()) eos = shape.eos_token_ids;
  const size_t max_sequences = std::min(options.max_sequences, options.max_step_tokens);
  auto backend = start_backend(std::move(checkpoint).value(), options, precision, cache_shape, max_sequences);
  if (!backend) return backend.error();
  auto parts = std::make_unique<Parts>(Parts{shape, precision, std::move(backend->kernel), cache_shape,
                                             std::move(backend->forward), std::move(*tokenizer),
                                             std::move(chat_template), std::move(config->special_tokens), defaults});
  std::unique_ptr<GenerativeModel> served(new GenerativeModel(std::move(parts)));
  Parts& owned = *served->parts_;
  auto engine = GenerationEngine::start(
      owned.forward, shape.vocab_size, owned.tokenizer,
      {{cache_shape, options.max_step_tokens, max_sequences, options.static_batching}, std::move(eos)});
  if (!engine) return engine.error();
  served->engine_ = std::move(*engine);
  return served;
}

Result<std::vector<int32_t>> GenerativeModel::text_prompt(std::string_view text) const {
  return parts_->tokenizer.encode(text, true);
}

Result<std::vector<int32_t>> GenerativeModel::chat_prompt(nlohmann::ordered_json variables) const {
  if (!parts_->chat_template) {
    return Error{"this model has no chat template (tokenizer_config.json's chat_template): use /v1/completions"};
  }
  if (!variables.contains("add_generation_prompt")) variables["add_generation_prompt"] = true;
  for (const auto& [name, text] : parts_->special_tokens) {
    if (!variables.contains(name)) variables[name] = text;
  }
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  auto text = parts_->chat_template->render(variables, local);
  if (!text) return Error{"the chat template refused the request: " + text.error().message};
  return parts_->tokenizer.encode(*text, false);
}

GenerativeModel::TokenText GenerativeModel::token_text(int32_t id) const {
  TokenText token;
  // The engine sampled it from the vocabulary, whose every id has bytes.
  if (auto bytes = parts_->tokenizer.token_bytes(id)) token.bytes = std::move(*bytes);
  tokenizer::append_complete_utf8(token.bytes, /*final=*/true, token.text);
  token.special = parts_->tokenizer.is_special(id);
  return token;
}

const SamplingParams& GenerativeModel::defaults() const { return parts_->defaults; }

size_t GenerativeModel::context_length() const {
  const auto& shape = parts_->cache_shape;
  return std::min(parts_->config.max_positions, shape.block_count * shape.block_tokens);
}

Result<uint32_t> GenerativeModel::max_tokens_for(std::optional<uint32_t> asked, size_t prompt_tokens,
                                                 bool fill_context) const {
  const size_t context = context_length();
  const size_t left = prompt_tokens < context ? context - prompt_tokens : 0;
  const size_t wanted = asked ? *asked : fill_context ? left : std::min<size_t>(16, left);
  if (left == 0 || wanted > left) {
    return Error{"This model's maximum context length is " + std::to_string(context) +
                 " tokens. However, you requested " + std::to_string(prompt_tokens + std::max<size_t>(wanted, 1)) +
                 " tokens (" + std::to_string(prompt_tokens) + " in the messages, " +
                 std::to_string(std::max<size_t>(wanted, 1)) +
                 " in the completion). Please reduce the length of the messages or completion."};
  }
  return static_cast<uint32_t>(wanted);
}

const model::DecoderConfig& GenerativeModel::config() const { return parts_->config; }
engine::WeightPrecision GenerativeModel::precision() const { return parts_->precision; }
std::string GenerativeModel::kernel() const { return parts_->kernel; }

}  // namespace tpustack::inferd::generation
