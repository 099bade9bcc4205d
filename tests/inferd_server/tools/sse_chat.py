"""A Python client over plain HTTP (http.client, no SDK) that streams a chat completion from inferd and reads the
server-sent events as they arrive: prints the content, then "finish_reason=... completion_tokens=... done".

    python3 sse_chat.py http://127.0.0.1:PORT MODEL
"""
import http.client
import json
import sys
import urllib.parse


def main():
    url = urllib.parse.urlparse(sys.argv[1])
    body = {"model": sys.argv[2], "messages": [{"role": "user", "content": "Tell me a story"}], "max_tokens": 10,
            "temperature": 0, "ignore_eos": True, "stream": True, "stream_options": {"include_usage": True}}
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200 or not response.getheader("Content-Type", "").startswith("text/event-stream"):
        sys.exit(f"status {response.status}, Content-Type {response.getheader('Content-Type')}")
    content, finish, usage, done = "", None, None, False
    for raw in response:  # one line at a time, as the chunks arrive
        line = raw.decode("utf-8").rstrip("\n")
        if not line.startswith("data: "):
            continue
        data = line[len("data: "):]
        if data == "[DONE]":
            done = True
            break
        chunk = json.loads(data)
        usage = chunk.get("usage") or usage
        for choice in chunk["choices"]:
            content += choice["delta"].get("content") or ""
            finish = choice["finish_reason"] or finish
    print(json.dumps(content))
    print(f"finish_reason={finish} completion_tokens={usage and usage['completion_tokens']} done={done}")


main()
