#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "inferd/decoder/decoder_model.h"
#include "inferd/model/decoder_config.h"
#include "inferd/model/safetensors_shards.h"
#include "tests/inferd/tiny_decoders.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::model {
namespace {

using ::testing::HasSubstr;
using testing::tiny_decoder;
using tpustack::testing::FailsWith;
using tpustack::testing::Succeeds;
using tpustack::testing::value_of;

// SmolLM-135M's config.json, as the Hub serves it (less the fields the engine does not read).
const nlohmann::json smollm = {{"architectures", {"LlamaForCausalLM"}},
                               {"model_type", "llama"},
                               {"hidden_size", 576},
                               {"intermediate_size", 1536},
                               {"num_hidden_layers", 30},
                               {"num_attention_heads", 9},
                               {"num_key_value_heads", 3},
                               {"max_position_embeddings", 2048},
                               {"vocab_size", 49152},
                               {"rms_norm_eps", 1e-5},
                               {"rope_theta", 10000.0},
                               {"rope_scaling", nullptr},
                               {"hidden_act", "silu"},
                               {"tie_word_embeddings", true},
                               {"torch_dtype", "bfloat16"},
                               {"bos_token_id", 0},
                               {"eos_token_id", 0},
                               {"pretraining_tp", 1}};

Result<DecoderConfig> parse(const nlohmann::json& doc) { return parse_decoder_config(doc.dump(), "config.json"); }

nlohmann::json edited(nlohmann::json doc, const std::function<void(nlohmann::json&)>& edit) {
  edit(doc);
  return doc;
}

TEST(DecoderConfig, ReadsALlamaConfig) {
  const DecoderConfig config = value_of(parse(smollm));
  EXPECT_EQ(config.family, DecoderFamily::llama);
  EXPECT_EQ(config.hidden_size, 576u);
  EXPECT_EQ(config.intermediate_size, 1536u);
  EXPECT_EQ(config.num_layers, 30u);
  EXPECT_EQ(config.num_heads, 9u);
  EXPECT_EQ(config.num_kv_heads, 3u);
  EXPECT_EQ(config.head_dim, 64u);
  EXPECT_EQ(config.vocab_size, 49152u);
  EXPECT_EQ(config.max_positions, 2048u);
  EXPECT_FLOAT_EQ(config.rms_norm_eps, 1e-5f);
  EXPECT_EQ(config.rope.scaling, RopeScaling::none);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_FALSE(config.qkv_bias);
  EXPECT_FALSE(config.sliding_window.has_value());
  EXPECT_EQ(config.torch_dtype, "bfloat16");
  EXPECT_EQ(config.bos_token_id, 0);
  EXPECT_EQ(config.eos_token_ids, std::vector<int32_t>{0});
}

TEST(DecoderConfig, DefaultsThatHuggingFaceFillsIn) {
  const DecoderConfig config = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    for (const char* key : {"num_key_value_heads", "rms_norm_eps", "rope_theta", "tie_word_embeddings", "hidden_act",
                            "torch_dtype", "bos_token_id", "eos_token_id", "architectures"}) {
      c.erase(key);
    }
  })));
  EXPECT_EQ(config.num_kv_heads, 9u);  // multi-head attention
  EXPECT_FLOAT_EQ(config.rms_norm_eps, 1e-6f);
  EXPECT_DOUBLE_EQ(config.rope.theta, 10000.0);
  EXPECT_FALSE(config.tie_word_embeddings);
  EXPECT_FALSE(config.bos_token_id.has_value());
  EXPECT_TRUE(config.eos_token_ids.empty());
}

TEST(DecoderConfig, ReadsLlama3RopeScalingAndAnExplicitHeadDim) {
  const DecoderConfig config = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    c["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", 32.0},
                         {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 8192}};
    c["head_dim"] = 128;
    c["eos_token_id"] = {128001, 128008, 128009};
  })));
  EXPECT_EQ(config.rope.scaling, RopeScaling::llama3);
  EXPECT_DOUBLE_EQ(config.rope.factor, 32.0);
  EXPECT_DOUBLE_EQ(config.rope.original_max_positions, 8192.0);
  EXPECT_EQ(config.head_dim, 128u);
  EXPECT_EQ(config.eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
}

TEST(DecoderConfig, ReadsTransformersV5RopeParameters) {
  const DecoderConfig config = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    c.erase("rope_theta");
    c.erase("rope_scaling");
    c["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"rope_theta", 500000.0}};
  })));
  EXPECT_EQ(config.rope.scaling, RopeScaling::linear);
  EXPECT_DOUBLE_EQ(config.rope.factor, 2.0);
  EXPECT_DOUBLE_EQ(config.rope.theta, 500000.0);
}

TEST(DecoderConfig, ReadsMistralWindowsAndQwen2Biases) {
  const DecoderConfig mistral = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    c["model_type"] = "mistral";
    c["architectures"] = {"MistralForCausalLM"};
    c["sliding_window"] = 4096;
  })));
  EXPECT_EQ(mistral.family, DecoderFamily::mistral);
  EXPECT_EQ(mistral.sliding_window, 4096u);
  EXPECT_FALSE(mistral.qkv_bias);
  const DecoderConfig unwindowed = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    c["model_type"] = "mistral";
    c["architectures"] = {"MistralForCausalLM"};
    c["sliding_window"] = nullptr;
  })));
  EXPECT_FALSE(unwindowed.sliding_window.has_value());
  const DecoderConfig qwen2 = value_of(parse(edited(smollm, [](nlohmann::json& c) {
    c["model_type"] = "qwen2";
    c["architectures"] = {"Qwen2ForCausalLM"};
    c["use_sliding_window"] = false;
    c["sliding_window"] = 32768;
  })));
  EXPECT_EQ(qwen2.family, DecoderFamily::qwen2);
  EXPECT_TRUE(qwen2.qkv_bias);
  EXPECT_FALSE(qwen2.output_bias);
  EXPECT_FALSE(qwen2.sliding_window.has_value());
  const DecoderConfig biased = value_of(parse(edited(smollm, [](nlohmann::json& c) { c["attention_bias"] = true; })));
  EXPECT_TRUE(biased.qkv_bias);
  EXPECT_TRUE(biased.output_bias);
}

TEST(DecoderConfig, EveryUnsupportedValueIsRefusedNamingFileAndField) {
  const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases = {
      {[](auto& c) { c["model_type"] = "gpt2"; },
       "config.json: model_type 'gpt2' is not supported (llama, mistral and qwen2 decoders are)"},
      {[](auto& c) { c["architectures"] = {"LlamaForSequenceClassification"}; },
       "config.json: architectures 'LlamaForSequenceClassification' is not supported (LlamaForCausalLM is, for "
       "model_type llama)"},
      {[](auto& c) { c["hidden_act"] = "gelu"; }, "config.json: hidden_act 'gelu' is not supported (silu is)"},
      {[](auto& c) {
         c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
       },
       "config.json: rope_scaling.rope_type 'yarn' is not supported (default, linear and llama3 are)"},
      {[](auto& c) {
         c["rope_scaling"] = {{"type", "dynamic"}, {"factor", 4.0}};
       },
       "config.json: rope_scaling.type 'dynamic' is not supported (default, linear and llama3 are)"},
      {[](auto& c) {
         c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
       },
       "config.json: rope_scaling.low_freq_factor is needed by rope_type llama3"},
      {[](auto& c) {
         c["rope_scaling"] = {{"rope_type", "llama3"},
                              {"factor", 8.0},
                              {"low_freq_factor", 4.0},
                              {"high_freq_factor", 1.0},
                              {"original_max_position_embeddings", 8192}};
       },
       "config.json: rope_scaling.high_freq_factor must be greater than low_freq_factor, and both positive"},
      {[](auto& c) {
         c["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 0.0}};
       },
       "config.json: rope_scaling.factor must be positive"},
      {[](auto& c) { c["rope_scaling"] = "linear"; }, "config.json: rope_scaling must be an object or null"},
      {[](auto& c) { c["rope_theta"] = -1.0; }, "config.json: rope_theta must be positive"},
      {[](auto& c) { c["partial_rotary_factor"] = 0.5; },
       "config.json: partial_rotary_factor other than 1 is not supported"},
      {[](auto& c) { c["num_key_value_heads"] = 4; },
       "config.json: num_attention_heads (9) is not a multiple of num_key_value_heads (4)"},
      {[](auto& c) { c["head_dim"] = 63; }, "config.json: head_dim 63 is odd"},
      {[](auto& c) { c["num_attention_heads"] = 7; },
       "config.json: num_attention_heads (7) is not a multiple of num_key_value_heads (3)"},
      {[](auto& c) {
         c["num_attention_heads"] = 7;
         c["num_key_value_heads"] = 7;
       },
       "config.json: hidden_size is not a multiple of num_attention_heads, and no head_dim says the head size"},
      {[](auto& c) { c.erase("vocab_size"); }, "config.json: needs a positive integer 'vocab_size'"},
      {[](auto& c) { c["num_hidden_layers"] = 0; },
       "config.json: num_hidden_layers must be an integer from 1 to 18446744073709551615"},
      {[](auto& c) { c["rms_norm_eps"] = "small"; }, "config.json: rms_norm_eps must be a number"},
      {[](auto& c) { c["rms_norm_eps"] = 0; }, "config.json: rms_norm_eps must be positive"},
      {[](auto& c) { c["mlp_bias"] = true; }, "config.json: mlp_bias true is not supported"},
      {[](auto& c) { c["tie_word_embeddings"] = "yes"; }, "config.json: tie_word_embeddings must be true or false"},
      {[](auto& c) {
         c["quantization_config"] = {{"quant_method", "gptq"}};
       },
       "config.json: quantization_config: quantized checkpoints are not supported"},
      {[](auto& c) { c["torch_dtype"] = "float8_e4m3fn"; },
       "config.json: torch_dtype 'float8_e4m3fn' is not supported (float32, float16 and bfloat16 are)"},
      {[](auto& c) {
         c["eos_token_id"] = {2, -1};
       },
       "config.json: eos_token_id must be an integer from 0 to 2147483647"},
      {[](auto& c) {
         c["model_type"] = "qwen2";
         c["architectures"] = {"Qwen2ForCausalLM"};
         c["use_sliding_window"] = true;
       },
       "config.json: use_sliding_window true is not supported (Qwen2's windows per layer)"},
      {[](auto& c) {
         c["model_type"] = "mistral";
         c["architectures"] = {"MistralForCausalLM"};
         c["sliding_window"] = 0;
       },
       "config.json: sliding_window must be an integer from 1 to 18446744073709551615"},
  };
  for (const auto& [edit, message] : cases) {
    EXPECT_THAT(parse(edited(smollm, edit)), FailsWith(message));
  }
  EXPECT_THAT(parse_decoder_config("[]", "config.json"), FailsWith("config.json is not a JSON object"));
}

TEST(GenerationConfig, ReadsSamplingDefaultsAndEosLists) {
  const GenerationConfig config = value_of(parse_generation_config(
      R"({"bos_token_id": 1, "eos_token_id": [2, 3], "do_sample": true, "temperature": 0.6, "top_p": 0.9,
          "top_k": 20, "repetition_penalty": 1.05, "transformers_version": "4.44.0"})",
      "generation_config.json", {}));
  EXPECT_EQ(config.bos_token_id, 1);
  EXPECT_EQ(config.eos_token_ids, (std::vector<int32_t>{2, 3}));
  EXPECT_TRUE(config.do_sample);
  EXPECT_FLOAT_EQ(config.temperature, 0.6f);
  EXPECT_FLOAT_EQ(config.top_p, 0.9f);
  EXPECT_EQ(config.top_k, 20u);
  EXPECT_FLOAT_EQ(config.repetition_penalty, 1.05f);

  GenerationConfig defaults;
  defaults.eos_token_ids = {7};
  const GenerationConfig sparse = value_of(parse_generation_config(R"({"eos_token_id": 9})", "g.json", defaults));
  EXPECT_EQ(sparse.eos_token_ids, std::vector<int32_t>{9});
  EXPECT_FALSE(sparse.do_sample);
  EXPECT_FLOAT_EQ(sparse.temperature, 1.0f);
  EXPECT_EQ(sparse.top_k, 50u);
}

TEST(GenerationConfig, UnsupportedValuesAreRefusedNamingFileAndField) {
  const auto refused = [](const std::string& text) {
    return parse_generation_config(text, "generation_config.json", {});
  };
  EXPECT_THAT(refused(R"({"top_p": 0})"), FailsWith("generation_config.json: top_p must be in (0, 1]"));
  EXPECT_THAT(refused(R"({"temperature": -1})"), FailsWith("generation_config.json: temperature must not be negative"));
  EXPECT_THAT(refused(R"({"top_k": -1})"),
              FailsWith("generation_config.json: top_k must be an integer from 0 to 18446744073709551615"));
  EXPECT_THAT(refused(R"({"repetition_penalty": 0})"),
              FailsWith("generation_config.json: repetition_penalty must be positive"));
  EXPECT_THAT(refused(R"({"do_sample": "yes"})"), FailsWith("generation_config.json: do_sample must be true or false"));
  EXPECT_THAT(refused(R"({"eos_token_id": "</s>"})"),
              FailsWith("generation_config.json: eos_token_id must be an integer from 0 to 2147483647"));
  EXPECT_THAT(refused("[1]"), FailsWith("generation_config.json is not a JSON object"));
}

// A copy of a tiny decoder directory that the test breaks.
class BrokenDecoderDirectory : public ::testing::Test {
 protected:
  std::filesystem::path copy_of(const std::string& name) {
    auto dir = std::filesystem::path(TPUSTACK_BINARY_DIR) / "inferd-broken-decoder" /
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir.parent_path());
    std::filesystem::copy(tiny_decoder(name), dir, std::filesystem::copy_options::recursive);
    return dir;
  }
  static void edit_json(const std::filesystem::path& path, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json doc = nlohmann::json::parse(std::ifstream(path));
    edit(doc);
    std::ofstream(path) << doc.dump();
  }
  static Result<decoder::DecoderModel> load(const std::filesystem::path& dir) {
    return decoder::DecoderModel::load(dir, {});
  }
};

TEST_F(BrokenDecoderDirectory, ShardedWeightsLoadThroughTheirIndex) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto shards = value_of(SafetensorsShards::open(tiny_decoder("llama3-gqa-sharded")));
  EXPECT_TRUE(shards.contains("model.embed_tokens.weight"));
  EXPECT_TRUE(shards.contains("lm_head.weight"));
  const auto model = value_of(decoder::DecoderModel::load(tiny_decoder("llama3-gqa-sharded"), {}));
  EXPECT_EQ(model.config().num_kv_heads, 2u);
  EXPECT_EQ(model.config().rope.scaling, RopeScaling::llama3);
  EXPECT_FALSE(model.config().tie_word_embeddings);
  EXPECT_EQ(model.generation_config().eos_token_ids, (std::vector<int32_t>{2, 3}));
  EXPECT_FLOAT_EQ(model.generation_config().top_p, 0.9f);
}

TEST_F(BrokenDecoderDirectory, WithoutGenerationConfigTheTokenIdsOfConfigJsonServe) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("llama");
  std::filesystem::remove(dir / "generation_config.json");
  const auto model = value_of(load(dir));
  EXPECT_EQ(model.generation_config().eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(model.generation_config().bos_token_id, 1);
  EXPECT_FALSE(model.generation_config().do_sample);
}

TEST_F(BrokenDecoderDirectory, AnUntiedModelWithoutLmHeadNamesTheTensor) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("llama");
  edit_json(dir / "config.json", [](auto& c) { c["tie_word_embeddings"] = false; });
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("model.safetensors: tensor 'lm_head.weight' is missing")));
}

TEST_F(BrokenDecoderDirectory, AShapeThatDisagreesWithTheConfigNamesShardTensorAndShapes) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("llama3-gqa-sharded");
  edit_json(dir / "config.json", [](auto& c) { c["num_key_value_heads"] = 3; });
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("model-00001-of-00002.safetensors: tensor "
                                             "'model.layers.0.self_attn.k_proj.weight' has shape [32, 96], "
                                             "config.json implies [48, 96]")));
}

TEST_F(BrokenDecoderDirectory, ATensorTheIndexLacksIsNamedWithTheIndex) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("llama3-gqa-sharded");
  edit_json(dir / "model.safetensors.index.json", [](auto& index) { index["weight_map"].erase("model.norm.weight"); });
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("model.safetensors.index.json: tensor 'model.norm.weight' is missing")));
}

TEST_F(BrokenDecoderDirectory, AMissingShardAndAPathOutsideTheDirectoryAreErrors) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("llama3-gqa-sharded");
  std::filesystem::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("model-00002-of-00002.safetensors")));
  edit_json(dir / "model.safetensors.index.json",
            [](auto& index) { index["weight_map"]["model.norm.weight"] = "../model.safetensors"; });
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("model.safetensors.index.json: weight_map['model.norm.weight'] names "
                                             "'../model.safetensors', which is not a file name")));
}

TEST_F(BrokenDecoderDirectory, ABadGenerationConfigIsRefusedAtLoad) {
  INFERD_REQUIRE_TINY_DECODERS();
  const auto dir = copy_of("qwen2");
  edit_json(dir / "generation_config.json", [](auto& g) { g["top_p"] = 1.5; });
  EXPECT_THAT(load(dir), FailsWith(HasSubstr("generation_config.json: top_p must be in (0, 1]")));
}

TEST(DecoderModelLoading, AMissingDirectoryIsAnError) {
  EXPECT_THAT(decoder::DecoderModel::load("/nonexistent/decoder", {}),
              FailsWith("/nonexistent/decoder is not a directory"));
}

}  // namespace
}  // namespace tpustack::inferd::model
