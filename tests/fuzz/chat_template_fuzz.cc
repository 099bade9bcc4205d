// libFuzzer target: arbitrary bytes as a model's chat_template (tokenizer_config.json), parsed as inferd parses it
// at load and, when accepted, rendered for a conversation with a system prompt, turns, a tool definition, a tool
// call and its result, as a chat request renders it. An Error is the documented answer to a template inferd cannot
// render; a crash, a hang or exhausted memory is a finding.
//   scripts/fuzz.sh chat_template 600
//   chat_template_fuzz_replay tests/fuzz/corpus/chat_template
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string_view>

#include <nlohmann/json.hpp>

#include "inferd/jinja/chat_template.h"

namespace {

const nlohmann::ordered_json& conversation() {
  static const auto variables = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "  You are terse.\u0085"},
      {"role": "user", "content": "What is 2 + 2? 你好"},
      {"role": "assistant", "content": "<think>sum</think>4",
       "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 2}}}]},
      {"role": "tool", "content": "4"},
      {"role": "user", "content": ""}
    ],
    "tools": [{"type": "function", "function": {"name": "add", "description": "Adds",
               "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "number"}}}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>",
    "enable_thinking": false
  })");
  return variables;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed =
      tpustack::inferd::jinja::ChatTemplate::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) return 0;
  std::tm now{};
  now.tm_year = 126;
  now.tm_mday = 7;
  parsed->render(conversation(), now);
  return 0;
}
