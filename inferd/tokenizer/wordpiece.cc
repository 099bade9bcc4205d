#include "inferd/tokenizer/wordpiece.h"

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

Result<WordPiece> WordPiece::create(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options) {
  auto unk = vocab.find(options.unk_token);
  if (unk == vocab.end()) return Error{"vocabulary has no unknown token '" + options.unk_token + "'"};
  TokenId unk_id = unk->second;
  return WordPiece(std::move(vocab), std::move(options), unk_id);
}

WordPiece::WordPiece(std::unordered_map<std::string, TokenId> vocab, WordPieceOptions options, TokenId unk_id)
    : vocab_(std::move(vocab)), options_(std::move(options)), unk_id_(unk_id) {
  tokens_.reserve(vocab_.size());
  for (const auto& [token, id] : vocab_) tokens_.emplace(id, token);
}

TokenId WordPiece::find(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

std::string_view WordPiece::token(TokenId id) const {
  auto it = tokens_.find(id);
  return it == tokens_.end() ? std::string_view() : std::string_view(it->second);
}

void WordPiece::append_pieces(std::u32string_view word, std::vector<TokenId>& out,
                              std::vector<PieceSpan>* spans) const {
  const size_t first_piece = out.size();
  const size_t first_span = spans ? spans->size() : 0;
  auto unknown_word = [&] {
    out.resize(first_piece);
    out.push_back(unk_id_);
    if (spans) {
      spans->resize(first_span);
      spans->push_back({0, word.size()});
    }
  };
  if (word.size() > options_.max_input_chars_per_word) {
    unknown_word();
    return;
  }
  // Byte offset of every character boundary, so candidate pieces are substrings of one UTF-8 buffer.
  std::string bytes;
  std::vector<size_t> boundary{0};
  for (char32_t c : word) {
    append_utf8(bytes, c);
    boundary.push_back(bytes.size());
  }
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    TokenId found = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      candidate.assign(start > 0 ? options_.continuing_subword_prefix : std::string());
      candidate.append(bytes, boundary[start], boundary[end] - boundary[start]);
      auto it = vocab_.find(candidate);
      if (it != vocab_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      unknown_word();
      return;
    }
    out.push_back(found);
    if (spans) spans->push_back({start, end});
    start = end;
  }
}

}  // namespace tpustack::inferd::tokenizer
