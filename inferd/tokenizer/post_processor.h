#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"
#include "inferd/tokenizer/wordpiece.h"

namespace tpustack::inferd::tokenizer {

// One element of a post-processing template: a special token, or the pieces of sequence A (0) or B (1).
struct TemplateItem {
  bool is_sequence = false;
  int sequence = 0;
  TokenId special_id = -1;
  TokenId type_id = 0;
};

struct PostProcessor {
  std::vector<TemplateItem> single;
  std::vector<TemplateItem> pair;
};

// tokenizer.json's TemplateProcessing post-processor (the caller has checked its type).
Result<PostProcessor> parse_template_processing(const nlohmann::json& processor);

}  // namespace tpustack::inferd::tokenizer
