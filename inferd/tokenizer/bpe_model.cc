#include "inferd/tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <queue>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

Result<BpeModel> BpeModel::create(Vocabulary vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                  BpeOptions options) {
  BpeModel model(std::move(vocab), std::move(options));
  model.character_ids_.assign(0x10000, -1);
  for (const auto& [text, id] : model.vocab_) {
    model.tokens_.emplace(id, text);
    auto code_points = decode_utf8(text);
    if (code_points && code_points->size() == 1 && code_points->front() < model.character_ids_.size()) {
      model.character_ids_[code_points->front()] = id;
    }
  }
  if (!model.options_.unk_token.empty()) {
    model.unk_id_ = model.find(model.options_.unk_token);
    if (model.unk_id_ < 0) return Error{"model.unk_token " + model.options_.unk_token + " is not in the vocabulary"};
  }
  for (int byte = 0; byte < 256; ++byte) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    model.byte_ids_[static_cast<size_t>(byte)] = model.find(name);
    if (model.byte_ids_[static_cast<size_t>(byte)] >= 0) model.byte_of_id_[model.byte_ids_[byte]] = byte;
  }
  model.merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const TokenId left_id = model.find(left), right_id = model.find(right), merged = model.find(left + right);
    if (left_id < 0 || right_id < 0 || merged < 0) {
      return Error{"model.merges[" + std::to_string(rank) + "] \"" + left + " " + right +
                   "\" joins tokens the vocabulary lacks"};
    }
    // The first (lowest-ranked) merge of a pair is the one that applies.
    model.merges_.try_emplace(pair_key(left_id, right_id), Merge{static_cast<uint32_t>(rank), merged});
  }
  return model;
}

TokenId BpeModel::find(std::string_view token) const {
  auto found = vocab_.find(token);
  return found == vocab_.end() ? -1 : found->second;
}

std::string_view BpeModel::token(TokenId id) const {
  auto found = tokens_.find(id);
  return found == tokens_.end() ? std::string_view() : std::string_view(found->second);
}

int BpeModel::fallback_byte(TokenId id) const {
  auto found = byte_of_id_.find(id);
  return found == byte_of_id_.end() ? -1 : found->second;
}

const BpeModel::Merge* BpeModel::find_merge(TokenId left, TokenId right) const {
  auto found = merges_.find(pair_key(left, right));
  return found == merges_.end() ? nullptr : &found->second;
}

void BpeModel::append_ids(std::string_view word, std::vector<TokenId>& out) const {
  if (word.empty()) return;
  // Long words are rare and would fill the cache with text seen once: a SentencePiece "word" is a whole text.
  constexpr size_t longest_cached_word = 64;
  constexpr size_t cached_words = 16384;
  if (word.size() > longest_cached_word) {
    merge_word(word, out);
    return;
  }
  bool full = false;
  {
    std::shared_lock lock(cache_->mutex);
    if (auto found = cache_->ids.find(word); found != cache_->ids.end()) {
      out.insert(out.end(), found->second.begin(), found->second.end());
      return;
    }
    full = cache_->ids.size() >= cached_words;
  }
  const size_t start = out.size();
  merge_word(word, out);
  // Entries are never removed, so a full cache stays full: no need for the exclusive lock.
  if (full) return;
  std::unique_lock lock(cache_->mutex);
  if (cache_->ids.size() < cached_words) {
    cache_->ids.try_emplace(std::string(word), out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
  }
}

void BpeModel::merge_word(std::string_view word, std::vector<TokenId>& out) const {
  if (options_.ignore_merges) {
    if (TokenId whole = find(word); whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  // The word's symbols as a linked list over a vector; a merged-away symbol gets id -1.
  struct Symbol {
    TokenId id;
    int prev;
    int next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto push = [&](TokenId id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1});
    if (index > 0) symbols[index - 1].next = index;
  };
  bool last_was_unk = false;
  for (size_t at = 0; at < word.size();) {
    const auto lead = static_cast<unsigned char>(word[at]);
    // Words come from text checked to be UTF-8; a stray byte would be taken as a character of its own.
    const size_t length = std::max<size_t>(1, utf8_sequence_length(lead));
    const std::string_view character = word.substr(at, length);
    at += length;
    const char32_t code_point = length == 1   ? lead
                                : length == 2 ? (lead & 0x1Fu) << 6 | (character[1] & 0x3Fu)
                                : length == 3
                                    ? (lead & 0x0Fu) << 12 | (character[1] & 0x3Fu) << 6 | (character[2] & 0x3Fu)
                                    : 0x10000;  // past the table: looked up by text
    if (TokenId id = code_point < character_ids_.size() ? character_ids_[code_point] : find(character); id >= 0) {
      push(id);
      last_was_unk = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (char byte : character) all_bytes = all_bytes && byte_ids_[static_cast<unsigned char>(byte)] >= 0;
      if (all_bytes) {
        for (char byte : character) push(byte_ids_[static_cast<unsigned char>(byte)]);
        last_was_unk = false;
        continue;
      }
    }
    if (unk_id_ < 0) continue;
    if (!(options_.fuse_unk && last_was_unk)) push(unk_id_);
    last_was_unk = true;
  }

  struct Candidate {
    uint32_t rank;
    int position;
    TokenId merged;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  const auto offer = [&](int left) {
    const int right = symbols[left].next;
    if (right < 0) return;
    if (const Merge* merge = find_merge(symbols[left].id, symbols[right].id)) {
      queue.push({merge->rank, left, merge->merged});
    }
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) offer(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.position];
    if (left.id < 0 || left.next < 0) continue;
    // The pair may have changed since it was offered; only a pair that still makes this token merges.
    const Merge* merge = find_merge(left.id, symbols[left.next].id);
    if (merge == nullptr || merge->merged != top.merged) continue;
    Symbol& right = symbols[left.next];
    left.id = top.merged;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.position;
    if (left.prev >= 0) offer(left.prev);
    offer(top.position);
  }
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

}  // namespace tpustack::inferd::tokenizer
