#!/usr/bin/env python3
"""Writes a JSON-lines file of real paragraphs ({"text": ...} per line) for `inferd bench --texts`: the licence
texts every Debian system ships, split at blank lines, in file order. Their lengths vary from a few words to a
few hundred, like the documents a server is sent.

  make_texts.py --out FILE [--count N] [FILES...]
"""
import argparse
import glob
import json
import re

DEFAULT_SOURCES = sorted(glob.glob("/usr/share/common-licenses/*"))


def paragraphs(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for block in re.split(r"\n\s*\n", f.read()):
            text = " ".join(block.split())
            if len(text) >= 20:
                yield text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("files", nargs="*", default=DEFAULT_SOURCES)
    args = parser.parse_args()
    texts = [t for path in args.files for t in paragraphs(path)][: args.count]
    with open(args.out, "w") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
    print(f"wrote {len(texts)} texts to {args.out}")


if __name__ == "__main__":
    main()
