#pragma once

#include <span>
#include <string>
#include <vector>

namespace tpustack::inferd::server {

// One label's score, as TEI's /predict answers it.
struct Prediction {
  std::string label;
  float score = 0;
};

// A classifier's logits for one input as labelled scores, best first: probabilities (softmax over the labels, or the
// sigmoid of a single logit, as TEI does) unless `raw_scores`.
std::vector<Prediction> predictions(std::span<const float> logits, const std::vector<std::string>& labels,
                                    bool raw_scores);

}  // namespace tpustack::inferd::server
