#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result/result.h"
#include "inferd/tokenizer/wordpiece.h"

namespace tpustack::inferd::tokenizer {

struct BpeOptions {
  std::string unk_token;       // "" for none: a character the vocabulary lacks is then dropped
  bool byte_fallback = false;  // such a character becomes its UTF-8 bytes as <0xNN> tokens instead
  bool fuse_unk = false;       // consecutive unknown characters become one unknown token
  bool ignore_merges = false;  // a word the vocabulary holds whole is that one token
};

// Hash and equality that let a std::string-keyed map be searched with a string_view.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using Vocabulary = std::unordered_map<std::string, TokenId, TextHash, std::equal_to<>>;

// The byte-pair-encoding model: a word starts as its characters and the adjacent pair with the lowest merge rank
// is joined until no pair has a merge, as Hugging Face's tokenizers do.
class BpeModel {
 public:
  // merges in rank order; each one's parts and their concatenation must be in the vocabulary.
  static Result<BpeModel> create(Vocabulary vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                 BpeOptions options);

  // Appends the ids of one pre-tokenized word (valid UTF-8) to out.
  void append_ids(std::string_view word, std::vector<TokenId>& out) const;

  TokenId find(std::string_view token) const;  // -1 when absent
  std::string_view token(TokenId id) const;    // "" when absent
  // The byte a <0xNN> token of a byte-fallback vocabulary stands for, or -1.
  int fallback_byte(TokenId id) const;

 private:
  struct Merge {
    uint32_t rank;
    TokenId merged;
  };
  BpeModel(Vocabulary vocab, BpeOptions options) : vocab_(std::move(vocab)), options_(std::move(options)) {}
  static uint64_t pair_key(TokenId left, TokenId right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  const Merge* find_merge(TokenId left, TokenId right) const;
  void merge_word(std::string_view word, std::vector<TokenId>& out) const;

  // Words already merged, shared by the threads that encode with this model (and by its copies, which merge
  // alike); filled up to a fixed size and then only read, as tokenizers' own cache is.
  struct WordCache {
    std::shared_mutex mutex;
    std::unordered_map<std::string, std::vector<TokenId>, TextHash, std::equal_to<>> ids;
  };

  Vocabulary vocab_;
  std::unordered_map<TokenId, std::string> tokens_;  // the inverse of vocab_ (whose ids need not be dense)
  std::unordered_map<uint64_t, Merge> merges_;
  // Ids of the one-character tokens of the Basic Multilingual Plane, -1 where absent: every word starts as its
  // characters, and an array look-up spares hashing each of them.
  std::vector<TokenId> character_ids_;
  std::array<TokenId, 256> byte_ids_{};  // <0xNN> tokens, -1 where absent
  std::unordered_map<TokenId, int> byte_of_id_;
  BpeOptions options_;
  TokenId unk_id_ = -1;
  std::shared_ptr<WordCache> cache_ = std::make_shared<WordCache>();
};

}  // namespace tpustack::inferd::tokenizer
