"""A loopback server speaking OpenAI's Files and Batches endpoints (and chat completions,
for the live calls a batch run makes), for the batch tests.

Each ``GET /v1/batches/{id}`` moves a batch one step: validating -> in_progress (held
there for ``polls_in_progress`` polls) -> completed (or ``expired``/``failed`` when told
so). On completion it answers every line as the chat endpoint would (a faithful summary
of the prompt, see ``briefing.llm.fake.faithful_reply``); custom ids in ``fail_ids``
get an error line instead, and with ``expire_after`` only that many lines are answered
before the batch expires.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from briefing.llm.fake import faithful_reply


def chat_answer(body: dict[str, Any]) -> dict[str, Any]:
    """What the chat endpoint answers to ``body`` (a faithful summary of its prompt: the
    first user message, the article, also when a repair follows it)."""
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    text = faithful_reply(prompt)
    words = sum(len(m["content"].split()) for m in body["messages"])
    return {
        "id": "chatcmpl-b",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "gpt-4o-mini"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": words,
            "completion_tokens": len(text.split()),
            "total_tokens": words + len(text.split()),
        },
    }


@dataclass
class BatchServer:
    polls_in_progress: int = 1
    #: how a batch ends: "completed", "expired" or "failed"
    outcome: str = "completed"
    #: with outcome "expired": how many lines were answered before it expired
    expire_after: int = 0
    fail_ids: set[str] = field(default_factory=set)
    #: replaces chat_answer for a batch line (e.g. an invalid answer, to force a repair)
    answer: Callable[[dict[str, Any]], dict[str, Any]] = chat_answer
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: int = 0
    created: int = 0
    polls: int = 0
    chat_calls: int = 0
    _polls_seen: dict[str, int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    # -- endpoints ----------------------------------------------------------------------------
    def upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        data, name, purpose = b"", "upload.jsonl", ""
        for part in message.iter_parts():
            field_name = part.get_param("name", header="content-disposition")
            if field_name == "file":
                data = part.get_payload(decode=True) or b""
                name = part.get_filename() or name
            elif field_name == "purpose":
                purpose = (part.get_payload(decode=True) or b"").decode()
        assert purpose == "batch", purpose
        with self.lock:
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = data
            self.uploads += 1
        return {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                "filename": name, "purpose": "batch", "status": "processed"}  # fmt: skip

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        lines = self.files[body["input_file_id"]].decode().splitlines()
        with self.lock:
            batch_id = f"batch_{next(self._ids)}"
            self.created += 1
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"],
                "completion_window": body["completion_window"], "status": "validating",
                "created_at": int(time.time()), "metadata": body.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "output_file_id": None, "error_file_id": None,
            }  # fmt: skip
            return dict(self.batches[batch_id])

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        with self.lock:
            self.polls += 1
            batch = self.batches[batch_id]
            seen = self._polls_seen[batch_id] = self._polls_seen.get(batch_id, 0) + 1
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "in_progress" and seen > self.polls_in_progress:
                self._finish(batch)
            elif batch["status"] == "cancelling":
                batch["status"] = "cancelled"
            return dict(batch)

    def _finish(self, batch: dict[str, Any]) -> None:
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].decode().splitlines()]
        answered = lines if self.outcome == "completed" else lines[: self.expire_after]
        out, errors = [], []
        for line in answered:
            cid = line["custom_id"]
            if cid in self.fail_ids:
                errors.append({"id": f"r-{cid}", "custom_id": cid, "response": {
                    "status_code": 400, "request_id": "x",
                    "body": {"error": {"message": "Invalid request: max_tokens is too large",
                                       "type": "invalid_request_error"}}}, "error": None})  # fmt: skip
                continue
            out.append({"id": f"r-{cid}", "custom_id": cid, "error": None,
                        "response": {"status_code": 200, "request_id": "x",
                                     "body": self.answer(line["body"])}})  # fmt: skip
        if out:
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = "".join(json.dumps(x) + "\n" for x in out).encode()
            batch["output_file_id"] = file_id
        if errors:
            file_id = f"file-{next(self._ids)}"
            self.files[file_id] = "".join(json.dumps(x) + "\n" for x in errors).encode()
            batch["error_file_id"] = file_id
        batch["status"] = self.outcome
        batch["request_counts"] = {"total": len(lines), "completed": len(out),
                                   "failed": len(errors)}  # fmt: skip

    def cancel(self, batch_id: str) -> dict[str, Any]:
        with self.lock:
            self.batches[batch_id]["status"] = "cancelling"
            return dict(self.batches[batch_id])

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.chat_calls += 1
        return chat_answer(body)


def _handler(server: BatchServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            ctype = "application/octet-stream" if raw is not None else "application/json"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/v1/models":
                self._send(200, {"object": "list", "data": [
                    {"id": "gpt-4o-mini", "object": "model", "owned_by": "system"}]})  # fmt: skip
            elif path.startswith("/v1/batches/"):
                self._send(200, server.retrieve(path.rsplit("/", 1)[1]))
            elif path.startswith("/v1/files/") and path.endswith("/content"):
                self._send(200, None, raw=server.files[path.split("/")[3]])
            else:
                self._send(404, {"error": {"message": f"no {path}"}})

        def do_POST(self) -> None:
            path = self.path.split("?")[0]
            raw = self._body()
            if path == "/v1/files":
                self._send(200, server.upload(self.headers["Content-Type"], raw))
            elif path == "/v1/batches":
                self._send(200, server.create(json.loads(raw)))
            elif path.startswith("/v1/batches/") and path.endswith("/cancel"):
                self._send(200, server.cancel(path.split("/")[3]))
            elif path == "/v1/chat/completions":
                self._send(200, server.chat(json.loads(raw)))
            else:
                self._send(404, {"error": {"message": f"no {path}"}})

    return Handler


@contextlib.contextmanager
def running(server: BatchServer) -> Iterator[BatchServer]:
    class Server(ThreadingHTTPServer):
        request_queue_size = 128
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), _handler(server))
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
