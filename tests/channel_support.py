"""A loopback HTTP receiver standing in for webhooks, ntfy, Telegram's and Slack's APIs:
records every request, answers from a script (statuses per path, holds, dropped links)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: tokens no output, log line, ledger row or dry-run file may ever contain
TG_TOKEN = "123456789:AAcanaryTelegramTokenXyZ0123456789ab"
SLACK_TOKENS = ("T0CANARY1", "B0CANARY2", "canarySlackSecretToken77")
HOOK_PATH_TOKEN = "hookpathcanary9f8e7d6c5b4a"
HMAC_SECRET = "hmac-canary-secret-5c4b3a29"
NTFY_TOKEN = "tk_ntfycanarytoken0123456789"
CANARIES = (TG_TOKEN, *SLACK_TOKENS, HOOK_PATH_TOKEN, HMAC_SECRET, NTFY_TOKEN)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Script:
    """How the receiver answers. Keys are path prefixes (the longest that matches wins)."""

    #: statuses to answer in turn (then 200)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    #: body of a 2xx answer
    ok_body: dict[str, bytes] = field(default_factory=dict)
    #: answer only once the event is set (the request is recorded first)
    hold: dict[str, threading.Event] = field(default_factory=dict)
    #: close the connection without answering, once per listed path
    drop: list[str] = field(default_factory=list)
    retry_after: str | None = None


class Receiver:
    """Runs on 127.0.0.1 in a thread; ``received`` lists what came in, in order."""

    def __init__(self) -> None:
        self.script = Script()
        self.received: list[Request] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                path = self.path
                with receiver.arrived:
                    receiver.received.append(
                        Request(self.command, path, dict(self.headers), body, time.monotonic())
                    )
                    receiver.arrived.notify_all()
                script = receiver.script
                event = receiver._match(script.hold, path)
                if event is not None:
                    event.wait(30)
                if any(path.startswith(p) for p in script.drop):
                    script.drop.remove(next(p for p in script.drop if path.startswith(p)))
                    self.close_connection = True
                    self.connection.close()
                    return
                queue = receiver._match(script.statuses, path)
                status = queue.pop(0) if queue else 200
                if 200 <= status < 300:
                    out = receiver._match(script.ok_body, path) or b'{"ok": true, "result": {}}'
                else:
                    out = json.dumps({"ok": False, "error": f"scripted {status}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                if status in (429, 503) and script.retry_after is not None:
                    self.send_header("Retry-After", script.retry_after)
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_PUT = _any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def _match(table: dict[str, Any], path: str) -> Any:
        keys = sorted((k for k in table if path.startswith(k)), key=len, reverse=True)
        return table[keys[0]] if keys else None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def to(self, prefix: str) -> list[Request]:
        with self.lock:
            return [r for r in self.received if r.path.startswith(prefix)]

    def wait_for(self, prefix: str, n: int = 1, timeout: float = 30) -> list[Request]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len([r for r in self.received if r.path.startswith(prefix)]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no request to {prefix} within {timeout} s")
                self.arrived.wait(left)
            return [r for r in self.received if r.path.startswith(prefix)]


@contextmanager
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    try:
        yield rec
    finally:
        for event in rec.script.hold.values():
            event.set()
        rec.server.shutdown()
        rec.server.server_close()
