#include "inferd/model/decoder_config.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "common/json/json_document.h"

namespace tpustack::inferd::model {

namespace {

using nlohmann::json;
using tpustack::json::JsonValueError;
using tpustack::json::member;

constexpr int32_t largest_token_id = std::numeric_limits<int32_t>::max();

// object[key] as a number, or `fallback` where it is absent or null.
double number_member(const json& object, const std::string& key, double fallback) {
  const json& value = member(object, key);
  if (value.is_null()) return fallback;
  if (!value.is_number()) throw JsonValueError(key + " must be a number");
  return value.get<double>();
}

std::string string_member(const json& object, const std::string& key, const std::string& fallback) {
  const json& value = member(object, key);
  if (value.is_null()) return fallback;
  if (!value.is_string()) throw JsonValueError(key + " must be a string");
  return value.get<std::string>();
}

bool bool_member(const json& object, const std::string& key, bool fallback) {
  const json& value = member(object, key);
  if (value.is_null()) return fallback;
  if (!value.is_boolean()) throw JsonValueError(key + " must be true or false");
  return value.get<bool>();
}

size_t positive_member(const json& object, const std::string& key) {
  const json& value = member(object, key);
  if (value.is_null()) throw JsonValueError("needs a positive integer '" + key + "'");
  return tpustack::json::json_integer<size_t>(value, key, 1);
}

// eos_token_id: one id, a list of them, or null.
std::vector<int32_t> token_ids_member(const json& object, const std::string& key, std::vector<int32_t> fallback) {
  const json& value = member(object, key);
  if (value.is_null()) return fallback;
  if (!value.is_array()) return {tpustack::json::json_integer<int32_t>(value, key, 0, largest_token_id)};
  std::vector<int32_t> ids;
  for (const json& id : value) ids.push_back(tpustack::json::json_integer<int32_t>(id, key, 0, largest_token_id));
  return ids;
}

std::optional<int32_t> token_id_member(const json& object, const std::string& key, std::optional<int32_t> fallback) {
  const json& value = member(object, key);
  if (value.is_null()) return fallback;
  return tpustack::json::json_integer<int32_t>(value, key, 0, largest_token_id);
}

// transformers writes rope_parameters (theta included) since v5 and rope_scaling + rope_theta before; "type" is the
// older spelling of rope_type.
RopeConfig read_rope(const json& doc) {
  RopeConfig rope;
  const bool parameters = member(doc, "rope_parameters").is_object();
  const std::string field = parameters ? "rope_parameters" : "rope_scaling";
  const json& scaling = member(doc, field);
  rope.theta = number_member(parameters ? scaling : doc, "rope_theta", rope.theta);
  if (!(rope.theta > 0.0)) throw JsonValueError("rope_theta must be positive");
  if (scaling.is_null()) return rope;
  if (!scaling.is_object()) throw JsonValueError(field + " must be an object or null");
  const std::string type_key = scaling.contains("rope_type") ? "rope_type" : "type";
  const std::string type = string_member(scaling, type_key, "default");
  const auto required = [&](const std::string& key) {
    if (member(scaling, key).is_null()) throw JsonValueError(field + "." + key + " is needed by rope_type " + type);
    return number_member(scaling, key, 0.0);
  };
  if (type == "default") return rope;
  if (type != "linear" && type != "llama3") {
    throw JsonValueError(field + "." + type_key + " '" + type + "' is not supported (default, linear and llama3 are)");
  }
  rope.factor = required("factor");
  if (!(rope.factor > 0.0)) throw JsonValueError(field + ".factor must be positive");
  if (type == "linear") {
    rope.scaling = RopeScaling::linear;
    return rope;
  }
  rope.scaling = RopeScaling::llama3;
  rope.low_freq_factor = required("low_freq_factor");
  rope.high_freq_factor = required("high_freq_factor");
  rope.original_max_positions = required("original_max_position_embeddings");
  if (!(rope.high_freq_factor > rope.low_freq_factor) || !(rope.low_freq_factor > 0.0)) {
    throw JsonValueError(field + ".high_freq_factor must be greater than low_freq_factor, and both positive");
  }
  if (!(rope.original_max_positions > 0.0)) {
    throw JsonValueError(field + ".original_max_position_embeddings must be positive");
  }
  return rope;
}

DecoderFamily read_family(const json& doc) {
  const std::string model_type = string_member(doc, "model_type", "");
  for (auto family : {DecoderFamily::llama, DecoderFamily::mistral, DecoderFamily::qwen2}) {
    if (family_name(family) != model_type) continue;
    const std::string causal_lm = family == DecoderFamily::llama     ? "LlamaForCausalLM"
                                  : family == DecoderFamily::mistral ? "MistralForCausalLM"
                                                                     : "Qwen2ForCausalLM";
    const json& architectures = member(doc, "architectures");
    if (!architectures.is_array() || architectures.empty()) return family;
    if (!architectures[0].is_string()) throw JsonValueError("architectures must be a list of strings");
    const std::string architecture = architectures[0].get<std::string>();
    if (architecture != causal_lm) {
      throw JsonValueError("architectures '" + architecture + "' is not supported (" + causal_lm +
                           " is, for model_type " + model_type + ")");
    }
    return family;
  }
  throw JsonValueError("model_type '" + model_type + "' is not supported (llama, mistral and qwen2 decoders are)");
}

DecoderConfig read_config(const json& doc) {
  DecoderConfig config;
  config.family = read_family(doc);
  config.vocab_size = positive_member(doc, "vocab_size");
  config.hidden_size = positive_member(doc, "hidden_size");
  config.intermediate_size = positive_member(doc, "intermediate_size");
  config.num_layers = positive_member(doc, "num_hidden_layers");
  config.num_heads = positive_member(doc, "num_attention_heads");
  config.max_positions = positive_member(doc, "max_position_embeddings");
  config.num_kv_heads =
      member(doc, "num_key_value_heads").is_null() ? config.num_heads : positive_member(doc, "num_key_value_heads");
  if (config.num_heads % config.num_kv_heads != 0) {
    throw JsonValueError("num_attention_heads (" + std::to_string(config.num_heads) +
                         ") is not a multiple of num_key_value_heads (" + std::to_string(config.num_kv_heads) + ")");
  }
  if (member(doc, "head_dim").is_null()) {
    if (config.hidden_size % config.num_heads != 0) {
      throw JsonValueError("hidden_size is not a multiple of num_attention_heads, and no head_dim says the head size");
    }
    config.head_dim = config.hidden_size / config.num_heads;
  } else {
    config.head_dim = positive_member(doc, "head_dim");
  }
  if (config.head_dim % 2 != 0) throw JsonValueError("head_dim " + std::to_string(config.head_dim) + " is odd");
  config.rms_norm_eps = static_cast<float>(number_member(doc, "rms_norm_eps", config.rms_norm_eps));
  if (!(config.rms_norm_eps > 0.0f)) throw JsonValueError("rms_norm_eps must be positive");
  config.rope = read_rope(doc);
  if (number_member(doc, "partial_rotary_factor", 1.0) != 1.0) {
    throw JsonValueError("partial_rotary_factor other than 1 is not supported");
  }

  const std::string activation = string_member(doc, "hidden_act", "silu");
  if (activation != "silu") throw JsonValueError("hidden_act '" + activation + "' is not supported (silu is)");
  if (bool_member(doc, "mlp_bias", false)) throw JsonValueError("mlp_bias true is not supported");
  if (!member(doc, "quantization_config").is_null()) {
    throw JsonValueError("quantization_config: quantized checkpoints are not supported");
  }
  config.tie_word_embeddings = bool_member(doc, "tie_word_embeddings", false);
  if (config.family == DecoderFamily::qwen2) {
    config.qkv_bias = true;
    if (bool_member(doc, "use_sliding_window", false)) {
      throw JsonValueError("use_sliding_window true is not supported (Qwen2's windows per layer)");
    }
  } else if (config.family == DecoderFamily::llama) {
    config.qkv_bias = config.output_bias = bool_member(doc, "attention_bias", false);
  } else if (!member(doc, "sliding_window").is_null()) {
    config.sliding_window = positive_member(doc, "sliding_window");
  }

  const std::string dtype_key = member(doc, "torch_dtype").is_null() ? "dtype" : "torch_dtype";
  config.torch_dtype = string_member(doc, dtype_key, "");
  if (!config.torch_dtype.empty()) {
    if (config.torch_dtype != "float32" && config.torch_dtype != "float16" && config.torch_dtype != "bfloat16") {
      throw JsonValueError(dtype_key + " '" + config.torch_dtype +
                           "' is not supported (float32, float16 and bfloat16 are)");
    }
  }
  config.bos_token_id = token_id_member(doc, "bos_token_id", std::nullopt);
  config.eos_token_ids = token_ids_member(doc, "eos_token_id", {});
  return config;
}

}  // namespace

std::string_view family_name(DecoderFamily family) {
  switch (family) {
    case DecoderFamily::mistral:
      return "mistral";
    case DecoderFamily::qwen2:
      return "qwen2";
    case DecoderFamily::llama:
      break;
  }
  return "llama";
}

Result<DecoderConfig> read_decoder_config(const std::filesystem::path& path) {
  auto text = files::read_file_text(path);
  if (!text) return text.error();
  return parse_decoder_config(*text, path.string());
}

Result<DecoderConfig> parse_decoder_config(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<DecoderConfig>(text, source, [&](const json& doc) -> Result<DecoderConfig> {
    if (!doc.is_object()) {
      return Error{source + " is not a JSON object"};
    }
    return read_config(doc);
  });
}

Result<GenerationConfig> read_generation_config(const std::filesystem::path& directory, const DecoderConfig& config) {
  GenerationConfig defaults;
  defaults.bos_token_id = config.bos_token_id;
  defaults.eos_token_ids = config.eos_token_ids;
  const auto path = directory / "generation_config.json";
  auto text = files::read_optional_file_text(path);
  if (!text) return text.error();
  if (!*text) return defaults;
  return parse_generation_config(**text, path.string(), std::move(defaults));
}

Result<GenerationConfig> parse_generation_config(std::string_view text, const std::string& source,
                                                 GenerationConfig defaults) {
  return tpustack::json::read_json_document<GenerationConfig>(
      text, source, [&](const json& doc) -> Result<GenerationConfig> {
        if (!doc.is_object()) return Error{source + " is not a JSON object"};
        GenerationConfig config = std::move(defaults);
        config.bos_token_id = token_id_member(doc, "bos_token_id", config.bos_token_id);
        config.eos_token_ids = token_ids_member(doc, "eos_token_id", config.eos_token_ids);
        config.do_sample = bool_member(doc, "do_sample", config.do_sample);
        config.temperature = static_cast<float>(number_member(doc, "temperature", config.temperature));
        config.top_p = static_cast<float>(number_member(doc, "top_p", config.top_p));
        config.top_k = tpustack::json::json_integer_member<size_t>(doc, "top_k", config.top_k);
        config.repetition_penalty =
            static_cast<float>(number_member(doc, "repetition_penalty", config.repetition_penalty));
        if (!(config.temperature >= 0.0f)) return Error{source + ": temperature must not be negative"};
        if (!(config.top_p > 0.0f && config.top_p <= 1.0f)) return Error{source + ": top_p must be in (0, 1]"};
        if (!(config.repetition_penalty > 0.0f)) return Error{source + ": repetition_penalty must be positive"};
        return config;
      });
}

}  // namespace tpustack::inferd::model
