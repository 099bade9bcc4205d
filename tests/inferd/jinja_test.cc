// inferd's Jinja on its own: what a model's chat template renders, and what it refuses and how it says so. The
// agreement with jinja2 itself, construct by construct, is chat_template_reference_test.cc's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "inferd/jinja/chat_template.h"
#include "tests/inferd/chat_template_now.h"
#include "tests/support/result_matchers.h"

namespace tpustack::inferd::jinja {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tpustack::testing::FailsWith;
using tpustack::testing::value_of;

Result<std::string> render(const std::string& source, const char* variables = "{}") {
  auto parsed = ChatTemplate::parse(source);
  if (!parsed) return parsed.error();
  return parsed->render(nlohmann::ordered_json::parse(variables), tpustack::inferd::testing::chat_template_now());
}

// A ChatML template laid out over lines as model repositories write them: trim_blocks and lstrip_blocks take the
// tags' own lines out of the prompt.
constexpr const char* kChatMl = R"({% for message in messages %}
    {% if loop.first and message.role != 'system' %}
<|im_start|>system
You are helpful.<|im_end|>
    {% endif %}
<|im_start|>{{ message.role }}
{{ message.content | trim }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}
)";

TEST(ChatTemplate, RendersAConversationWithTheTagsLinesLeftOut) {
  EXPECT_EQ(value_of(render(kChatMl, R"({"messages": [{"role": "user", "content": "  Hi!\n"}],
                                        "add_generation_prompt": true})")),
            "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(ChatTemplate, RendersToolsAsJsonDumpsWritesThemInTheRequestsKeyOrder) {
  EXPECT_EQ(value_of(render("{{ tools | tojson }}\n{{ tools[0] | tojson(indent=2) }}",
                            R"({"tools": [{"name": "météo", "parameters": {"z": 1, "a": [1.5, true, null]}}]})")),
            "[{\"name\": \"météo\", \"parameters\": {\"z\": 1, \"a\": [1.5, true, null]}}]\n"
            "{\n  \"name\": \"météo\",\n  \"parameters\": {\n    \"z\": 1,\n    \"a\": [\n      1.5,\n      true,\n"
            "      null\n    ]\n  }\n}");
}

TEST(ChatTemplate, TrimRemovesWhatPythonCountsAsWhitespace) {
  // U+0085 and U+001C..U+001F are whitespace to Python (unlike JavaScript's trim); U+FEFF is not.
  EXPECT_EQ(value_of(render("[{{ text | trim }}]", R"({"text": "\u0085\u001c hi \u3000\ufeff"})")),
            "[hi \u3000\ufeff]");
  EXPECT_EQ(value_of(render("[{{ text.strip() }}]", R"({"text": "\u001f\u00a0hi\u2029"})")), "[hi]");
}

TEST(ChatTemplate, AssignmentsInALoopStayInItAndNamespacesCarryThemOut) {
  EXPECT_EQ(value_of(render("{% set last = 'none' %}{% set ns = namespace(last='none') %}"
                            "{% for m in messages %}{% set last = m %}{% set ns.last = m %}{% endfor %}"
                            "{{ last }} {{ ns.last }}",
                            R"({"messages": ["a", "b"]})")),
            "none b");
}

TEST(ChatTemplate, PrintsValuesAsPythonDoes) {
  EXPECT_EQ(value_of(render("{{ [1.0, 1e-05, none, true, 'it\\'s'] }} {{ {'a': 1} }} {{ 7 / 2 }} {{ -7 // 2 }}")),
            "[1.0, 1e-05, None, True, \"it's\"] {'a': 1} 3.5 -4");
}

TEST(ChatTemplate, StrftimeNowFormatsTheTimeTheCallerGives) {
  EXPECT_EQ(value_of(render("{{ strftime_now('%d %b %Y') }}")), "26 Jul 2024");
}

TEST(ChatTemplate, RaiseExceptionFailsWithTheTemplatesOwnMessage) {
  const auto rendered = render(
      "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
      "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
      "{% endif %}{% endfor %}",
      R"({"messages": [{"role": "user"}, {"role": "user"}]})");
  ASSERT_FALSE(rendered.ok());
  EXPECT_EQ(rendered.error().message, "Conversation roles must alternate user/assistant/user/assistant/...");
}

TEST(ChatTemplate, RenderErrorsNameTheLineAndWhatWasWrong) {
  EXPECT_THAT(render("line 1\n{% for m in messages %}\n{{ m.content.upper() }}\n{% endfor %}",
                     R"({"messages": [{"content": null}]})"),
              FailsWith(AllOf(StartsWith("line 3: "), HasSubstr("has no attribute 'upper'"))));
  EXPECT_THAT(render("\n{{ missing.attribute }}"), FailsWith("line 2: 'missing' is undefined"));
  EXPECT_THAT(render("{{ 'a' + 1 }}"), FailsWith("line 1: can only concatenate str (not \"int\") to str"));
  EXPECT_THAT(render("{% for x in none %}{% endfor %}"), FailsWith(HasSubstr("'NoneType' object is not iterable")));
}

TEST(ChatTemplate, RefusesAtLoadWhatItCannotRenderNamingTheLine) {
  EXPECT_THAT(ChatTemplate::parse("\n{{ x | frobnicate }}"), FailsWith("line 2: no filter named 'frobnicate'"));
  EXPECT_THAT(ChatTemplate::parse("{% if x is frobnicated %}{% endif %}"),
              FailsWith("line 1: no test named 'frobnicated'"));
  EXPECT_THAT(ChatTemplate::parse("{% include 'other.jinja' %}"),
              FailsWith("line 1: the tag 'include' is not supported in chat templates"));
  EXPECT_THAT(ChatTemplate::parse("{% frobnicate %}"), FailsWith("line 1: unknown tag 'frobnicate'"));
  EXPECT_THAT(ChatTemplate::parse("\n\n{{ helper(1) }}"), FailsWith(HasSubstr("line 3: unknown function 'helper'")));
  EXPECT_THAT(ChatTemplate::parse("{{ '{}'.format(1) }}"), FailsWith("line 1: the method 'format' is not supported"));
  EXPECT_THAT(ChatTemplate::parse("{% for x in xs recursive %}{% endfor %}"),
              FailsWith("line 1: recursive loops are not supported"));
  EXPECT_THAT(ChatTemplate::parse("{% break %}"), FailsWith("line 1: 'break' outside a for loop"));
}

TEST(ChatTemplate, RefusesMalformedTemplatesNamingTheLine) {
  EXPECT_THAT(ChatTemplate::parse("{% if x %}\nno end"), FailsWith(HasSubstr("expected 'elif' or 'else' or 'endif'")));
  EXPECT_THAT(ChatTemplate::parse("a\n{{ x "), FailsWith("line 2: unexpected end of template, expected '}}'"));
  EXPECT_THAT(ChatTemplate::parse("{{ (1 }}"), FailsWith("line 1: unexpected '}', expected ')'"));
  EXPECT_THAT(ChatTemplate::parse("{{ 'open }}"), FailsWith(HasSubstr("unterminated string")));
  EXPECT_THAT(ChatTemplate::parse("{# never closed"), FailsWith(HasSubstr("missing end of comment tag")));
  EXPECT_THAT(ChatTemplate::parse("{{ x ! y }}"), FailsWith("line 1: unexpected character '!'"));
  EXPECT_THAT(ChatTemplate::parse(std::string("{{ '\xff' }}")), FailsWith(HasSubstr("not valid UTF-8")));
}

TEST(ChatTemplate, RefusesNestingThatWouldExhaustTheStack) {
  EXPECT_THAT(ChatTemplate::parse("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}"),
              FailsWith(HasSubstr("nested too deeply")));
  std::string blocks;
  for (int i = 0; i < 500; ++i) blocks += "{% if true %}";
  EXPECT_THAT(ChatTemplate::parse(blocks), FailsWith(HasSubstr("nested too deeply")));
  EXPECT_THAT(render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"), FailsWith(HasSubstr("nested deeper than")));
}

TEST(ChatTemplate, RefusesWorkThatWouldExhaustMemory) {
  EXPECT_THAT(render("{{ range(1000000) | length }}"), FailsWith(HasSubstr("Range too big")));
  EXPECT_THAT(render("{{ 'x' * 1000000000 }}"), FailsWith(HasSubstr("repetition too large")));
  EXPECT_THAT(render("{{ 2 ** 64 }}"), FailsWith(HasSubstr("integer overflow")));
  EXPECT_THAT(render("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                     "{% endfor %}{{ ns.s | length }}"),
              FailsWith(HasSubstr("concatenation too large")));
  EXPECT_THAT(render("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                     "{% endfor %}{{ ns.s | length }}"),
              FailsWith(HasSubstr("bytes")));
}

// Range loops inside range loops would run for days: the renderer stops them after a budget of steps.
TEST(ChatTemplate, RefusesLoopsThatWouldNeverEnd) {
  EXPECT_THAT(render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
              FailsWith(HasSubstr("the template ran more than 2000000 statements and expressions")));
}

TEST(ChatTemplate, TakesItsVariablesAsAJsonObject) {
  const auto parsed = value_of(ChatTemplate::parse("x"));
  EXPECT_THAT(parsed.render(nlohmann::ordered_json::array(), tpustack::inferd::testing::chat_template_now()),
              FailsWith(HasSubstr("JSON object")));
}

TEST(ChatTemplate, OneParsedTemplateRendersOnManyThreadsAtOnce) {
  const auto parsed = value_of(ChatTemplate::parse(kChatMl));
  std::vector<std::string> prompts(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto variables =
          nlohmann::ordered_json{{"messages", {{{"role", "user"}, {"content", "question " + std::to_string(i)}}}},
                                 {"add_generation_prompt", false}};
      for (int round = 0; round < 50; ++round)
        prompts[i] = value_of(parsed.render(variables, tpustack::inferd::testing::chat_template_now()));
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_THAT(prompts[i], HasSubstr("<|im_start|>user\nquestion " + std::to_string(i) + "<|im_end|>"));
  }
}

}  // namespace
}  // namespace tpustack::inferd::jinja
