#!/usr/bin/env python3
"""A model registry for tests: serves a directory over HTTP with Range support and injected faults.

  registry_server.py --root DIR [--cut-once SUFFIX ...] [--corrupt SUFFIX ...]

Prints "PORT <n>" once listening on 127.0.0.1. A path ending in a --cut-once suffix sends half its body and drops the
connection the first time it is asked for; one ending in a --corrupt suffix always has its last byte flipped.
GET /_requests returns [{"path":..., "range":...}] for every request so far.
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--cut-once", action="append", default=[])
    parser.add_argument("--corrupt", action="append", default=[])
    args = parser.parse_args()
    lock = threading.Lock()
    requests = []
    cut_pending = set(args.cut_once)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_GET(self):
            if self.path == "/_requests":
                with lock:
                    body = json.dumps(requests).encode()
                return self.reply(200, body)
            with lock:
                requests.append({"path": self.path, "range": self.headers.get("Range")})
            file = os.path.realpath(os.path.join(args.root, self.path.lstrip("/")))
            if not file.startswith(os.path.realpath(args.root)) or not os.path.isfile(file):
                return self.reply(404, b"not found")
            with open(file, "rb") as f:
                data = f.read()
            if any(self.path.endswith(s) for s in args.corrupt) and data:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            start = 0
            ranged = self.headers.get("Range", "")
            if ranged.startswith("bytes=") and ranged.endswith("-"):
                start = int(ranged[len("bytes="):-1])
                if start >= len(data):
                    return self.reply(416, b"")
            cut = None
            with lock:
                for suffix in list(cut_pending):
                    if self.path.endswith(suffix):
                        cut_pending.discard(suffix)
                        cut = (len(data) - start) // 2
            status = 206 if start else 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(data) - start))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if cut is not None:
                self.wfile.write(data[start:start + cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(data[start:])

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
