#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/model/bert_config.h"
#include "inferd/model/model_directory.h"
#include "inferd/model/safetensors_file.h"
#include "tests/inferd/tiny_models.h"

namespace tpustack::inferd::model {
namespace {

using tpustack::inferd::testing::tiny_model;

class BrokenModelDirectory : public ::testing::Test {
 protected:
  // A copy of a tiny model whose config.json the test edits.
  std::filesystem::path copy_with_config(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    auto dir = std::filesystem::path(TPUSTACK_BINARY_DIR) / "inferd-broken-model" /
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir.parent_path());
    std::filesystem::copy(tiny_model(name), dir, std::filesystem::copy_options::recursive);
    nlohmann::json config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
    edit(config);
    std::ofstream(dir / "config.json") << config.dump();
    return dir;
  }
};

TEST(ModelDirectoryLoading, ReadsPoolingNormalizationAndHeadFromTheDirectory) {
  INFERD_REQUIRE_TINY_MODELS();
  auto mean = load_model_directory(tiny_model("f32-mean"));
  ASSERT_TRUE(mean.ok()) << mean.error().message;
  EXPECT_EQ(mean->pooling, Pooling::mean);
  EXPECT_TRUE(mean->normalize);
  EXPECT_EQ(mean->weights.config.num_layers, 2u);
  auto cls = load_model_directory(tiny_model("f16-cls"));
  ASSERT_TRUE(cls.ok()) << cls.error().message;
  EXPECT_EQ(cls->pooling, Pooling::cls);
  EXPECT_FALSE(cls->normalize);
  auto cross = load_model_directory(tiny_model("cross-encoder"));
  ASSERT_TRUE(cross.ok()) << cross.error().message;
  EXPECT_EQ(cross->weights.config.head, BertHead::sequence_classification);
  EXPECT_TRUE(cross->weights.classifier.has_value());
}

TEST_F(BrokenModelDirectory, MissingTensorNamesFileAndTensor) {
  INFERD_REQUIRE_TINY_MODELS();
  auto dir = copy_with_config("f32-mean", [](nlohmann::json& c) { c["num_hidden_layers"] = 3; });
  auto loaded = load_model_directory(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("model.safetensors"), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("bert.encoder.layer.2.attention.self.query.weight"), std::string::npos)
      << loaded.error().message;
}

TEST_F(BrokenModelDirectory, ShapeMismatchNamesTheTensorAndBothShapes) {
  INFERD_REQUIRE_TINY_MODELS();
  auto dir = copy_with_config("f16-cls", [](nlohmann::json& c) { c["intermediate_size"] = 48; });
  auto loaded = load_model_directory(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("encoder.layer.0.intermediate.dense.weight' has shape [64, 32]"),
            std::string::npos)
      << loaded.error().message;
}

TEST_F(BrokenModelDirectory, UnsupportedArchitectureIsRejectedNamingConfigJson) {
  INFERD_REQUIRE_TINY_MODELS();
  auto dir = copy_with_config("f32-mean", [](nlohmann::json& c) { c["model_type"] = "roberta"; });
  auto loaded = load_model_directory(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("config.json"), std::string::npos);
  EXPECT_NE(loaded.error().message.find("roberta"), std::string::npos);
}

TEST(ModelConfig, ValuesOfTheWrongTypeAreErrorsNamingTheFile) {
  const nlohmann::json base = {{"model_type", "bert"},         {"vocab_size", 128},        {"hidden_size", 32},
                               {"num_hidden_layers", 2},       {"num_attention_heads", 4}, {"intermediate_size", 64},
                               {"max_position_embeddings", 64}};
  ASSERT_TRUE(parse_bert_config(base.dump(), "config.json").ok());
  const auto rejected = [&](const char* key, const nlohmann::json& value) {
    nlohmann::json doc = base;
    doc[key] = value;
    auto config = parse_bert_config(doc.dump(), "config.json");
    EXPECT_FALSE(config.ok()) << key;
    return config.ok() ? std::string() : config.error().message;
  };
  EXPECT_EQ(rejected("model_type", 3), "config.json: type must be string, but is number");
  EXPECT_EQ(rejected("type_vocab_size", 1e300),
            "config.json: type_vocab_size must be an integer from 0 to 18446744073709551615");
  EXPECT_EQ(rejected("architectures", {7}), "config.json: type must be string, but is number");
  EXPECT_EQ(parse_bert_config("[1, 2]", "config.json").error().message, "config.json is not a JSON object");
}

TEST(Safetensors, ShapesWhoseByteSizeWrapsAroundAreErrors) {
  // 2^62 + 1 four-byte elements wrap around to 4 bytes, the size of the data.
  const std::string header = R"({"w": {"dtype": "F32", "shape": [4611686018427387905], "data_offsets": [0, 4]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header + std::string(4, '\0');
  auto file = SafetensorsFile::parse(bytes, "model.safetensors");
  ASSERT_TRUE(file.ok()) << file.error().message;
  auto tensor = file->read_f32("w", {4611686018427387905u});
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(tensor.error().message, "model.safetensors: tensor 'w' has a byte size that does not match its shape");
}

TEST(Safetensors, HeadersOfTheWrongShapeAreErrors) {
  const auto rejected = [](const std::string& header) {
    std::string bytes(8, '\0');
    bytes[0] = static_cast<char>(header.size());
    auto file = SafetensorsFile::parse(bytes + header, "model.safetensors");
    EXPECT_FALSE(file.ok()) << header;
    return file.ok() ? std::string() : file.error().message;
  };
  EXPECT_EQ(rejected(R"({"w": 1})"), "model.safetensors: tensor 'w' is not described by an object");
  EXPECT_EQ(rejected(R"({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}})"),
            "model.safetensors header: tensor 'w' shape must be an integer from 0 to 18446744073709551615");
  EXPECT_EQ(rejected(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})"),
            "model.safetensors: tensor 'w' needs data_offsets [begin, end]");
}

TEST(ModelDirectoryLoading, MissingDirectoryIsAnError) {
  auto loaded = load_model_directory("/nonexistent/model");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("/nonexistent/model"), std::string::npos);
}

}  // namespace
}  // namespace tpustack::inferd::model
