// What libsentencepiece itself does, for tests/inferd/sentencepiece_model_test.cc, which runs this program: the
// library cannot share a process with the tests' system protobuf (it exports its own protobuf 3.14 runtime).
//   sentencepiece_reference train 'ARGS'                  SentencePieceTrainer::Train with spm_train's flags
//   sentencepiece_reference encode MODEL TEXTS.json OUT.json
// TEXTS.json is a JSON array of strings; OUT.json gets {"bos_id", "encodings": [{"ids", "text"}]}: each string's
// EncodeAsIds, and DecodeIds of those ids.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

int fail(const std::string& message) {
  std::cerr << "sentencepiece_reference: " << message << "\n";
  return 1;
}

int encode(const std::string& model, const std::string& texts_path, const std::string& out_path) {
  sentencepiece::SentencePieceProcessor processor;
  if (auto loaded = processor.Load(model); !loaded.ok()) return fail(model + ": " + loaded.ToString());
  std::ifstream texts_file(texts_path);
  const nlohmann::json texts = nlohmann::json::parse(texts_file);
  nlohmann::json encodings = nlohmann::json::array();
  for (const auto& text : texts) {
    const std::vector<int> ids = processor.EncodeAsIds(text.get<std::string>());
    encodings.push_back({{"ids", ids}, {"text", processor.DecodeIds(ids)}});
  }
  std::ofstream(out_path) << nlohmann::json{{"bos_id", processor.bos_id()}, {"encodings", encodings}}.dump();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "train") {
    auto trained = sentencepiece::SentencePieceTrainer::Train(args[1]);
    return trained.ok() ? 0 : fail(trained.ToString());
  }
  if (args.size() == 4 && args[0] == "encode") return encode(args[1], args[2], args[3]);
  return fail("usage: train 'ARGS' | encode MODEL TEXTS.json OUT.json");
}
