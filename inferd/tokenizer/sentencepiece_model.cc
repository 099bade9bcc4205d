#include "inferd/tokenizer/sentencepiece_model.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/files/file_text.h"
#include "proto/sentencepiece/sentencepiece_model.pb.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::sentencepiece::ModelProto;
using tpustack::sentencepiece::NormalizerSpec;
using tpustack::sentencepiece::TrainerSpec;
using Piece = ModelProto::SentencePiece;

constexpr std::string_view metaspace = "\u2581";  // SentencePiece's stand-in for a space

// SentencePiece's normalization, which the document can only say when it is no more than the space handling (the
// identity rule, as Llama's models are trained with).
Result<void> check_normalizer(const ModelProto& model) {
  const NormalizerSpec& spec = model.normalizer_spec();
  if (!spec.precompiled_charsmap().empty()) {
    return Error{"normalization rule '" + spec.name() + "' is not supported (identity is)"};
  }
  if (spec.remove_extra_whitespaces()) return Error{"normalizer_spec.remove_extra_whitespaces is not supported"};
  if (!spec.escape_whitespaces()) return Error{"normalizer_spec.escape_whitespaces false is not supported"};
  if (model.trainer_spec().treat_whitespace_as_suffix()) {
    return Error{"trainer_spec.treat_whitespace_as_suffix is not supported"};
  }
  return {};
}

// transformers' SentencePieceExtractor: a merge of every split of a piece, at a character boundary, into two pieces
// of the vocabulary; higher-scoring pieces first (by id where scores tie), each piece's by its parts' ids.
// SentencePiece's BPE joins the adjacent pair whose union scores highest, so the ranks agree with it.
json merges_of(const ModelProto& model, const std::unordered_map<std::string_view, int>& ids) {
  struct Merge {
    float score;
    int piece, left, right;
    size_t split;
  };
  std::vector<Merge> merges;
  for (int id = 0; id < model.pieces_size(); ++id) {
    const std::string_view piece = model.pieces(id).piece();
    for (size_t split = 1; split < piece.size(); ++split) {
      if ((static_cast<unsigned char>(piece[split]) & 0xC0) == 0x80) continue;  // inside a character
      const auto left = ids.find(piece.substr(0, split));
      const auto right = ids.find(piece.substr(split));
      if (left != ids.end() && right != ids.end()) {
        merges.push_back({model.pieces(id).score(), id, left->second, right->second, split});
      }
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(b.score, a.piece, a.left, a.right) < std::tie(a.score, b.piece, b.left, b.right);
  });
  json out = json::array();
  for (const Merge& merge : merges) {
    const std::string& piece = model.pieces(merge.piece).piece();
    out.push_back({piece.substr(0, merge.split), piece.substr(merge.split)});
  }
  return out;
}

// LlamaTokenizerFast's template: the BOS before each sequence.
json bos_template(const std::string& bos, int bos_id) {
  const json special = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
  const json second_special = {{"SpecialToken", {{"id", bos}, {"type_id", 1}}}};
  return {{"type", "TemplateProcessing"},
          {"single", {special, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair",
           {special,
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
            second_special,
            {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
          {"special_tokens", {{bos, {{"id", bos}, {"ids", {bos_id}}, {"tokens", {bos}}}}}}};
}

Result<json> convert(const std::string& bytes) {
  ModelProto model;
  if (!model.ParseFromString(bytes) || model.pieces_size() == 0) return Error{"not a SentencePiece model"};
  const TrainerSpec& trainer = model.trainer_spec();
  if (trainer.model_type() != TrainerSpec::BPE) {
    std::string type = TrainerSpec::ModelType_Name(trainer.model_type());
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    return Error{"a SentencePiece " + type + " model; only BPE ones (as Llama's) are supported"};
  }
  if (auto normalizer = check_normalizer(model); !normalizer) return normalizer.error();

  json vocab = json::object();
  std::unordered_map<std::string_view, int> ids;
  json added_tokens = json::array();
  std::string unk;
  int bos_id = -1;
  for (int id = 0; id < model.pieces_size(); ++id) {
    const Piece& piece = model.pieces(id);
    if (!ids.emplace(piece.piece(), id).second) return Error{"piece '" + piece.piece() + "' appears twice"};
    vocab[piece.piece()] = id;
    if (piece.type() == Piece::UNKNOWN) unk = piece.piece();
    if (piece.type() == Piece::CONTROL && piece.piece() == trainer.bos_piece()) bos_id = id;
    if (piece.type() == Piece::UNKNOWN || piece.type() == Piece::CONTROL || piece.type() == Piece::USER_DEFINED) {
      added_tokens.push_back({{"id", id},
                              {"content", piece.piece()},
                              {"single_word", false},
                              {"lstrip", false},
                              {"rstrip", false},
                              {"normalized", false},
                              {"special", piece.type() != Piece::USER_DEFINED}});
    }
  }
  if (unk.empty()) return Error{"no UNKNOWN piece"};

  const bool dummy_prefix = model.normalizer_spec().add_dummy_prefix();
  json normalizers = json::array();
  if (dummy_prefix) normalizers.push_back({{"type", "Prepend"}, {"prepend", metaspace}});
  normalizers.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", metaspace}});
  json decoders = {{{"type", "Replace"}, {"pattern", {{"String", metaspace}}}, {"content", " "}},
                   {{"type", "ByteFallback"}},
                   {{"type", "Fuse"}}};
  if (dummy_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});

  json merges = merges_of(model, ids);
  return json{{"version", "1.0"},
              {"added_tokens", std::move(added_tokens)},
              {"normalizer", {{"type", "Sequence"}, {"normalizers", std::move(normalizers)}}},
              {"pre_tokenizer", nullptr},
              {"post_processor", bos_id >= 0 ? bos_template(model.pieces(bos_id).piece(), bos_id) : json(nullptr)},
              {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", unk},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", true},
                {"byte_fallback", trainer.byte_fallback()},
                {"ignore_merges", false},
                {"vocab", std::move(vocab)},
                {"merges", std::move(merges)}}}};
}

}  // namespace

Result<json> tokenizer_json_from_sentencepiece(const std::filesystem::path& model_file) {
  auto bytes = files::read_file_text(model_file, "SentencePiece model");
  if (!bytes) return bytes.error();
  auto doc = convert(*bytes);
  if (!doc) return Error{model_file.string() + ": " + doc.error().message};
  return doc;
}

}  // namespace tpustack::inferd::tokenizer
