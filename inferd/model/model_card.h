#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::model {

// What a model directory tells a server before its weights load: the head (and so the tasks), the labels, the
// pooling, the longest input and the sentence-transformers prompts. Read from the directory's small JSON files.
struct ModelCard {
  bool classifier = false;                     // config.json names a *ForSequenceClassification architecture
  bool generator = false;                      // a decoder that generates text (*ForCausalLM): llama, mistral, qwen2
  std::vector<std::string> labels;             // a classifier's id2label, in id order
  std::string pooling = "cls";                 // "cls" or "mean", from modules.json
  size_t max_input_length = 0;                 // max_position_embeddings; 0 when config.json does not say
  std::map<std::string, std::string> prompts;  // config_sentence_transformers.json "prompts": name -> text
  std::string default_prompt_name;             // "" when there is none
};

// Missing files and fields leave the defaults; a file that is not JSON is an error naming it.
Result<ModelCard> read_model_card(const std::filesystem::path& directory);
// config.json's text: the head and labels (from id2label, else num_labels as LABEL_i), and the longest input.
Result<ModelCard> parse_model_config(std::string_view text, const std::string& source);
// config_sentence_transformers.json's text into `card`'s prompts and default prompt name.
Result<void> parse_prompts(std::string_view text, const std::string& source, ModelCard& card);

// The text that goes before each input: the prompt `name` names, else the default prompt, else nothing (as
// sentence-transformers' encode does). An unknown name is an error listing the known ones.
Result<std::string> prompt_text(const ModelCard& card, const std::optional<std::string>& name);

}  // namespace tpustack::inferd::model
