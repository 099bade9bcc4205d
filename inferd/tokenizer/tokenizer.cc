#include "inferd/tokenizer/tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/files/file_text.h"
#include "common/json/json_document.h"
#include "inferd/tokenizer/bert_pre_tokenizer.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

struct TextPieces {
  std::vector<TokenId> ids;
  std::vector<TokenOffsets> offsets;  // only when asked for
};

namespace {

using nlohmann::json;
using tpustack::json::member;

PostProcessor bert_template(TokenId cls, TokenId sep) {
  TemplateItem cls_item{false, 0, cls, 0};
  TemplateItem sep_item{false, 0, sep, 0};
  TemplateItem sep_second{false, 0, sep, 1};
  return {{cls_item, {true, 0, -1, 0}, sep_item}, {cls_item, {true, 0, -1, 0}, sep_item, {true, 1, -1, 1}, sep_second}};
}

// BertProcessing's "cls" or "sep": ["[CLS]", 101].
TokenId bert_processing_id(const json& processor, const char* key) {
  const json& token = member(processor, key);
  if (!token.is_array() || token.size() != 2) {
    throw tpustack::json::JsonValueError(std::string("post_processor.") + key + " must be [token, id]");
  }
  return tpustack::json::json_integer<TokenId>(token[1], std::string("post_processor.") + key + " id", 0);
}

Result<PostProcessor> parse_post_processor(const json& processor, const WordPiece& model) {
  std::string type = processor.is_object() ? processor.value("type", "") : "";
  if (type == "BertProcessing") {
    return bert_template(bert_processing_id(processor, "cls"), bert_processing_id(processor, "sep"));
  }
  if (type == "TemplateProcessing") return parse_template_processing(processor);
  if (processor.is_null()) {
    TokenId cls = model.find("[CLS]"), sep = model.find("[SEP]");
    if (cls < 0 || sep < 0) return Error{"vocabulary has no [CLS] or [SEP] token"};
    return bert_template(cls, sep);
  }
  return Error{"post_processor type '" + type + "' is not supported (TemplateProcessing or BertProcessing are)"};
}

// Keeps `keep` tokens of one text, dropping the others from `side`.
void cut(TextPieces& pieces, size_t keep, TruncationSide side) {
  auto cut_values = [&](auto& values) {
    if (values.size() <= keep) return;
    if (side == TruncationSide::right) {
      values.resize(keep);
    } else {
      values.erase(values.begin(), values.end() - static_cast<std::ptrdiff_t>(keep));
    }
  };
  cut_values(pieces.ids);
  cut_values(pieces.offsets);  // empty unless offsets were asked for
}

// Rust tokenizers' LongestFirst: shorten the longer sequence first, ending as evenly split as the budget allows.
void truncate_longest_first(TextPieces& first, TextPieces* second, size_t budget, TruncationSide side) {
  if (second == nullptr) {
    cut(first, budget, side);
    return;
  }
  if (first.ids.size() + second->ids.size() <= budget) return;
  size_t n1 = first.ids.size(), n2 = second->ids.size();
  bool swapped = n1 > n2;
  if (swapped) std::swap(n1, n2);
  n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = budget / 2;
    n2 = n1 + budget % 2;
  }
  if (swapped) std::swap(n1, n2);
  cut(first, n1, side);
  cut(*second, n2, side);
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

bool Tokenizer::is_special(TokenId id) const {
  const auto added = [id](const auto& token) { return token.second == id; };
  const auto templated = [id](const TemplateItem& item) { return !item.is_sequence && item.special_id == id; };
  return std::any_of(added_tokens_.begin(), added_tokens_.end(), added) ||
         std::any_of(post_processor_.single.begin(), post_processor_.single.end(), templated) ||
         std::any_of(post_processor_.pair.begin(), post_processor_.pair.end(), templated);
}

Result<Tokenizer> Tokenizer::from_tokenizer_json(const std::filesystem::path& path) {
  auto text = files::read_file_text(path);
  if (!text) return text.error();
  return parse_tokenizer_json(*text, path.string());
}

Result<Tokenizer> Tokenizer::parse_tokenizer_json(std::string_view text, const std::string& source) {
  return tpustack::json::read_json_document<Tokenizer>(text, source,
                                                       [&](const json& doc) { return from_json(doc, source); });
}

Result<Tokenizer> Tokenizer::from_json(const json& doc, const std::string& source) {
  auto fail = [&](const std::string& what) { return Error{source + ": " + what}; };
  const json& model_json = member(doc, "model");
  if (!model_json.is_object() || model_json.value("type", "") != "WordPiece") {
    return fail("model type must be WordPiece");
  }
  const json& vocab_json = member(model_json, "vocab");
  if (!vocab_json.is_object()) return fail("model.vocab must map tokens to ids");
  std::unordered_map<std::string, TokenId> vocab;
  for (auto& [token, id] : vocab_json.items())
    vocab.emplace(token, tpustack::json::json_integer<TokenId>(id, "model.vocab ids", 0));
  WordPieceOptions options;
  options.unk_token = model_json.value("unk_token", options.unk_token);
  options.continuing_subword_prefix = model_json.value("continuing_subword_prefix", options.continuing_subword_prefix);
  options.max_input_chars_per_word = tpustack::json::json_integer_member<size_t>(model_json, "max_input_chars_per_word",
                                                                                 options.max_input_chars_per_word);
  auto model = WordPiece::create(std::move(vocab), options);
  if (!model) return fail(model.error().message);

  BertNormalizerOptions normalizer;
  const json& normalizer_json = member(doc, "normalizer");
  if (normalizer_json.is_object()) {
    if (normalizer_json.value("type", "") != "BertNormalizer") return fail("normalizer type must be BertNormalizer");
    normalizer.clean_text = normalizer_json.value("clean_text", true);
    normalizer.handle_chinese_chars = normalizer_json.value("handle_chinese_chars", true);
    normalizer.lowercase = normalizer_json.value("lowercase", true);
    const json& strip = member(normalizer_json, "strip_accents");
    normalizer.strip_accents = strip.is_boolean() ? strip.get<bool>() : normalizer.lowercase;
  } else if (!normalizer_json.is_null()) {
    return fail("normalizer must be BertNormalizer");
  }
  const json& pre_tokenizer = member(doc, "pre_tokenizer");
  if (!pre_tokenizer.is_null() && pre_tokenizer.value("type", "") != "BertPreTokenizer") {
    return fail("pre_tokenizer type must be BertPreTokenizer");
  }
  auto post_processor = parse_post_processor(member(doc, "post_processor"), *model);
  if (!post_processor) return fail(post_processor.error().message);

  // Rust matches added tokens in the raw text; those marked normalized would be matched after normalisation,
  // which BERT's special tokens never are, so only the raw-text ones are kept.
  std::vector<AddedToken> added_tokens;
  for (const json& token : member(doc, "added_tokens")) {
    if (!token.value("normalized", false)) {
      added_tokens.push_back(
          {token.value("content", ""), tpustack::json::json_integer_member<TokenId>(token, "id", -1)});
    }
  }

  size_t max_length = no_limit;
  TruncationSide side = TruncationSide::right;
  const json& truncation = member(doc, "truncation");
  if (truncation.is_object()) {
    max_length = tpustack::json::json_integer_member<size_t>(truncation, "max_length", no_limit);
    side = truncation.value("direction", "Right") == "Left" ? TruncationSide::left : TruncationSide::right;
  }
  return Tokenizer(normalizer, std::move(model).value(), std::move(post_processor).value(), std::move(added_tokens),
                   max_length, side);
}

Result<Tokenizer> Tokenizer::from_vocab_txt(const std::filesystem::path& path, bool lowercase) {
  auto text = files::read_file_text(path);
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
  auto pieces = split_into_pieces(text, false);
  if (!pieces) return pieces.error();
  return std::move(pieces->ids);
}

Result<TextPieces> Tokenizer::split_into_pieces(std::string_view text, bool with_offsets) const {
  std::vector<size_t> byte_offsets;  // stays unallocated unless offsets are asked for
  auto code_points = decode_utf8(text, with_offsets ? &byte_offsets : nullptr);
  if (!code_points) return code_points.error();
  const std::vector<size_t>* byte_offsets_if_wanted = with_offsets ? &byte_offsets : nullptr;
  TextPieces pieces;
  std::u32string_view rest = *code_points;
  size_t segment_start = 0;
  for (size_t pos = 0; pos < rest.size();) {
    auto matched = std::find_if(added_tokens_.begin(), added_tokens_.end(),
                                [&](const auto& token) { return rest.substr(pos, token.first.size()) == token.first; });
    if (matched == added_tokens_.end()) {
      ++pos;
      continue;
    }
    append_word_pieces(rest.substr(segment_start, pos - segment_start), segment_start, byte_offsets_if_wanted, pieces);
    pieces.ids.push_back(matched->second);
    const size_t end = pos + matched->first.size();
    if (with_offsets) pieces.offsets.push_back({false, byte_offsets[pos], byte_offsets[end]});
    pos = end;
    segment_start = pos;
  }
  append_word_pieces(rest.substr(segment_start), segment_start, byte_offsets_if_wanted, pieces);
  return pieces;
}

void Tokenizer::append_word_pieces(std::u32string_view segment, size_t segment_start,
                                   const std::vector<size_t>* byte_offsets, TextPieces& pieces) const {
  // Both stay unallocated unless offsets are asked for.
  std::vector<size_t> origins;
  std::vector<PieceSpan> spans;
  const std::u32string normalized = normalize_bert(segment, normalizer_, byte_offsets ? &origins : nullptr);
  for (std::u32string_view word : split_bert_words(normalized)) {
    spans.clear();
    model_.append_pieces(word, pieces.ids, byte_offsets ? &spans : nullptr);
    if (!byte_offsets) continue;
    // A piece covers normalised characters [word_start + begin, word_start + end); its original text runs from the
    // character the first came from to the end of the one the last came from.
    const size_t word_start = static_cast<size_t>(word.data() - normalized.data());
    for (const PieceSpan& span : spans) {
      const size_t first = segment_start + origins[word_start + span.begin];
      const size_t last = segment_start + origins[word_start + span.end - 1];
      pieces.offsets.push_back({false, (*byte_offsets)[first], (*byte_offsets)[last + 1]});
    }
  }
}

size_t Tokenizer::limit(size_t max_length) const { return std::min(max_length, max_length_); }

Encoding Tokenizer::apply_template(const std::vector<TemplateItem>& items, bool add_special_tokens,
                                   const TextPieces& first, const TextPieces& second,
                                   std::vector<TokenOffsets>* offsets) const {
  Encoding encoding;
  for (const TemplateItem& item : items) {
    if (!item.is_sequence) {
      if (!add_special_tokens) continue;
      encoding.ids.push_back(item.special_id);
      encoding.type_ids.push_back(item.type_id);
      if (offsets) offsets->push_back({true, 0, 0});
      continue;
    }
    const TextPieces& source = item.sequence == 0 ? first : second;
    encoding.ids.insert(encoding.ids.end(), source.ids.begin(), source.ids.end());
    encoding.type_ids.insert(encoding.type_ids.end(), source.ids.size(), item.type_id);
    if (offsets) offsets->insert(offsets->end(), source.offsets.begin(), source.offsets.end());
  }
  return encoding;
}

Result<Encoding> Tokenizer::encode_texts(std::string_view first, const std::string_view* second, size_t budget,
                                         bool add_special_tokens, std::vector<TokenOffsets>* offsets) const {
  auto first_pieces = split_into_pieces(first, offsets != nullptr);
  if (!first_pieces) return first_pieces.error();
  TextPieces second_pieces;
  if (second != nullptr) {
    auto split = split_into_pieces(*second, offsets != nullptr);
    if (!split) return split.error();
    second_pieces = std::move(split).value();
  }
  const std::vector<TemplateItem>& items = second != nullptr ? post_processor_.pair : post_processor_.single;
  // As in Rust, left-out special tokens take no room.
  const size_t specials = add_special_tokens ? special_count(items) : 0;
  if (budget != no_limit) {
    truncate_longest_first(*first_pieces, second != nullptr ? &second_pieces : nullptr,
                           budget > specials ? budget - specials : 0, side_);
  }
  return apply_template(items, add_special_tokens, *first_pieces, second_pieces, offsets);
}

Result<Encoding> Tokenizer::encode(std::string_view text, size_t max_length) const {
  return encode_texts(text, nullptr, limit(max_length), true, nullptr);
}

Result<Encoding> Tokenizer::encode_pair(std::string_view first, std::string_view second, size_t max_length) const {
  return encode_texts(first, &second, limit(max_length), true, nullptr);
}

Result<EncodingWithOffsets> Tokenizer::encode_with_offsets(std::string_view text, bool add_special_tokens) const {
  std::vector<TokenOffsets> offsets;
  auto encoding = encode_texts(text, nullptr, no_limit, add_special_tokens, &offsets);
  if (!encoding) return encoding.error();
  return EncodingWithOffsets{std::move(encoding).value(), std::move(offsets)};
}

}  // namespace tpustack::inferd::tokenizer
