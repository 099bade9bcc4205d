#include "inferd/model/bert_config.h"

#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "common/json/json_document.h"

namespace tpustack::inferd::model {

Result<BertConfig> read_bert_config(const std::filesystem::path& path) {
  auto text = files::read_file_text(path);
  if (!text) return text.error();
  return parse_bert_config(*text, path.string());
}

Result<BertConfig> parse_bert_config(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<BertConfig>(
      text, source, [&](const nlohmann::json& doc) -> Result<BertConfig> {
        if (!doc.is_object()) return Error{source + " is not a JSON object"};
        auto fail = [&](const std::string& what) { return Error{source + ": " + what}; };

        std::string model_type = doc.value("model_type", "");
        if (model_type != "bert") {
          return fail("model_type '" + model_type + "' is not supported (only 'bert' encoders are)");
        }
        BertConfig config;
        for (auto [key, field] :
             {std::pair{"vocab_size", &config.vocab_size}, std::pair{"hidden_size", &config.hidden_size},
              std::pair{"num_hidden_layers", &config.num_layers}, std::pair{"num_attention_heads", &config.num_heads},
              std::pair{"intermediate_size", &config.intermediate_size},
              std::pair{"max_position_embeddings", &config.max_positions}}) {
          if (!doc.contains(key) || !doc[key].is_number_unsigned() || doc[key].get<size_t>() == 0) {
            return fail(std::string("needs a positive integer '") + key + "'");
          }
          *field = doc[key].get<size_t>();
        }
        if (config.hidden_size % config.num_heads != 0)
          return fail("hidden_size is not a multiple of num_attention_heads");
        config.type_vocab_size =
            tpustack::json::json_integer_member<size_t>(doc, "type_vocab_size", config.type_vocab_size);
        config.layer_norm_eps = doc.value("layer_norm_eps", config.layer_norm_eps);

        std::string activation = doc.value("hidden_act", "gelu");
        if (activation == "gelu") {
          config.activation = Activation::gelu;
        } else if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") {
          config.activation = Activation::gelu_tanh;
        } else if (activation == "relu") {
          config.activation = Activation::relu;
        } else {
          return fail("hidden_act '" + activation + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu are)");
        }

        std::string architecture = "BertModel";
        const nlohmann::json& architectures = tpustack::json::member(doc, "architectures");
        if (architectures.is_array() && !architectures.empty()) architecture = architectures[0].get<std::string>();
        if (architecture == "BertForSequenceClassification") {
          config.head = BertHead::sequence_classification;
          const nlohmann::json& labels = tpustack::json::member(doc, "id2label");
          if (labels.is_object()) config.num_labels = labels.size();
          config.num_labels = tpustack::json::json_integer_member<size_t>(doc, "num_labels", config.num_labels);
        } else if (architecture != "BertModel" && architecture != "BertForMaskedLM" &&
                   architecture != "BertForPreTraining") {
          return fail("architecture '" + architecture +
                      "' is not supported (BertModel, BertForSequenceClassification are)");
        }
        return config;
      });
}

}  // namespace tpustack::inferd::model
