#include "inferd/server/predictions.h"

#include <algorithm>
#include <cmath>

namespace tpustack::inferd::server {

std::vector<Prediction> predictions(std::span<const float> logits, const std::vector<std::string>& labels,
                                    bool raw_scores) {
  std::vector<float> scores(logits.begin(), logits.end());
  if (!raw_scores && scores.size() == 1) {
    scores[0] = 1.0f / (1.0f + std::exp(-scores[0]));
  } else if (!raw_scores && !scores.empty()) {
    const float top = *std::max_element(scores.begin(), scores.end());
    double sum = 0;
    for (float& s : scores) sum += (s = std::exp(s - top));
    for (float& s : scores) s = static_cast<float>(s / sum);
  }
  std::vector<Prediction> answer;
  for (size_t i = 0; i < scores.size(); ++i) {
    answer.push_back({i < labels.size() ? labels[i] : "LABEL_" + std::to_string(i), scores[i]});
  }
  std::stable_sort(answer.begin(), answer.end(),
                   [](const Prediction& a, const Prediction& b) { return a.score > b.score; });
  return answer;
}

}  // namespace tpustack::inferd::server
