"""Results of deterministic steps kept between runs, so an unchanged day costs what
reading its inputs costs: parsed inputs (:mod:`briefing.ingest.parsed`), the duplicate
groups of the day's articles (:func:`briefing.ingest.dedupe.dedupe`) and its story
groups (:func:`briefing.stories.group_stories`). Grounded summaries and model answers
are kept by :mod:`briefing.cache` itself.

A result is keyed on everything it is computed from (``parts``), the cache format and
the code (:func:`briefing.cache.code_fingerprint`: a new version of the code computes it
again). ``store`` is anything with ``get_text(key)``/``put_text(key, kind, value)`` (the
run's :class:`~briefing.cache.SummaryCache`); ``None`` computes without keeping. An
entry that cannot be read back is computed again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TextStore(Protocol):
    def get_text(self, key: str) -> str | None: ...

    def put_text(self, key: str, kind: str, value: str) -> None: ...


def memo_key(kind: str, parts: Iterable[str | bytes]) -> str:
    """``kind:`` and the hash of ``parts`` with the cache format and the code's."""
    from briefing.cache import CACHE_FORMAT, code_fingerprint

    digest = hashlib.sha256()
    for part in (CACHE_FORMAT, code_fingerprint(), *parts):
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big") + data)
    return f"{kind}:{digest.hexdigest()}"


def memoized(
    store: TextStore | None,
    kind: str,
    parts: Iterable[str | bytes],
    compute: Callable[[], T],
    *,
    dump: Callable[[T], Any] = lambda value: value,
    load: Callable[[Any], T] = lambda value: value,
) -> T:
    """``compute()``, or what it gave before for the same ``kind`` and ``parts``.
    ``dump`` turns the result into JSON data, ``load`` back (it may raise ``ValueError``,
    ``KeyError``, ``TypeError`` or ``IndexError`` on a stale entry: computed again)."""
    if store is None:
        return compute()
    key = memo_key(kind, parts)
    text = store.get_text(key)
    if text is not None:
        try:
            return load(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError):
            pass
    value = compute()
    store.put_text(key, kind, json.dumps(dump(value), ensure_ascii=False))
    return value


def index_groups(value: Any, n: int) -> list[list[int]]:
    """``value`` read back as groups of indices below ``n`` (``ValueError`` if it is not)."""
    groups = [[int(i) for i in group] for group in value]
    if any(not 0 <= i < n for group in groups for i in group):
        raise ValueError("an index out of range")
    return groups
