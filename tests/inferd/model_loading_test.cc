#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "inferd/model/model_directory.h"
#include "tests/inferd/tiny_models.h"

namespace inferd::model {
namespace {

using inferd::testing::tiny_model;

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

TEST(ModelDirectoryLoading, MissingDirectoryIsAnError) {
  auto loaded = load_model_directory("/nonexistent/model");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("/nonexistent/model"), std::string::npos);
}

}  // namespace
}  // namespace inferd::model
