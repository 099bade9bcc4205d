#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/result/result.h"

namespace tpustack::inferd::tokenizer {

// The tokenizer.json document transformers makes of a model that ships only a SentencePiece tokenizer.model (its
// LlamaConverter), for BpeTokenizer::from_json: BPE over the model's pieces with merges derived from their scores,
// byte fallback as the model was trained, the dummy prefix and "▁" for spaces as a normalizer (transformers' legacy
// Llama form), the UNKNOWN, CONTROL (both special) and USER_DEFINED pieces as added tokens, and a BOS before every
// encoded text when the model has one, as LlamaTokenizer's add_bos_token defaults to. Ids then match
// SentencePiece's own encoding of text in which no added token appears (transformers' legacy form prepends "▁" to
// each stretch of text between added tokens, SentencePiece only to the first).
// Errors name the file: unreadable, not a SentencePiece model, a unigram (or word, char) model, or a normalization
// the document cannot express (a rule other than identity, collapsing whitespace, whitespace as a suffix).
Result<nlohmann::json> tokenizer_json_from_sentencepiece(const std::filesystem::path& model_file);

}  // namespace tpustack::inferd::tokenizer
