"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, for tests.

It answers POST /v1/chat/completions from a script of behaviours, one per request (the last repeats):
"ok" (n choices from `answers`, cycling), "429" (rate limited, retry after 10 ms), "500", "slow" (waits
`slow_seconds` before answering), "no_n" (400 when n > 1), "one" (one choice whatever n), and broken 200
answers: "empty" (`"choices": []`), "bad_json" (a JSON body cut short), "html" (an HTML page, as a proxy's
login or error page), "no_content" (a choice whose message has no content). Requests (bodies and headers)
are kept in `requests`. An answer is a text (finish reason "stop") or a pair (text, finish reason). Usage
is counted in words: prompt tokens = the words of the messages, completion tokens = the words of the
choices (`words`).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


def words(text: str) -> int:
    return len(text.split())


class ChatServer:
    def __init__(self, answers: list[str], script: list[str] | None = None, slow_seconds: float = 3.0):
        self.answers, self.script, self.slow_seconds = answers, list(script or ["ok"]), slow_seconds
        self.requests: list[dict] = []
        self.served = 0  # answer index, cycling over `answers`
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
                behaviour = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if behaviour == "429":
                    return self.reply(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                      {"retry-after-ms": "10"})  # fmt: skip
                if behaviour == "500":
                    return self.reply(500, {"error": {"message": "boom", "type": "server_error"}})
                if behaviour in ("bad_json", "html"):
                    text = (
                        '{"id": "chatcmpl-test", "choices": [{"ind'
                        if behaviour == "bad_json"
                        else "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>"
                    )
                    return self.reply(200, None, raw=text.encode(),
                                      content_type="text/html" if behaviour == "html" else "application/json")  # fmt: skip
                if behaviour == "slow":
                    time.sleep(server.slow_seconds)
                n = body.get("n", 1)
                if behaviour == "no_n" and n > 1:
                    return self.reply(400, {"error": {"message": "n > 1 is not supported (n must be 1)",
                                                      "type": "invalid_request_error", "param": "n"}})  # fmt: skip
                count = 1 if behaviour == "one" else 0 if behaviour == "empty" else n
                choices = []
                for i in range(count):
                    answer = server.answers[server.served % len(server.answers)]
                    text, finish = answer if isinstance(answer, tuple) else (answer, "stop")
                    server.served += 1
                    message = {"role": "assistant", "content": None if behaviour == "no_content" else text}
                    choices.append({"index": i, "message": message, "finish_reason": finish})
                prompt = sum(words(m["content"]) for m in body["messages"])
                completion = sum(words(c["message"]["content"] or "") for c in choices)
                self.reply(200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                                 "model": body["model"], "choices": choices,
                                 "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                                           "total_tokens": prompt + completion}})  # fmt: skip

            def reply(self, status, payload, headers=None, raw=None, content_type="application/json"):
                data = json.dumps(payload).encode() if raw is None else raw
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
