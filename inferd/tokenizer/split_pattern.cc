#include "inferd/tokenizer/split_pattern.h"

#include <utility>

#include "inferd/tokenizer/unicode_text.h"

namespace tpustack::inferd::tokenizer {

namespace {

using Piece = SplitPattern::Piece;

bool is_break(char32_t c) { return c == U'\r' || c == U'\n'; }
bool is_symbol(char32_t c) { return !is_whitespace(c) && !is_letter(c) && !is_number(c); }

char32_t lower_ascii(char32_t c) { return c >= U'A' && c <= U'Z' ? c + 32 : c; }

// End of the run of characters from `at` that `in_run` accepts.
template <class InRun>
size_t run_end(std::u32string_view text, size_t at, InRun in_run) {
  while (at < text.size() && in_run(text[at])) ++at;
  return at;
}

// End of "'s", "'ll", ... at `at`, or `at` when none is there.
size_t match_contraction(std::u32string_view text, size_t at, bool any_case) {
  if (text[at] != U'\'') return at;
  static constexpr std::u32string_view suffixes[] = {U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"};
  for (std::u32string_view suffix : suffixes) {
    if (text.size() - at - 1 < suffix.size()) continue;
    bool same = true;
    for (size_t i = 0; i < suffix.size() && same; ++i) {
      const char32_t c = text[at + 1 + i];
      same = (any_case ? lower_ascii(c) : c) == suffix[i];
    }
    if (same) return at + 1 + suffix.size();
  }
  return at;
}

// End of `prefix_ok`-optional-character then a non-empty run of `in_run`, or `at`.
template <class Optional, class InRun>
size_t optional_then_run(std::u32string_view text, size_t at, Optional optional, InRun in_run) {
  if (optional(text[at]) && at + 1 < text.size() && in_run(text[at + 1])) return run_end(text, at + 1, in_run);
  return in_run(text[at]) ? run_end(text, at, in_run) : at;
}

const auto is_space_char = [](char32_t c) { return c == U' '; };

// The end of the match of `piece` starting at `at` (< text.size()), or `at` when it does not match there.
size_t match(Piece piece, std::u32string_view text, size_t at) {
  switch (piece) {
    case Piece::contractions:
      return match_contraction(text, at, false);
    case Piece::contractions_any_case:
      return match_contraction(text, at, true);
    case Piece::letters_after_one_other:
      return optional_then_run(
          text, at, [](char32_t c) { return !is_break(c) && !is_letter(c) && !is_number(c); }, is_letter);
    case Piece::letters_after_space:
      return optional_then_run(text, at, is_space_char, is_letter);
    case Piece::digit:
      return is_number(text[at]) ? at + 1 : at;
    case Piece::digits_up_to_three: {
      size_t end = at;
      while (end < text.size() && end - at < 3 && is_number(text[end])) ++end;
      return end;
    }
    case Piece::digits_after_space:
      return optional_then_run(text, at, is_space_char, is_number);
    case Piece::symbols_after_space:
      return optional_then_run(text, at, is_space_char, is_symbol);
    case Piece::symbols_after_space_then_breaks: {
      const size_t end = optional_then_run(text, at, is_space_char, is_symbol);
      return end == at ? at : run_end(text, end, is_break);
    }
    case Piece::spaces_then_breaks: {
      // Greedy \s* gives back characters until [\r\n]+ matches: the match ends after the run's last break.
      const size_t end = run_end(text, at, is_whitespace);
      for (size_t last = end; last > at; --last) {
        if (is_break(text[last - 1])) return last;
      }
      return at;
    }
    case Piece::spaces_before_space_or_end: {
      // \s+ gives back its last space when a non-space follows, so that space can lead the next word.
      const size_t end = run_end(text, at, is_whitespace);
      if (end == at || end == text.size()) return end;
      return end - 1 > at ? end - 1 : at;
    }
    case Piece::spaces:
      return run_end(text, at, is_whitespace);
  }
  return at;
}

}  // namespace

Result<SplitPattern> SplitPattern::parse(std::string_view pattern) {
  static const std::pair<std::string_view, Piece> known[] = {
      {R"((?i:'s|'t|'re|'ve|'m|'ll|'d))", Piece::contractions_any_case},
      {R"('s|'t|'re|'ve|'m|'ll|'d)", Piece::contractions},
      {R"([^\r\n\p{L}\p{N}]?\p{L}+)", Piece::letters_after_one_other},
      {R"( ?\p{L}+)", Piece::letters_after_space},
      {R"(\p{N}{1,3})", Piece::digits_up_to_three},
      {R"( ?\p{N}+)", Piece::digits_after_space},
      {R"(\p{N})", Piece::digit},
      {R"( ?[^\s\p{L}\p{N}]+[\r\n]*)", Piece::symbols_after_space_then_breaks},
      {R"( ?[^\s\p{L}\p{N}]+)", Piece::symbols_after_space},
      {R"(\s*[\r\n]+)", Piece::spaces_then_breaks},
      {R"(\s+(?!\S))", Piece::spaces_before_space_or_end},
      {R"(\s+)", Piece::spaces},
  };
  std::vector<Piece> pieces;
  std::string_view rest = pattern;
  while (!rest.empty()) {
    bool found = false;
    // The longest known piece that the rest starts with and that ends at a top-level '|' or the end.
    for (const auto& [text, piece] : known) {
      if (!rest.starts_with(text) || (rest.size() > text.size() && rest[text.size()] != '|')) continue;
      pieces.push_back(piece);
      rest.remove_prefix(std::min(rest.size(), text.size() + 1));
      found = true;
      break;
    }
    if (!found) {
      return Error{"pre-tokenizer pattern " + std::string(pattern) +
                   " is not supported (the GPT-2, Llama 3 and Qwen patterns are)"};
    }
  }
  if (pieces.empty()) return Error{"pre-tokenizer pattern is empty"};
  return SplitPattern(std::move(pieces));
}

const SplitPattern& SplitPattern::gpt2() {
  static const SplitPattern pattern =
      parse(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)").value();
  return pattern;
}

std::vector<std::u32string_view> SplitPattern::split(std::u32string_view text) const {
  std::vector<std::u32string_view> out;
  size_t gap = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = at;
    for (Piece piece : pieces_) {
      end = match(piece, text, at);
      if (end > at) break;
    }
    if (end == at) {
      ++at;
      continue;
    }
    if (gap < at) out.push_back(text.substr(gap, at - gap));
    out.push_back(text.substr(at, end - at));
    at = gap = end;
  }
  if (gap < text.size()) out.push_back(text.substr(gap));
  return out;
}

}  // namespace tpustack::inferd::tokenizer
