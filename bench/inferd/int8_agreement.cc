// How closely the int8 variant follows fp32 on a model directory: embeds the texts of a JSON-lines file (or
// synthetic ids) with both and prints the lowest and median cosine as one JSON line.
//   inferd_int8_agreement --model DIR --texts FILE [--count N]
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inferd/api/encoder_model.h"

int main(int argc, char** argv) {
  std::string model_dir, texts_path;
  size_t count = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--model") model_dir = argv[i + 1];
    if (flag == "--texts") texts_path = argv[i + 1];
    if (flag == "--count") count = std::stoul(argv[i + 1]);
  }
  std::vector<std::string> texts;
  std::ifstream in(texts_path);
  for (std::string line; texts.size() < count && std::getline(in, line);) {
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  }
  if (model_dir.empty() || texts.empty()) {
    std::cerr << "usage: inferd_int8_agreement --model DIR --texts FILE [--count N]\n";
    return 2;
  }
  auto embed = [&](inferd::engine::WeightPrecision precision) {
    auto model = inferd::EncoderModel::load(model_dir, {2, precision});
    if (!model) throw std::runtime_error(model.error().message);
    auto embeddings = model->embed(texts);
    if (!embeddings) throw std::runtime_error(embeddings.error().message);
    return std::move(embeddings).value();
  };
  try {
    const inferd::Embeddings fp32 = embed(inferd::engine::WeightPrecision::f32);
    const inferd::Embeddings int8 = embed(inferd::engine::WeightPrecision::i8);
    std::vector<double> cosines;
    for (size_t i = 0; i < fp32.size(); ++i) {
      double dot = 0, a = 0, b = 0;
      for (size_t c = 0; c < fp32.dimensions; ++c) {
        dot += double(fp32.row(i)[c]) * int8.row(i)[c];
        a += double(fp32.row(i)[c]) * fp32.row(i)[c];
        b += double(int8.row(i)[c]) * int8.row(i)[c];
      }
      cosines.push_back(dot / std::sqrt(a * b));
    }
    std::sort(cosines.begin(), cosines.end());
    std::cout << nlohmann::ordered_json{{"texts", cosines.size()},
                                        {"min_cosine", cosines.front()},
                                        {"median_cosine", cosines[cosines.size() / 2]}}
                     .dump()
              << std::endl;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
