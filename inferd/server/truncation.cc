#include "inferd/server/truncation.h"

namespace tpustack::inferd::server {

Result<TruncationDirection> parse_truncation_direction(const std::string& text) {
  if (text == "Right" || text == "right") return TruncationDirection::right;
  if (text == "Left" || text == "left") return TruncationDirection::left;
  return Error{"\"truncation_direction\" must be \"Right\" or \"Left\", not \"" + text + "\""};
}

tokenizer::Encoding keep_end(tokenizer::Encoding encoding, size_t max_length) {
  if (encoding.ids.size() <= max_length || max_length == 0) return encoding;
  const size_t cut = encoding.ids.size() - max_length;
  encoding.ids.erase(encoding.ids.begin() + 1, encoding.ids.begin() + 1 + static_cast<std::ptrdiff_t>(cut));
  encoding.type_ids.erase(encoding.type_ids.begin() + 1,
                          encoding.type_ids.begin() + 1 + static_cast<std::ptrdiff_t>(cut));
  return encoding;
}

void cut_ids(std::vector<tokenizer::TokenId>& ids, size_t max_length, TruncationDirection direction) {
  if (ids.size() <= max_length) return;
  if (direction == TruncationDirection::left) {
    ids.erase(ids.begin(), ids.end() - static_cast<std::ptrdiff_t>(max_length));
  } else {
    ids.resize(max_length);
  }
}

}  // namespace tpustack::inferd::server
