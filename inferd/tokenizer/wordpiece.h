#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "inferd/common/result.h"

namespace inferd::tokenizer {

using TokenId = int32_t;

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

// The WordPiece model: greedy longest-match-first over a vocabulary; a word with any piece missing, or longer
// than max_input_chars_per_word characters, becomes the single unknown token.
class WordPiece {
 public:
  static Result<WordPiece> create(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options);

  void append_pieces(std::u32string_view word, std::vector<TokenId>& out) const;

  // The id of a token, or -1 when the vocabulary lacks it.
  TokenId find(std::string_view token) const;
  size_t size() const { return vocab_.size(); }

 private:
  WordPiece(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options, TokenId unk_id);

  std::unordered_map<std::string, TokenId> vocab_;
  WordPieceOptions options_;
  TokenId unk_id_;
};

}  // namespace inferd::tokenizer
