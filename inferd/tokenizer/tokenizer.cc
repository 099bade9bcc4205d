#include "inferd/tokenizer/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "inferd/common/file_text.h"
#include "inferd/tokenizer/bert_pre_tokenizer.h"
#include "inferd/tokenizer/unicode_text.h"

namespace inferd::tokenizer {

namespace {

using nlohmann::json;

PostProcessor bert_template(TokenId cls, TokenId sep) {
  TemplateItem cls_item{false, 0, cls, 0};
  TemplateItem sep_item{false, 0, sep, 0};
  TemplateItem sep_second{false, 0, sep, 1};
  return {{cls_item, {true, 0, -1, 0}, sep_item}, {cls_item, {true, 0, -1, 0}, sep_item, {true, 1, -1, 1}, sep_second}};
}

Result<TemplateItem> parse_template_item(const json& item, const json& special_tokens) {
  if (item.contains("Sequence")) {
    const json& sequence = item["Sequence"];
    return TemplateItem{true, sequence.value("id", "A") == "B" ? 1 : 0, -1, sequence.value("type_id", 0)};
  }
  if (item.contains("SpecialToken")) {
    const json& special = item["SpecialToken"];
    std::string name = special.value("id", "");
    if (!special_tokens.contains(name) || special_tokens[name]["ids"].size() != 1) {
      return Error{"post_processor special token '" + name + "' must map to exactly one id"};
    }
    return TemplateItem{false, 0, special_tokens[name]["ids"][0].get<TokenId>(), special.value("type_id", 0)};
  }
  return Error{"post_processor template item is neither Sequence nor SpecialToken: " + item.dump()};
}

Result<PostProcessor> parse_post_processor(const json& processor, const WordPiece& model) {
  std::string type = processor.is_object() ? processor.value("type", "") : "";
  if (type == "BertProcessing") {
    return bert_template(processor["cls"][1].get<TokenId>(), processor["sep"][1].get<TokenId>());
  }
  if (type == "TemplateProcessing") {
    PostProcessor result;
    for (auto [key, items] : {std::pair{"single", &result.single}, std::pair{"pair", &result.pair}}) {
      for (const json& item : processor[key]) {
        auto parsed = parse_template_item(item, processor["special_tokens"]);
        if (!parsed) return parsed.error();
        items->push_back(*parsed);
      }
    }
    return result;
  }
  if (processor.is_null()) {
    TokenId cls = model.find("[CLS]"), sep = model.find("[SEP]");
    if (cls < 0 || sep < 0) return Error{"vocabulary has no [CLS] or [SEP] token"};
    return bert_template(cls, sep);
  }
  return Error{"post_processor type '" + type + "' is not supported (TemplateProcessing or BertProcessing are)"};
}

// Rust tokenizers' LongestFirst: shorten the longer sequence first, ending as evenly split as the budget allows.
void truncate_longest_first(std::vector<TokenId>& first, std::vector<TokenId>* second, size_t budget,
                            TruncationSide side) {
  auto cut = [side](std::vector<TokenId>& pieces, size_t keep) {
    if (pieces.size() <= keep) return;
    if (side == TruncationSide::right) {
      pieces.resize(keep);
    } else {
      pieces.erase(pieces.begin(), pieces.end() - static_cast<std::ptrdiff_t>(keep));
    }
  };
  if (second == nullptr) {
    cut(first, budget);
    return;
  }
  if (first.size() + second->size() <= budget) return;
  size_t n1 = first.size(), n2 = second->size();
  bool swapped = n1 > n2;
  if (swapped) std::swap(n1, n2);
  n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = budget / 2;
    n2 = n1 + budget % 2;
  }
  if (swapped) std::swap(n1, n2);
  cut(first, n1);
  cut(*second, n2);
}

size_t special_count(const std::vector<TemplateItem>& items) {
  return static_cast<size_t>(std::count_if(items.begin(), items.end(), [](const auto& i) { return !i.is_sequence; }));
}

}  // namespace

Tokenizer::Tokenizer(BertNormalizerOptions normalizer, WordPiece model, PostProcessor post_processor,
                     std::vector<AddedToken> added_tokens, size_t max_length, TruncationSide side)
    : normalizer_(normalizer),
      model_(std::move(model)),
      post_processor_(std::move(post_processor)),
      max_length_(max_length),
      side_(side) {
  for (const AddedToken& token : added_tokens) {
    auto content = decode_utf8(token.content);
    if (content && !content->empty() && token.id >= 0) added_tokens_.emplace_back(std::move(content).value(), token.id);
  }
  std::stable_sort(added_tokens_.begin(), added_tokens_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

Result<Tokenizer> Tokenizer::from_tokenizer_json(const std::filesystem::path& path) {
  auto text = read_file_text(path);
  if (!text) return text.error();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return Error{path.string() + " is not valid JSON"};
  auto fail = [&](const std::string& what) { return Error{path.string() + ": " + what}; };

  const json& model_json = doc["model"];
  if (!model_json.is_object() || model_json.value("type", "") != "WordPiece") {
    return fail("model type must be WordPiece");
  }
  std::unordered_map<std::string, TokenId> vocab;
  for (auto& [token, id] : model_json["vocab"].items()) vocab.emplace(token, id.get<TokenId>());
  WordPieceOptions options;
  options.unk_token = model_json.value("unk_token", options.unk_token);
  options.continuing_subword_prefix = model_json.value("continuing_subword_prefix", options.continuing_subword_prefix);
  options.max_input_chars_per_word = model_json.value("max_input_chars_per_word", options.max_input_chars_per_word);
  auto model = WordPiece::create(std::move(vocab), options);
  if (!model) return fail(model.error().message);

  BertNormalizerOptions normalizer;
  const json& normalizer_json = doc["normalizer"];
  if (normalizer_json.is_object()) {
    if (normalizer_json.value("type", "") != "BertNormalizer") return fail("normalizer type must be BertNormalizer");
    normalizer.clean_text = normalizer_json.value("clean_text", true);
    normalizer.handle_chinese_chars = normalizer_json.value("handle_chinese_chars", true);
    normalizer.lowercase = normalizer_json.value("lowercase", true);
    const json& strip = normalizer_json["strip_accents"];
    normalizer.strip_accents = strip.is_boolean() ? strip.get<bool>() : normalizer.lowercase;
  } else if (!normalizer_json.is_null()) {
    return fail("normalizer must be BertNormalizer");
  }
  const json& pre_tokenizer = doc["pre_tokenizer"];
  if (!pre_tokenizer.is_null() && pre_tokenizer.value("type", "") != "BertPreTokenizer") {
    return fail("pre_tokenizer type must be BertPreTokenizer");
  }
  auto post_processor = parse_post_processor(doc["post_processor"], *model);
  if (!post_processor) return fail(post_processor.error().message);

  // Rust matches added tokens in the raw text; those marked normalized would be matched after normalisation,
  // which BERT's special tokens never are, so only the raw-text ones are kept.
  std::vector<AddedToken> added_tokens;
  for (const json& token : doc.value("added_tokens", json::array())) {
    if (!token.value("normalized", false)) {
      added_tokens.push_back({token.value("content", ""), token.value("id", -1)});
    }
  }

  size_t max_length = no_limit;
  TruncationSide side = TruncationSide::right;
  const json& truncation = doc["truncation"];
  if (truncation.is_object()) {
    max_length = truncation.value("max_length", no_limit);
    side = truncation.value("direction", "Right") == "Left" ? TruncationSide::left : TruncationSide::right;
  }
  return Tokenizer(normalizer, std::move(model).value(), std::move(post_processor).value(), std::move(added_tokens),
                   max_length, side);
}

Result<Tokenizer> Tokenizer::from_vocab_txt(const std::filesystem::path& path, bool lowercase) {
  auto text = read_file_text(path);
  if (!text) return text.error();
  std::unordered_map<std::string, TokenId> vocab;
  size_t start = 0;
  TokenId id = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string token = text->substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    vocab.emplace(std::move(token), id++);
    start = end + 1;
  }
  auto model = WordPiece::create(std::move(vocab), WordPieceOptions{});
  if (!model) return Error{path.string() + ": " + model.error().message};
  auto post_processor = parse_post_processor(nullptr, *model);
  if (!post_processor) return Error{path.string() + ": " + post_processor.error().message};
  std::vector<AddedToken> added_tokens;
  for (const char* special : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    added_tokens.push_back({special, model->find(special)});
  }
  BertNormalizerOptions normalizer;
  normalizer.lowercase = lowercase;
  normalizer.strip_accents = lowercase;
  return Tokenizer(normalizer, std::move(model).value(), std::move(post_processor).value(), std::move(added_tokens),
                   no_limit, TruncationSide::right);
}

Result<std::vector<TokenId>> Tokenizer::pieces(std::string_view text) const {
  auto code_points = decode_utf8(text);
  if (!code_points) return code_points.error();
  std::vector<TokenId> ids;
  std::u32string_view rest = *code_points;
  size_t segment_start = 0;
  for (size_t pos = 0; pos < rest.size();) {
    auto matched = std::find_if(added_tokens_.begin(), added_tokens_.end(),
                                [&](const auto& token) { return rest.substr(pos, token.first.size()) == token.first; });
    if (matched == added_tokens_.end()) {
      ++pos;
      continue;
    }
    append_word_pieces(rest.substr(segment_start, pos - segment_start), ids);
    ids.push_back(matched->second);
    pos += matched->first.size();
    segment_start = pos;
  }
  append_word_pieces(rest.substr(segment_start), ids);
  return ids;
}

void Tokenizer::append_word_pieces(std::u32string_view text, std::vector<TokenId>& ids) const {
  for (const std::u32string& word : split_bert_words(normalize_bert(text, normalizer_))) {
    model_.append_pieces(word, ids);
  }
}

size_t Tokenizer::limit(size_t max_length) const { return std::min(max_length, max_length_); }

Encoding Tokenizer::apply_template(const std::vector<TemplateItem>& items, const std::vector<TokenId>* first,
                                   const std::vector<TokenId>* second) const {
  Encoding encoding;
  for (const TemplateItem& item : items) {
    if (!item.is_sequence) {
      encoding.ids.push_back(item.special_id);
      encoding.type_ids.push_back(item.type_id);
      continue;
    }
    const std::vector<TokenId>* source = item.sequence == 0 ? first : second;
    encoding.ids.insert(encoding.ids.end(), source->begin(), source->end());
    encoding.type_ids.insert(encoding.type_ids.end(), source->size(), item.type_id);
  }
  return encoding;
}

Result<Encoding> Tokenizer::encode(std::string_view text, size_t max_length) const {
  auto ids = pieces(text);
  if (!ids) return ids.error();
  size_t budget = limit(max_length);
  size_t specials = special_count(post_processor_.single);
  if (budget != no_limit) {
    truncate_longest_first(*ids, nullptr, budget > specials ? budget - specials : 0, side_);
  }
  return apply_template(post_processor_.single, &*ids, nullptr);
}

Result<Encoding> Tokenizer::encode_pair(std::string_view first, std::string_view second, size_t max_length) const {
  auto first_ids = pieces(first);
  if (!first_ids) return first_ids.error();
  auto second_ids = pieces(second);
  if (!second_ids) return second_ids.error();
  size_t budget = limit(max_length);
  size_t specials = special_count(post_processor_.pair);
  if (budget != no_limit) {
    truncate_longest_first(*first_ids, &*second_ids, budget > specials ? budget - specials : 0, side_);
  }
  return apply_template(post_processor_.pair, &*first_ids, &*second_ids);
}

}  // namespace inferd::tokenizer
