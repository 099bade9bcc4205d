"""Renders chat-template cases with jinja2 in the environment Hugging Face's apply_chat_template builds
(transformers/utils/chat_template_utils.py: an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
break/continue and {% generation %}; tojson as json.dumps without ASCII escapes; raise_exception; strftime_now),
the reference inferd's own Jinja is held to.

    python3 render_chat_templates.py CASES.json

CASES.json is a list of {"name", "template", "variables"}; one JSON line is printed per case, in order:
{"name", "output"} or {"name", "error"}.
"""

import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

# What strftime_now reads as the time; the C++ side renders with the same.
NOW = datetime(2024, 7, 26, 9, 5, 0)


class Generation(Extension):
    """{% generation %}...{% endgeneration %} as transformers' AssistantTracker renders it without a mask."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return NOW.strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[Generation, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    env = environment()
    for case in cases:
        line = {"name": case["name"]}
        try:
            line["output"] = env.from_string(case["template"]).render(**case["variables"])
        except Exception as e:  # every failure is an answer to compare with
            line["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
