#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

using TokenId = int32_t;

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

// Characters [begin, end) of a word that one of its pieces stands for; the unknown token stands for the whole word.
struct PieceSpan {
  size_t begin = 0;
  size_t end = 0;
};

// The WordPiece model: greedy longest-match-first over a vocabulary; a word with any piece missing, or longer
// than max_input_chars_per_word characters, becomes the single unknown token.
class WordPiece {
 public:
  static Result<WordPiece> create(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options);

  // Appends the pieces of word to out and, with spans, where in word each of them is.
  void append_pieces(std::u32string_view word, std::vector<TokenId>& out,
                     std::vector<PieceSpan>* spans = nullptr) const;

  // The id of a token, or -1 when the vocabulary lacks it.
  TokenId find(std::string_view token) const;
  // The vocabulary's text of an id ("[CLS]", "##ing"), or "" for an id it lacks.
  std::string_view token(TokenId id) const;
  size_t size() const { return vocab_.size(); }

 private:
  WordPiece(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options, TokenId unk_id);

  std::unordered_map<std::string, TokenId> vocab_;
  std::unordered_map<TokenId, std::string> tokens_;  // the inverse of vocab_
  WordPieceOptions options_;
  TokenId unk_id_;
};

}  // namespace tpustack::inferd::tokenizer
