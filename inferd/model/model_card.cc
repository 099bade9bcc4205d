#include "inferd/model/model_card.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "inferd/model/model_directory.h"

namespace tpustack::inferd::model {

namespace {

using nlohmann::json;

Result<json> parse_object(std::string_view text, const std::string& source) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Error{source + " is not a JSON object"};
  return doc;
}

// id2label's keys are decimal ids as strings ("0", "1", ...): ordered by their value, not as text.
std::vector<std::string> labels_of(const json& doc) {
  std::vector<std::string> labels;
  if (doc.contains("id2label") && doc["id2label"].is_object()) {
    std::map<long, std::string> by_id;
    for (const auto& [id, label] : doc["id2label"].items()) {
      if (label.is_string()) by_id[std::strtol(id.c_str(), nullptr, 10)] = label.get<std::string>();
    }
    for (auto& [id, label] : by_id) labels.push_back(std::move(label));
  }
  if (labels.empty()) {
    const size_t count =
        doc.contains("num_labels") && doc["num_labels"].is_number_unsigned() ? doc["num_labels"].get<size_t>() : 1;
    for (size_t i = 0; i < count; ++i) labels.push_back("LABEL_" + std::to_string(i));
  }
  return labels;
}

}  // namespace

Result<ModelCard> parse_model_config(std::string_view text, const std::string& source) {
  auto doc = parse_object(text, source);
  if (!doc) return doc.error();
  ModelCard card;
  if (doc->contains("architectures") && (*doc)["architectures"].is_array()) {
    for (const json& architecture : (*doc)["architectures"]) {
      if (!architecture.is_string()) continue;
      card.classifier = card.classifier || architecture.get<std::string>().ends_with("ForSequenceClassification");
      card.generator = card.generator || architecture.get<std::string>().ends_with("ForCausalLM");
    }
  }
  // A decoder's config.json without architectures still names its model_type.
  if (const auto type = doc->value("model_type", json()); type.is_string() && !card.classifier) {
    for (const char* decoder : {"llama", "mistral", "qwen2"}) card.generator = card.generator || type == decoder;
  }
  if (card.classifier) card.labels = labels_of(*doc);
  if (doc->contains("max_position_embeddings") && (*doc)["max_position_embeddings"].is_number_unsigned()) {
    card.max_input_length = (*doc)["max_position_embeddings"].get<size_t>();
  }
  return card;
}

Result<void> parse_prompts(std::string_view text, const std::string& source, ModelCard& card) {
  auto doc = parse_object(text, source);
  if (!doc) return doc.error();
  if (doc->contains("prompts") && (*doc)["prompts"].is_object()) {
    for (const auto& [name, prompt] : (*doc)["prompts"].items()) {
      if (!prompt.is_string()) return Error{source + ": prompt \"" + name + "\" is not a string"};
      card.prompts[name] = prompt.get<std::string>();
    }
  }
  if (doc->contains("default_prompt_name") && (*doc)["default_prompt_name"].is_string()) {
    card.default_prompt_name = (*doc)["default_prompt_name"].get<std::string>();
  }
  return {};
}

Result<ModelCard> read_model_card(const std::filesystem::path& directory) {
  const auto config_path = directory / "config.json";
  auto config = files::read_optional_file_text(config_path);
  if (!config) return config.error();
  Result<ModelCard> card = *config ? parse_model_config(**config, config_path.string()) : ModelCard{};
  if (!card) return card;
  const auto prompts_path = directory / "config_sentence_transformers.json";
  auto prompts = files::read_optional_file_text(prompts_path);
  if (!prompts) return prompts.error();
  if (*prompts) {
    if (auto parsed = parse_prompts(**prompts, prompts_path.string(), *card); !parsed) return parsed.error();
  }
  auto pooling = read_pooling(directory);
  if (!pooling) return pooling.error();
  card->pooling = pooling->pooling == Pooling::mean ? "mean" : "cls";
  return card;
}

Result<std::string> prompt_text(const ModelCard& card, const std::optional<std::string>& name) {
  const std::string& chosen = name ? *name : card.default_prompt_name;
  if (chosen.empty()) return std::string();
  auto found = card.prompts.find(chosen);
  if (found != card.prompts.end()) return found->second;
  std::string known;
  for (const auto& [known_name, text] : card.prompts) known += (known.empty() ? "" : ", ") + known_name;
  return Error{"the model has no prompt named \"" + chosen + "\"" +
               (known.empty() ? std::string(" (it has no prompts)") : " (it has: " + known + ")")};
}

}  // namespace tpustack::inferd::model
