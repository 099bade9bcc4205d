#include "inferd/tokenizer/streaming_detokenizer.h"

#include "inferd/tokenizer/bpe_decoder.h"

namespace tpustack::inferd::tokenizer {

StreamingDetokenizer::StreamingDetokenizer(const BpeTokenizer& tokenizer, bool skip_special_tokens, bool continues_text)
    : tokenizer_(&tokenizer),
      skip_special_tokens_(skip_special_tokens),
      spaces_to_strip_(continues_text ? 0 : tokenizer.decoder().leading_spaces_to_strip()) {}

Result<std::string> StreamingDetokenizer::push(TokenId id) {
  auto bytes = tokenizer_->token_bytes(id);
  if (!bytes) return bytes.error();
  if (skip_special_tokens_ && tokenizer_->is_special(id)) return std::string();
  pending_ += *bytes;
  // Only the text's first characters may be stripped: once a non-space has come, nothing more is.
  while (spaces_to_strip_ > 0 && !pending_.empty()) {
    if (pending_.front() != ' ') {
      spaces_to_strip_ = 0;
      break;
    }
    pending_.erase(0, 1);
    --spaces_to_strip_;
  }
  std::string text;
  pending_.erase(0, append_complete_utf8(pending_, false, text));
  return text;
}

std::string StreamingDetokenizer::finish() {
  std::string text;
  append_complete_utf8(pending_, true, text);
  pending_.clear();
  return text;
}

}  // namespace tpustack::inferd::tokenizer
