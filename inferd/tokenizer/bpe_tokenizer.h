#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result/result.h"
#include "inferd/tokenizer/added_tokens.h"
#include "inferd/tokenizer/bpe_decoder.h"
#include "inferd/tokenizer/bpe_model.h"
#include "inferd/tokenizer/bpe_pre_tokenizer.h"
#include "inferd/tokenizer/post_processor.h"
#include "inferd/tokenizer/text_normalizer.h"

namespace tpustack::inferd::tokenizer {

// A BPE tokenizer of a decoder model (Llama, Mistral, Qwen, SmolLM) with the semantics of Hugging Face's
// tokenizers: byte-level (GPT-2 style) or SentencePiece-style with byte fallback, as its tokenizer.json says.
class BpeTokenizer {
 public:
  // A tokenizer.json document whose model.type is BPE; errors say what is unsupported (the caller names the file).
  static Result<BpeTokenizer> from_json(const nlohmann::json& doc);

  // Ids of text: added tokens in it whole, and the template's tokens (a BOS) when add_special_tokens is set.
  // Invalid UTF-8 is an Error.
  Result<std::vector<TokenId>> encode(std::string_view text, bool add_special_tokens = true) const;
  // The text of ids; an id neither in the vocabulary nor an added token is an Error.
  Result<std::string> decode(const std::vector<TokenId>& ids, bool skip_special_tokens) const;

  // What decoding and streaming share: the bytes one id stands for, before the text's leading spaces are stripped.
  Result<std::string> token_bytes(TokenId id) const;
  bool is_special(TokenId id) const;

  // Replaces tokenizer.json's post-processor: what tokenizer_config.json's add_bos_token/add_eos_token make of it for
  // the tokenizer classes that rebuild it (model/tokenizer_config.h).
  void set_post_processor(PostProcessor processor) { post_processor_ = std::move(processor); }
  const BpeDecoder& decoder() const { return decoder_; }

 private:
  BpeTokenizer(BpeModel model, TextNormalizer normalizer, BpePreTokenizer pre_tokenizer, BpeDecoder decoder,
               PostProcessor post_processor, std::vector<AddedTokenSpec> added_tokens);

  BpeModel model_;
  TextNormalizer normalizer_;
  BpePreTokenizer pre_tokenizer_;
  BpeDecoder decoder_;
  PostProcessor post_processor_;
  AddedTokenMatcher raw_added_;         // normalized: false, found in the raw text
  AddedTokenMatcher normalized_added_;  // normalized: true, found after normalisation
  std::unordered_map<TokenId, AddedTokenSpec> added_by_id_;
};

}  // namespace tpustack::inferd::tokenizer
