#include "inferd/tokenizer/bpe_tokenizer.h"

#include <algorithm>

#include "common/json/json_document.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::json::member;

std::vector<AddedTokenSpec> only(const std::vector<AddedTokenSpec>& tokens, bool normalized) {
  std::vector<AddedTokenSpec> out;
  std::copy_if(tokens.begin(), tokens.end(), std::back_inserter(out),
               [&](const AddedTokenSpec& token) { return token.normalized == normalized; });
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_merges(const json& merges) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const json& merge : merges) {
    // "a b" in older files, ["a", "b"] in newer ones (whose parts may hold spaces).
    if (merge.is_string()) {
      const std::string& text = merge.get_ref<const std::string&>();
      const size_t space = text.find(' ', 1);
      if (space == std::string::npos) return Error{"model.merges entry \"" + text + "\" is not two tokens"};
      out.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2) {
      out.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return Error{"model.merges entries must be \"a b\" or [a, b]"};
    }
  }
  return out;
}

Result<BpeModel> parse_model(const json& model) {
  const json& vocab_json = member(model, "vocab");
  if (!vocab_json.is_object()) return Error{"model.vocab must map tokens to ids"};
  Vocabulary vocab;
  vocab.reserve(vocab_json.size());
  for (auto& [token, id] : vocab_json.items()) {
    vocab.emplace(token, tpustack::json::json_integer<TokenId>(id, "model.vocab ids", 0));
  }
  auto merges = parse_merges(member(model, "merges"));
  if (!merges) return merges.error();
  const json& dropout = member(model, "dropout");
  if (!dropout.is_null() && dropout.get<double>() != 0.0) return Error{"model.dropout is not supported"};
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json& value = member(model, affix);
    if (!value.is_null() && !value.get<std::string>().empty()) {
      return Error{std::string("model.") + affix + " is not supported"};
    }
  }
  BpeOptions options;
  const json& unk = member(model, "unk_token");
  if (!unk.is_null()) options.unk_token = unk.get<std::string>();
  options.byte_fallback = model.value("byte_fallback", false);
  options.fuse_unk = model.value("fuse_unk", false);
  options.ignore_merges = model.value("ignore_merges", false);
  return BpeModel::create(std::move(vocab), *merges, std::move(options));
}

// The template of a post_processor: TemplateProcessing's, none for ByteLevel (which only moves offsets) or null,
// and a Sequence's TemplateProcessing.
Result<PostProcessor> parse_post_processor(const json& processor) {
  if (processor.is_null()) return PostProcessor{};
  const std::string type = processor.value("type", "");
  if (type == "TemplateProcessing") return parse_template_processing(processor);
  if (type == "ByteLevel") return PostProcessor{};
  if (type == "Sequence") {
    PostProcessor result;
    for (const json& inner : member(processor, "processors")) {
      auto parsed = parse_post_processor(inner);
      if (!parsed) return parsed.error();
      if (!parsed->single.empty()) result = std::move(parsed).value();
    }
    return result;
  }
  return Error{"post_processor type '" + type + "' is not supported (TemplateProcessing, ByteLevel and Sequence are)"};
}

}  // namespace

BpeTokenizer::BpeTokenizer(BpeModel model, TextNormalizer normalizer, BpePreTokenizer pre_tokenizer, BpeDecoder decoder,
                           PostProcessor post_processor, std::vector<AddedTokenSpec> added_tokens)
    : model_(std::move(model)),
      normalizer_(std::move(normalizer)),
      pre_tokenizer_(std::move(pre_tokenizer)),
      decoder_(std::move(decoder)),
      post_processor_(std::move(post_processor)),
      raw_added_(only(added_tokens, false)),
      normalized_added_(only(added_tokens, true)) {
  for (AddedTokenSpec& token : added_tokens) added_by_id_.emplace(token.id, std::move(token));
}

Result<BpeTokenizer> BpeTokenizer::from_json(const json& doc) {
  auto model = parse_model(member(doc, "model"));
  if (!model) return model.error();
  auto normalizer = TextNormalizer::parse(member(doc, "normalizer"));
  if (!normalizer) return normalizer.error();
  auto pre_tokenizer = BpePreTokenizer::parse(member(doc, "pre_tokenizer"));
  if (!pre_tokenizer) return pre_tokenizer.error();
  auto decoder = BpeDecoder::parse(member(doc, "decoder"));
  if (!decoder) return decoder.error();
  auto post_processor = parse_post_processor(member(doc, "post_processor"));
  if (!post_processor) return post_processor.error();
  std::vector<AddedTokenSpec> added_tokens;
  for (const json& token : member(doc, "added_tokens")) {
    added_tokens.push_back(
        {token.value("content", ""), tpustack::json::json_integer_member<TokenId>(token, "id", -1, 0),
         token.value("special", false), token.value("normalized", false), token.value("lstrip", false),
         token.value("rstrip", false), token.value("single_word", false)});
  }
  return BpeTokenizer(std::move(model).value(), std::move(normalizer).value(), std::move(pre_tokenizer).value(),
                      std::move(decoder).value(), std::move(post_processor).value(), std::move(added_tokens));
}

bool BpeTokenizer::is_special(TokenId id) const {
  auto found = added_by_id_.find(id);
  return found != added_by_id_.end() && found->second.special;
}

Result<std::vector<TokenId>> BpeTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (auto valid = decode_utf8(text); !valid) return valid.error();
  std::vector<TokenId> ids;
  for (const TextSegment& raw : raw_added_.split(text)) {
    if (raw.added >= 0) {
      ids.push_back(raw.added);
      continue;
    }
    const std::string normalized = normalizer_.apply(raw.text);
    for (const TextSegment& segment : normalized_added_.split(normalized)) {
      if (segment.added >= 0) {
        ids.push_back(segment.added);
        continue;
      }
      for (const std::string& word : pre_tokenizer_.words(segment.text, raw.start == 0 && segment.start == 0)) {
        model_.append_ids(word, ids);
      }
    }
  }
  if (!add_special_tokens || post_processor_.single.empty()) return ids;
  std::vector<TokenId> with_template;
  with_template.reserve(ids.size() + post_processor_.single.size());
  for (const TemplateItem& item : post_processor_.single) {
    if (item.is_sequence) {
      with_template.insert(with_template.end(), ids.begin(), ids.end());
    } else {
      with_template.push_back(item.special_id);
    }
  }
  return with_template;
}

Result<std::string> BpeTokenizer::token_bytes(TokenId id) const {
  if (auto added = added_by_id_.find(id); added != added_by_id_.end()) {
    return decoder_.token_bytes(added->second.content, -1);
  }
  const std::string_view token = model_.token(id);
  if (token.empty()) return Error{"token id " + std::to_string(id) + " is not in the vocabulary"};
  return decoder_.token_bytes(token, model_.fallback_byte(id));
}

Result<std::string> BpeTokenizer::decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (TokenId id : ids) {
    auto token = token_bytes(id);
    if (!token) return token.error();
    if (skip_special_tokens && is_special(id)) continue;
    bytes += *token;
  }
  size_t strip = 0;
  while (strip < decoder_.leading_spaces_to_strip() && strip < bytes.size() && bytes[strip] == ' ') ++strip;
  std::string text;
  append_complete_utf8(std::string_view(bytes).substr(strip), true, text);
  return text;
}

}  // namespace tpustack::inferd::tokenizer
