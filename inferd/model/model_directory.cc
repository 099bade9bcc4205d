#include "inferd/model/model_directory.h"

#include <nlohmann/json.hpp>

#include "common/files/file_text.h"

namespace tpustack::inferd::model {

namespace {

Result<nlohmann::json> read_json(const std::filesystem::path& path) {
  auto text = files::read_file_text(path);
  if (!text) return text.error();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return Error{path.string() + " is not valid JSON"};
  return doc;
}

}  // namespace

Result<PoolingChoice> read_pooling(const std::filesystem::path& directory) {
  PoolingChoice choice;
  const auto modules_path = directory / "modules.json";
  if (!std::filesystem::exists(modules_path)) return choice;
  auto modules = read_json(modules_path);
  if (!modules) return modules.error();
  for (const auto& module : *modules) {
    std::string type = module.value("type", "");
    if (type == "sentence_transformers.models.Normalize") choice.normalize = true;
    if (type != "sentence_transformers.models.Pooling") continue;
    const auto pooling_path = directory / module.value("path", "1_Pooling") / "config.json";
    auto pooling = read_json(pooling_path);
    if (!pooling) return pooling.error();
    if (pooling->value("pooling_mode_mean_tokens", false)) {
      choice.pooling = Pooling::mean;
    } else if (pooling->value("pooling_mode_cls_token", false)) {
      choice.pooling = Pooling::cls;
    } else {
      return Error{pooling_path.string() + ": only CLS and mean pooling are supported"};
    }
  }
  return choice;
}

namespace {

Result<tokenizer::Tokenizer> read_tokenizer(const std::filesystem::path& directory) {
  if (std::filesystem::exists(directory / "tokenizer.json")) {
    return tokenizer::Tokenizer::from_tokenizer_json(directory / "tokenizer.json");
  }
  bool lowercase = true;
  if (std::filesystem::exists(directory / "tokenizer_config.json")) {
    auto config = read_json(directory / "tokenizer_config.json");
    if (!config) return config.error();
    lowercase = config->value("do_lower_case", true);
  }
  return tokenizer::Tokenizer::from_vocab_txt(directory / "vocab.txt", lowercase);
}

}  // namespace

Result<ModelDirectory> load_model_directory(const std::filesystem::path& directory) {
  if (!std::filesystem::is_directory(directory)) return Error{directory.string() + " is not a directory"};
  auto config = read_bert_config(directory / "config.json");
  if (!config) return config.error();
  auto file = SafetensorsFile::open(directory / "model.safetensors");
  if (!file) return file.error();
  auto weights = load_bert_weights(*file, *config);
  if (!weights) return weights.error();
  auto tokenizer = read_tokenizer(directory);
  if (!tokenizer) return tokenizer.error();
  auto pooling = read_pooling(directory);
  if (!pooling) return pooling.error();
  return ModelDirectory{std::move(weights).value(), std::move(tokenizer).value(), pooling->pooling, pooling->normalize};
}

}  // namespace tpustack::inferd::model
