#pragma once

#include <cstddef>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result/result.h"
#include "inferd/tokenizer/bert_normalizer.h"
#include "inferd/tokenizer/post_processor.h"
#include "inferd/tokenizer/wordpiece.h"

namespace tpustack::inferd::tokenizer {

// Model input for one text or text pair, special tokens included.
struct Encoding {
  std::vector<TokenId> ids;
  std::vector<TokenId> type_ids;
};

// Where a token of an Encoding came from, as Hugging Face's Rust tokenizers report it: bytes [start, stop) of the
// original UTF-8 text (what a normalised piece such as "hello" or "##lo" was cut from), or, for a token the
// post-processing template added, nowhere.
struct TokenOffsets {
  bool special = false;
  size_t start = 0;
  size_t stop = 0;
};

struct EncodingWithOffsets {
  Encoding encoding;
  std::vector<TokenOffsets> offsets;  // one per id
};

// The tokens of one text before the template adds its special tokens (defined where they are made).
struct TextPieces;

enum class TruncationSide { right, left };

// A token matched verbatim in the raw text before normalisation, as [SEP] or [MASK] are.
struct AddedToken {
  std::string content;
  TokenId id = -1;
};

// A BERT WordPiece tokenizer with the semantics of Hugging Face's Rust tokenizers library.
class Tokenizer {
 public:
  static constexpr size_t no_limit = std::numeric_limits<size_t>::max();

  // tokenizer.json: BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing or BertProcessing
  // (read_tokenizer_json, tokenizer_json.h, reads a file of either model type).
  static Result<Tokenizer> from_tokenizer_json(const std::filesystem::path& path);
  // tokenizer.json's text; `source` names it in errors.
  static Result<Tokenizer> parse_tokenizer_json(std::string_view text, const std::string& source);
  // The parsed document, inside tpustack::json::read_json_document (whose conversions of nlohmann's and
  // json_integer's exceptions it relies on).
  static Result<Tokenizer> from_json(const nlohmann::json& doc, const std::string& source);
  // vocab.txt, one token a line, id = line number; [CLS] text [SEP] with the given case handling.
  static Result<Tokenizer> from_vocab_txt(const std::filesystem::path& path, bool lowercase);

  // Truncates to the smaller of max_length and tokenizer.json's own limit, special tokens included.
  Result<Encoding> encode(std::string_view text, size_t max_length = no_limit) const;
  Result<Encoding> encode_pair(std::string_view first, std::string_view second, size_t max_length = no_limit) const;
  // The whole text, untruncated as TEI's /tokenize answers, with each token's offsets in it; without
  // add_special_tokens the template's special tokens are left out.
  Result<EncodingWithOffsets> encode_with_offsets(std::string_view text, bool add_special_tokens = true) const;

  // Token ids of text (added tokens such as [SEP] in it included) with no template and no truncation.
  Result<std::vector<TokenId>> pieces(std::string_view text) const;

  const WordPiece& model() const { return model_; }
  // An added token ([SEP], [MASK]) or one the template inserts ([CLS]): what decoding's skip_special_tokens drops.
  bool is_special(TokenId id) const;

 private:
  Tokenizer(BertNormalizerOptions normalizer, WordPiece model, PostProcessor post_processor,
            std::vector<AddedToken> added_tokens, size_t max_length, TruncationSide side);
  // The one tokenizing path: `budget` counts special tokens too; second is null for a single text; offsets, when
  // given, receive each token's.
  Result<Encoding> encode_texts(std::string_view first, const std::string_view* second, size_t budget,
                                bool add_special_tokens, std::vector<TokenOffsets>* offsets) const;
  Result<TextPieces> split_into_pieces(std::string_view text, bool with_offsets) const;
  // Pieces of the code points [segment_start, ...) of a text between added tokens; byte_offsets (decode_utf8's)
  // are given when offsets are asked for.
  void append_word_pieces(std::u32string_view segment, size_t segment_start, const std::vector<size_t>* byte_offsets,
                          TextPieces& pieces) const;
  size_t limit(size_t max_length) const;
  Encoding apply_template(const std::vector<TemplateItem>& items, bool add_special_tokens, const TextPieces& first,
                          const TextPieces& second, std::vector<TokenOffsets>* offsets) const;

  BertNormalizerOptions normalizer_;
  WordPiece model_;
  PostProcessor post_processor_;
  std::vector<std::pair<std::u32string, TokenId>> added_tokens_;  // longest first, so the longest match wins
  size_t max_length_;
  TruncationSide side_;
};

}  // namespace tpustack::inferd::tokenizer
