#!/usr/bin/env python3
"""A model registry or Hugging Face-style hub for tests: serves a directory over HTTP as those servers do, with
injected faults.

  registry_server.py --root DIR [--cut-once SUFFIX ...] [--corrupt SUFFIX ...] [--throttle BYTES_PER_SECOND]

Prints "PORT <n>" once listening on 127.0.0.1. Like the real servers, every file answers with a strong ETag (its
sha256, as the hub gives for LFS files), honours Range only when If-Range (if sent) still matches that ETag (else the
whole file, 200), and answers HEAD. Hub paths <repo>/resolve/<revision>/<file> follow <repo>/refs/<revision> (a file
holding a commit) to <repo>/resolve/<commit>/<file>, and carry X-Repo-Commit.
A path ending in a --cut-once suffix sends half its body and drops the connection the first time it is asked for;
one ending in a --corrupt suffix always has its last byte flipped; --throttle slows every body down.
GET /_requests returns [{"path":..., "range":..., "if_range":...}] for every request so far.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--cut-once", action="append", default=[])
    parser.add_argument("--corrupt", action="append", default=[])
    parser.add_argument("--throttle", type=int, default=0)
    args = parser.parse_args()
    lock = threading.Lock()
    requests = []
    cut_pending = set(args.cut_once)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_HEAD(self):
            self.do_GET(head=True)

        def resolve(self):
            """The file a path names, and the commit of a hub path (None elsewhere)."""
            path = self.path.lstrip("/")
            commit = None
            hub = re.match(r"^(.+?)/resolve/([^/]+)/(.+)$", path)
            if hub:
                repo, revision, rest = hub.groups()
                ref = os.path.join(args.root, repo, "refs", revision)
                commit = open(ref).read().strip() if os.path.isfile(ref) else revision
                path = f"{repo}/resolve/{commit}/{rest}"
            file = os.path.realpath(os.path.join(args.root, path))
            if not file.startswith(os.path.realpath(args.root)) or not os.path.isfile(file):
                return None, commit
            return file, commit

        def do_GET(self, head=False):
            if self.path == "/_requests":
                with lock:
                    body = json.dumps(requests).encode()
                return self.reply(200, body)
            with lock:
                requests.append({"path": self.path, "method": "HEAD" if head else "GET",
                                 "range": self.headers.get("Range"), "if_range": self.headers.get("If-Range")})
            file, commit = self.resolve()
            if file is None:
                return self.reply(404, b"not found")
            with open(file, "rb") as f:
                data = f.read()
            if any(self.path.endswith(s) for s in args.corrupt) and data:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            etag = '"' + hashlib.sha256(data).hexdigest() + '"'
            start = 0
            ranged = self.headers.get("Range", "")
            if_range = self.headers.get("If-Range")
            if ranged.startswith("bytes=") and ranged.endswith("-") and (if_range is None or if_range == etag):
                start = int(ranged[len("bytes="):-1])
                if start >= len(data):
                    return self.reply(416, b"")
            cut = None
            with lock:
                for suffix in list(cut_pending):
                    if self.path.endswith(suffix) and not head:
                        cut_pending.discard(suffix)
                        cut = (len(data) - start) // 2
            status = 206 if start else 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) - start))
            self.send_header("ETag", etag)
            if commit:
                self.send_header("X-Repo-Commit", commit)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if head:
                return
            body = data[start:start + cut] if cut is not None else data[start:]
            step = max(1, args.throttle // 20) if args.throttle else len(body) or 1
            for offset in range(0, len(body), step):
                self.wfile.write(body[offset:offset + step])
                if args.throttle:
                    self.wfile.flush()
                    time.sleep(step / args.throttle)
            if cut is not None:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)

        def reply(self, status, body):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
