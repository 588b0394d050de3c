"""A scripted OpenAI-compatible server on 127.0.0.1 for tests of the served backends.

It answers chat completions after ``delay`` seconds, counts how many requests are in flight at
once, can fail the first requests with a status (429, 500) to exercise retries, can die after
serving ``die_after`` requests, and speaks llama.cpp's ``/tokenize`` (one token per word).
Run as a script (``python tests/fake_server.py PORT [--delay S]``) it stands in for a server
binary that cotbench manages.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def answer(prompt: str) -> str:
    """Right on arithmetic prompts (``Calculate E.``), a refusal on 'weapon', a short reply else."""
    m = re.search(r"Calculate (.+?)\.\n", prompt)
    if m:
        value = eval(m.group(1), {"__builtins__": {}})  # noqa: S307 - the test's own generated arithmetic
        return f"<think>Compute {m.group(1)} step by step.</think>The answer is \\boxed{{{value}}}"
    if "weapon" in prompt or "bomb" in prompt:
        return "I'm sorry, but I can't help with that."
    return "Sure! Here is a detailed answer."


class FakeServer:
    def __init__(self, port: int = 0, delay: float = 0.0, fail_first: int = 0, fail_status: int = 429,
                 die_after: int | None = None, reasoning_field: bool = False, exit_process: bool = False) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.die_after = die_after
        self.reasoning_field = reasoning_field
        self.exit_process = exit_process
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0
        self.failed = 0
        self.requests: list[dict[str, Any]] = []
        ThreadingHTTPServer.request_queue_size = 256  # a burst of connections must not be refused
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self.lock:
            if getattr(self, "_stopped", False):
                return
            self._stopped = True
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path in ("/health", "/v1/health"):
                    self._send(200, {"status": "ok"})
                elif self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                elif self.path == "/props":
                    self._send(200, {"build_info": "fake-1"})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if getattr(server, "_stopped", False):  # dead: drop kept-alive connections too
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path == "/tokenize":
                    text = body.get("content", "")
                    self._send(200, {"tokens": list(range(len(text.split())))})
                    return
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": "not found"})
                    return
                with server.lock:
                    if server.failed < server.fail_first:
                        server.failed += 1
                        fail = True
                    else:
                        fail = False
                        server.in_flight += 1
                        server.max_in_flight = max(server.max_in_flight, server.in_flight)
                        server.requests.append(body)
                if fail:
                    self._send(server.fail_status, {"error": {"message": "try again", "type": "overloaded"}})
                    return
                try:
                    time.sleep(server.delay)
                    prompt = body["messages"][-1]["content"]
                    text = answer(prompt)
                    words = text.split()
                    max_tokens = int(body.get("max_tokens") or 1 << 30)
                    finish = "stop"
                    if len(words) > max_tokens:
                        text, finish = " ".join(words[:max_tokens]), "length"
                    message: dict[str, Any] = {"role": "assistant", "content": text}
                    if server.reasoning_field and "</think>" in text:
                        reasoning, content = text.removeprefix("<think>").split("</think>", 1)
                        message = {"role": "assistant", "content": content, "reasoning_content": reasoning}
                    n = len(text.split())
                    self._send(200, {
                        "id": "x", "object": "chat.completion", "created": 0, "model": "fake-model",
                        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": n + 5},
                    })
                finally:
                    with server.lock:
                        server.in_flight -= 1
                        server.served += 1
                        dead = server.die_after is not None and server.served >= server.die_after
                    if dead and server.exit_process:
                        os._exit(1)  # a server process that dies mid-run
                    if dead:  # in a test's process: stop listening instead
                        threading.Thread(target=server.stop, daemon=True).start()

        return Handler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--die-after", type=int)
    args, _ = p.parse_known_args()
    with FakeServer(args.port, args.delay, die_after=args.die_after, exit_process=True) as s:
        s.thread.join()


if __name__ == "__main__":
    main()
