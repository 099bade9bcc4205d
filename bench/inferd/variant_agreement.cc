// How closely a variant follows fp32 on a model directory: embeds the texts of a JSON-lines file with both and
// prints the lowest and median cosine as one JSON line.
//   inferd_variant_agreement --model DIR --texts FILE [--count N] [--variant i8|bf16]
#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/cli/command_line.h"
#include "inferd/encoder/encoder_model.h"
#include "inferd/engine/variant_choice.h"

int main(int argc, char** argv) {
  CLI::App app("Cosine of a variant's embeddings to fp32's on real texts; prints one JSON line",
               "inferd_variant_agreement");
  std::string model_dir, texts_path, variant = "i8";
  size_t count = 64;
  app.add_option("--model", model_dir, "model directory")->required();
  app.add_option("--texts", texts_path, "JSON lines {\"text\": ...}")->required();
  app.add_option("--count", count, "texts to embed")->capture_default_str();
  app.add_option("--variant", variant, "the variant to compare with f32")
      ->capture_default_str()
      ->check(CLI::IsMember({"i8", "bf16"}));
  if (auto code = tpustack::cli::parse_command_line(app, argc, argv)) return *code;

  std::vector<std::string> texts;
  std::ifstream in(texts_path);
  for (std::string line; texts.size() < count && std::getline(in, line);) {
    if (line.empty()) continue;
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_object() || !doc.contains("text") || !doc["text"].is_string()) {
      std::cerr << texts_path << ": a line is not {\"text\": \"...\"}\n";
      return 1;
    }
    texts.push_back(doc["text"].get<std::string>());
  }
  if (texts.empty()) {
    std::cerr << texts_path << ": no texts\n";
    return 1;
  }
  std::vector<std::vector<float>> embeddings;
  size_t dimensions = 0;
  for (auto precision :
       {tpustack::inferd::engine::WeightPrecision::f32, *tpustack::inferd::engine::parse_precision(variant)}) {
    auto model = tpustack::inferd::EncoderModel::load(model_dir, {2, precision});
    if (!model) {
      std::cerr << model.error().message << "\n";
      return 1;
    }
    // One text at a time, as the cosines are per text.
    std::vector<float> rows;
    for (const std::string& text : texts) {
      auto embedded = model->embed(std::vector{text});
      if (!embedded) {
        std::cerr << embedded.error().message << "\n";
        return 1;
      }
      rows.insert(rows.end(), embedded->values.begin(), embedded->values.end());
      dimensions = embedded->dimensions;
    }
    embeddings.push_back(std::move(rows));
  }
  std::vector<double> cosines;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto row = [&](const std::vector<float>& all) {
      return std::span<const float>(all.data() + i * dimensions, dimensions);
    };
    cosines.push_back(tpustack::inferd::engine::min_row_cosine(row(embeddings[0]), row(embeddings[1]), dimensions));
  }
  std::sort(cosines.begin(), cosines.end());
  std::cout << nlohmann::ordered_json{{"variant", variant},
                                      {"texts", cosines.size()},
                                      {"min_cosine", cosines.front()},
                                      {"median_cosine", cosines[cosines.size() / 2]}}
                   .dump()
            << std::endl;
}
