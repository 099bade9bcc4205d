#include "inferd/tokenizer/bpe_pre_tokenizer.h"

#include "common/json/json_document.h"
#include "inferd/tokenizer/byte_level.h"
#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::json::member;

// The runs of digits (or each digit) of word and the text between them, in order.
void split_digits(const std::string& word, bool individual, std::vector<std::string>& out) {
  std::vector<size_t> offsets;
  auto code_points = decode_utf8(word, &offsets);
  if (!code_points) {
    out.push_back(word);
    return;
  }
  std::u32string_view text = *code_points;
  size_t start = 0;
  for (size_t at = 1; at <= text.size(); ++at) {
    const bool boundary =
        at == text.size() || is_number(text[at]) != is_number(text[at - 1]) || (individual && is_number(text[at]));
    if (!boundary) continue;
    out.push_back(word.substr(offsets[start], offsets[at] - offsets[start]));
    start = at;
  }
}

std::vector<std::string> split_word(const std::string& word, const SplitPattern& pattern) {
  std::vector<std::string> out;
  std::vector<size_t> offsets;
  auto code_points = decode_utf8(word, &offsets);
  if (!code_points) return {word};
  const char32_t* base = code_points->data();
  for (std::u32string_view piece : pattern.split(*code_points)) {
    // The pieces are views of code_points: their code point range gives their bytes in word.
    const auto first = static_cast<size_t>(piece.data() - base);
    out.push_back(word.substr(offsets[first], offsets[first + piece.size()] - offsets[first]));
  }
  return out;
}

}  // namespace

Result<void> BpePreTokenizer::append_steps(const json& pre_tokenizer, std::vector<Step>& steps) {
  const std::string type = pre_tokenizer.value("type", "");
  if (type == "Sequence") {
    for (const json& inner : member(pre_tokenizer, "pretokenizers")) {
      if (auto added = append_steps(inner, steps); !added) return added;
    }
  } else if (type == "Split") {
    const json& pattern = member(pre_tokenizer, "pattern");
    if (!pattern.is_object() || !pattern.contains("Regex")) {
      return Error{"pre_tokenizer Split with pattern " + pattern.dump() + " is not supported (a Regex one is)"};
    }
    if (pre_tokenizer.value("behavior", "") != "Isolated" || pre_tokenizer.value("invert", false)) {
      return Error{"pre_tokenizer Split is supported with behavior Isolated and invert false only"};
    }
    auto parsed = SplitPattern::parse(pattern["Regex"].get<std::string>());
    if (!parsed) return parsed.error();
    Step step;
    step.kind = Kind::split;
    step.pattern = std::move(parsed).value();
    steps.push_back(step);
  } else if (type == "ByteLevel") {
    Step step;
    step.kind = Kind::byte_level;
    step.add_prefix_space = pre_tokenizer.value("add_prefix_space", true);
    if (pre_tokenizer.value("use_regex", true)) step.pattern = SplitPattern::gpt2();
    steps.push_back(step);
  } else if (type == "Metaspace") {
    Step step;
    step.kind = Kind::metaspace;
    step.replacement = pre_tokenizer.value("replacement", "\u2581");
    if (step.replacement.empty()) return Error{"pre_tokenizer Metaspace needs a replacement character"};
    const std::string scheme = pre_tokenizer.value("prepend_scheme", "always");
    step.add_prefix_space = pre_tokenizer.value("add_prefix_space", true) && scheme != "never";
    step.prepend_first_only = scheme == "first";
    step.split_words = pre_tokenizer.value("split", true);
    steps.push_back(step);
  } else if (type == "Digits") {
    Step step;
    step.kind = Kind::digits;
    step.split_words = pre_tokenizer.value("individual_digits", false);
    steps.push_back(step);
  } else {
    return Error{"pre_tokenizer type '" + type +
                 "' is not supported (Sequence, Split, ByteLevel, Metaspace and Digits are)"};
  }
  return {};
}

Result<BpePreTokenizer> BpePreTokenizer::parse(const json& pre_tokenizer) {
  BpePreTokenizer result;
  if (pre_tokenizer.is_null()) return result;
  if (auto parsed = append_steps(pre_tokenizer, result.steps_); !parsed) return parsed.error();
  return result;
}

std::vector<std::string> BpePreTokenizer::words(std::string_view text, bool first_segment) const {
  std::vector<std::string> words{std::string(text)};
  for (const Step& step : steps_) {
    std::vector<std::string> next;
    for (std::string& word : words) {
      switch (step.kind) {
        case Kind::split:
          for (std::string& piece : split_word(word, *step.pattern)) next.push_back(std::move(piece));
          break;
        case Kind::byte_level: {
          if (step.add_prefix_space && !word.starts_with(' ')) word.insert(0, " ");
          if (!step.pattern) {
            next.push_back(bytes_to_byte_level(word));
            break;
          }
          for (const std::string& piece : split_word(word, *step.pattern)) next.push_back(bytes_to_byte_level(piece));
          break;
        }
        case Kind::digits:
          split_digits(word, step.split_words, next);
          break;
        case Kind::metaspace: {
          std::string replaced;
          for (char c : word) {
            if (c == ' ') {
              replaced += step.replacement;
            } else {
              replaced += c;
            }
          }
          if (step.add_prefix_space && !replaced.starts_with(step.replacement) &&
              (!step.prepend_first_only || first_segment)) {
            replaced.insert(0, step.replacement);
          }
          if (!step.split_words) {
            next.push_back(std::move(replaced));
            break;
          }
          // Each replacement character begins a word (tokenizers' MergedWithNext).
          size_t start = 0;
          for (size_t at = replaced.find(step.replacement, 1); at != std::string::npos;
               at = replaced.find(step.replacement, at + step.replacement.size())) {
            next.push_back(replaced.substr(start, at - start));
            start = at;
          }
          next.push_back(replaced.substr(start));
          break;
        }
      }
    }
    std::erase_if(next, [](const std::string& word) { return word.empty(); });
    words = std::move(next);
  }
  return words;
}

}  // namespace tpustack::inferd::tokenizer
