#include "inferd/tokenizer/text_normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/json/json_document.h"

namespace tpustack::inferd::tokenizer {

namespace {

using nlohmann::json;
using tpustack::json::member;

// Whether text is certainly unchanged by a normal form: ASCII is by all four, and every code point below U+0300
// (whose UTF-8 bytes are all below 0xCC) by NFC, since composition needs a combining mark.
bool already_normal(std::string_view text, int options) {
  const unsigned char limit = options == UTF8PROC_COMPOSE ? 0xCC : 0x80;
  return std::all_of(text.begin(), text.end(), [&](char byte) { return static_cast<unsigned char>(byte) < limit; });
}

std::string normal_form(std::string_view text, int options) {
  if (already_normal(text, options)) return std::string(text);
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                   &out, static_cast<utf8proc_option_t>(options | UTF8PROC_STABLE));
  if (length < 0) return std::string(text);  // only for invalid UTF-8, which the caller has already refused
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(length));
}

}  // namespace

Result<void> TextNormalizer::append_steps(const json& normalizer, std::vector<Step>& steps) {
  const std::string type = normalizer.value("type", "");
  if (type == "Sequence") {
    for (const json& inner : member(normalizer, "normalizers")) {
      if (auto added = append_steps(inner, steps); !added) return added;
    }
  } else if (type == "Prepend") {
    steps.push_back({Kind::prepend, "", normalizer.value("prepend", "")});
  } else if (type == "Replace") {
    const json& pattern = member(normalizer, "pattern");
    if (!pattern.is_object() || !pattern.contains("String") || pattern["String"].get<std::string>().empty()) {
      return Error{"normalizer Replace with pattern " + pattern.dump() + " is not supported (a String one is)"};
    }
    steps.push_back({Kind::replace, pattern["String"].get<std::string>(), normalizer.value("content", "")});
  } else if (type == "NFC" || type == "NFKC" || type == "NFD" || type == "NFKD") {
    const Kind kind = type == "NFC" ? Kind::nfc : type == "NFKC" ? Kind::nfkc : type == "NFD" ? Kind::nfd : Kind::nfkd;
    steps.push_back({kind, "", ""});
  } else {
    return Error{"normalizer type '" + type +
                 "' is not supported (Sequence, Prepend, Replace, NFC, NFKC, NFD and NFKD are)"};
  }
  return {};
}

Result<TextNormalizer> TextNormalizer::parse(const json& normalizer) {
  TextNormalizer result;
  if (normalizer.is_null()) return result;
  if (auto parsed = append_steps(normalizer, result.steps_); !parsed) return parsed.error();
  return result;
}

std::string TextNormalizer::apply(std::string_view text) const {
  std::string out(text);
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Kind::prepend:
        // As in tokenizers, an empty text stays empty.
        if (!out.empty()) out.insert(0, step.to);
        break;
      case Kind::replace: {
        std::string replaced;
        replaced.reserve(out.size());
        size_t from = 0;
        for (size_t at = out.find(step.from); at != std::string::npos; at = out.find(step.from, from)) {
          replaced.append(out, from, at - from).append(step.to);
          from = at + step.from.size();
        }
        out = replaced.append(out, from);
        break;
      }
      case Kind::nfc:
        out = normal_form(out, UTF8PROC_COMPOSE);
        break;
      case Kind::nfkc:
        out = normal_form(out, UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
        break;
      case Kind::nfd:
        out = normal_form(out, UTF8PROC_DECOMPOSE);
        break;
      case Kind::nfkd:
        out = normal_form(out, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
        break;
    }
  }
  return out;
}

}  // namespace tpustack::inferd::tokenizer
