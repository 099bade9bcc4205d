#include "inferd/tokenizer/post_processor.h"

#include <string>
#include <utility>

#include "common/json/json_document.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::json::member;

Result<TemplateItem> parse_template_item(const json& item, const json& special_tokens) {
  if (item.contains("Sequence")) {
    const json& sequence = item["Sequence"];
    return TemplateItem{true, sequence.value("id", "A") == "B" ? 1 : 0, -1,
                        tpustack::json::json_integer_member<TokenId>(sequence, "type_id", 0, 0)};
  }
  if (item.contains("SpecialToken")) {
    const json& special = item["SpecialToken"];
    std::string name = special.value("id", "");
    const json& ids = member(member(special_tokens, name), "ids");
    if (!ids.is_array() || ids.size() != 1) {
      return Error{"post_processor special token '" + name + "' must map to exactly one id"};
    }
    return TemplateItem{false, 0, tpustack::json::json_integer<TokenId>(ids[0], "special token ids", 0),
                        tpustack::json::json_integer_member<TokenId>(special, "type_id", 0, 0)};
  }
  return Error{"post_processor template item is neither Sequence nor SpecialToken: " + item.dump()};
}

}  // namespace

Result<PostProcessor> parse_template_processing(const json& processor) {
  PostProcessor result;
  for (auto [key, items] : {std::pair{"single", &result.single}, std::pair{"pair", &result.pair}}) {
    for (const json& item : member(processor, key)) {
      auto parsed = parse_template_item(item, member(processor, "special_tokens"));
      if (!parsed) return parsed.error();
      items->push_back(*parsed);
    }
  }
  return result;
}

}  // namespace tpustack::inferd::tokenizer
