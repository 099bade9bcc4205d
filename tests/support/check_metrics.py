#!/usr/bin/env python3
"""Checks a Prometheus text exposition (a file, or stdin) the way Prometheus and `promtool check metrics` would.

It parses with prometheus_client's own text parser (Debian python3-prometheus-client), which fails on any line
Prometheus' scraper would refuse, then applies promtool's naming lints to the raw # TYPE / # HELP lines (the parser
renames a counter without `_total`, so that lint must read the text itself). Exits 0 when clean, 1 with one line a
problem, 77 (ctest: skipped) when prometheus_client is not installed.

    check_metrics.py FILE [--require NAME ...]    NAME: a family that must be present (as # TYPE names it)
"""
import argparse
import re
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("prometheus_client is not installed (Debian python3-prometheus-client)", file=sys.stderr)
    sys.exit(77)

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
# promtool's lintMetricTypeInName and lintUnitAbbreviations / lintMetricUnits, for names in snake case.
TYPE_WORDS = ("_counter", "_gauge", "_histogram", "_summary")
NON_BASE_UNITS = ("_ms", "_msec", "_milliseconds", "_microseconds", "_nanoseconds", "_sec", "_secs", "_minutes",
                  "_hours", "_days", "_kilobytes", "_megabytes", "_gigabytes", "_percent")


def problems(text, required):
    found = []
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser raises ValueError and friends on any malformed line
        return [f"the exposition does not parse: {error}"]
    if not families:
        found.append("the exposition has no metrics")
    types, helps = {}, set()
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] == "#" and parts[1] == "TYPE":
            name, kind = parts[2], (parts[3] if len(parts) > 3 else "")
            if name in types:
                found.append(f"{name}: a second # TYPE line")
            types[name] = kind
        elif len(parts) >= 3 and parts[0] == "#" and parts[1] == "HELP":
            helps.add(parts[2])
    for name, kind in types.items():
        if not NAME.match(name):
            found.append(f"{name}: not a valid metric name")
        if kind not in TYPES:
            found.append(f"{name}: unknown type {kind!r}")
        if name not in helps:
            found.append(f"{name}: no # HELP line")
        if kind == "counter" and not name.endswith("_total"):
            found.append(f"{name}: counter metrics should have \"_total\" suffix")
        if kind != "counter" and name.endswith("_total"):
            found.append(f"{name}: non-counter metrics should not have \"_total\" suffix")
        if kind not in ("histogram", "summary") and name.endswith(("_bucket", "_count", "_sum")):
            found.append(f"{name}: non-histogram and non-summary metrics should not have \"{name.rsplit('_', 1)[1]}\" suffix")
        if name != name.lower():
            found.append(f"{name}: metric names should be written in 'snake_case' not 'camelCase'")
        if any(word in name for word in TYPE_WORDS):
            found.append(f"{name}: metric name should not include type")
        if any(name.endswith(unit) or f"{unit}_" in name for unit in NON_BASE_UNITS):
            found.append(f"{name}: use base units (seconds, bytes, ratios) and their full names")
    for family in families:
        for sample in family.samples:
            if kind_of(types, sample.name) is None:
                found.append(f"{sample.name}: a sample without a # TYPE line for its family")
            if "le" in sample.labels and family.type != "histogram":
                found.append(f"{sample.name}: the label \"le\" is reserved for histograms")
    for name in required:
        if name not in types:
            found.append(f"{name}: missing")
    return found


def kind_of(types, sample_name):
    for suffix in ("", "_total", "_bucket", "_count", "_sum", "_created"):
        if sample_name.endswith(suffix) and sample_name[: len(sample_name) - len(suffix)] in types:
            return types[sample_name[: len(sample_name) - len(suffix)]]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default="-")
    parser.add_argument("--require", action="append", default=[])
    args = parser.parse_args()
    text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    found = problems(text, args.require)
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
