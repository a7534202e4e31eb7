"""The Batch API of OpenAI and compatible servers: upload a JSONL file of requests
(``/v1/files``, purpose ``batch``), create a batch (``/v1/batches``), follow it, fetch
its output and error files, cancel it.

Through the official ``openai`` SDK: these calls are few and not latency-bound (its
import, about 0.85 s, is paid only by batch runs), and its multipart upload and file
download are what the endpoints expect. Its own retries (2, with backoff) are on: an
upload or a poll is safe to repeat. Errors become one-line ``ProviderError``s without
keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from briefing.errors import ProviderError
from briefing.llm.retry import error_message, one_line

T = TypeVar("T")

#: OpenAI's limits for one batch input file (https://platform.openai.com/docs/guides/batch)
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
#: batch states after which nothing changes
TERMINAL = ("completed", "failed", "expired", "cancelled")


class BatchAPI:
    """The files and batches endpoints at ``base_url`` (``…/v1``)."""

    def __init__(
        self, *, base_url: str, api_key: str, timeout: float = 120.0, connect_timeout: float = 10.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key or "no-key"
        self._timeout = (timeout, connect_timeout)
        self._sdk: Any = None

    @property
    def _client(self) -> Any:
        if self._sdk is None:
            import openai

            read, connect = self._timeout
            self._sdk = openai.OpenAI(
                api_key=self._key,
                base_url=self.base_url,
                max_retries=2,
                timeout=openai.Timeout(read, connect=connect),
            )
        return self._sdk

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        import openai

        try:
            return fn()
        except openai.APIStatusError as e:
            message = one_line(error_message(e)).replace(self._key, "[redacted]")
            raise ProviderError(
                f"{self.base_url}: {what} failed (HTTP {e.status_code}): {message}",
                status_code=e.status_code,
            ) from None
        except openai.APIConnectionError as e:
            raise ProviderError(
                f"{self.base_url}: {what} failed: cannot reach the server ({type(e).__name__})."
            ) from None

    def upload(self, name: str, data: bytes) -> str:
        """Upload a JSONL input file; its file id."""
        done = self._call(
            "uploading the batch file",
            lambda: self._client.files.create(file=(name, data), purpose="batch"),
        )
        return str(done.id)

    def create(self, file_id: str, metadata: Mapping[str, str]) -> dict[str, Any]:
        """Start a batch over an uploaded file (chat completions, 24 h window)."""
        done = self._call(
            "creating the batch",
            functools.partial(
                self._client.batches.create,
                input_file_id=file_id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=dict(metadata),
            ),
        )
        return _plain(done)

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        return _plain(
            self._call("asking for the batch", lambda: self._client.batches.retrieve(batch_id))
        )

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return _plain(
            self._call("cancelling the batch", lambda: self._client.batches.cancel(batch_id))
        )

    def content(self, file_id: str) -> bytes:
        """A file's bytes (a batch's output or error file)."""
        done = self._call(
            "downloading the batch results", lambda: self._client.files.content(file_id)
        )
        return bytes(done.content)

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()


def _plain(obj: Any) -> dict[str, Any]:
    """The SDK's object as plain JSON data."""
    dump = getattr(obj, "model_dump", None)
    return dict(dump(mode="json")) if dump else dict(obj)
