"""The delivery ledger: a SQLite record of who got which brief, safe across crashes.

One row per (profile, brief date, recipient, content hash), with a status:

- ``sending``: written and committed *before* the SMTP transaction for that recipient
  starts (an intent);
- ``sent``: the server answered 250 to the end of ``DATA``;
- ``failed``: the server refused, or the link failed before the message was handed over;
  nothing was delivered, so a rerun tries again.

**The guarantee: at most once per (profile, date, recipient), by default.**

SMTP has no idempotency key and no way to ask a server "did you take message X?". The
only moment of doubt is between the server's 250 and our commit of ``sent`` (or a link
that dies after the whole message went out but before the reply). A row still in
``sending`` on a rerun means exactly that: the process died inside that window, and
the message may or may not have been accepted. Resending would risk a duplicate;
not resending risks a miss. The product promise is "never sends twice", so a rerun
does **not** resend: it reports the recipient as *unknown* (exit code 10, or 7 if
nothing else was sent) and says how to resend. This is the strongest guarantee SMTP
allows: exactly-once would need the server to deduplicate, which SMTP does not offer.

Two ways out, both explicit:

- ``--retry-unknown`` resends to the *unknown* recipients only (at-least-once for them),
  with the **same** ``Message-ID`` as the first try, so receivers that deduplicate on
  ``Message-ID`` (Gmail does, for one mailbox) can drop the copy if the first arrived.
- ``--force`` resends to everyone, with a fresh ``Message-ID`` so it is not deduplicated.

**Channels** (Slack, Telegram, a webhook...; see ``channels.py``) use the same rows: the
"recipient" is ``channel:`` and the channel's redacted name (never its URL or token),
``message_id`` is the delivery id sent with it. A message split into parts (Telegram caps
one at 4,096 characters) records its progress in ``parts_done``, committed after each part
the service accepted: a run cut off after part 2 of 3 leaves ``parts_done = 2``, and a
rerun that may go on (after a failure, or ``--retry-unknown``) sends part 3 only, never
parts 1 and 2 again. ``--force`` starts again from part 1.

A recipient who already received an edition of that date (any content hash) is skipped:
a rebuilt brief with different model output is still "today's brief". ``--force`` sends
the new one. Every write is its own committed transaction (WAL, ``synchronous=FULL``);
claiming a recipient is one ``BEGIN IMMEDIATE`` transaction, so two runs at once (a
timer and a manual ``send``) cannot both claim the same recipient.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from briefing.errors import DeliveryError

__all__ = ["Claim", "DeliveryKey", "Ledger", "LedgerRow"]

Status = Literal["sending", "sent", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    profile      TEXT NOT NULL,
    brief_date   TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    smtp_code    INTEGER,
    detail       TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    parts_done   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (profile, brief_date, recipient, content_hash)
);
CREATE INDEX IF NOT EXISTS deliveries_by_recipient
    ON deliveries (profile, brief_date, recipient);
"""


@dataclass(frozen=True)
class DeliveryKey:
    """What makes a delivery unique. ``recipient`` is the bare address, lower-cased."""

    profile: str
    brief_date: dt.date
    recipient: str
    content_hash: str


@dataclass(frozen=True)
class LedgerRow:
    """One row of the ledger."""

    key: DeliveryKey
    message_id: str
    status: Status
    attempts: int
    smtp_code: int | None
    detail: str
    created_at: str
    updated_at: str
    #: parts of a split channel message the service accepted (0 for mail)
    parts_done: int = 0


_COLUMNS = (
    "profile, brief_date, recipient, content_hash, message_id, status, attempts, smtp_code, "
    "detail, created_at, updated_at, parts_done"
)


@dataclass(frozen=True)
class Claim:
    """The ledger's answer to "may I send this now?"."""

    go: bool
    #: go: ``new``, ``retry`` (an earlier try failed), ``forced``, ``retry-unknown``;
    #: no go: ``sent`` (already delivered) or ``unknown`` (a row stuck in ``sending``)
    reason: Literal["new", "retry", "sent", "unknown", "forced", "retry-unknown"]
    #: the row that decided it, if there was one
    previous: LedgerRow | None = None
    #: on go: parts of this very brief already accepted (a split message resumes there)
    resume_from: int = 0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """The ledger file; use as a context manager (or call :meth:`close`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except (OSError, sqlite3.Error) as e:
            raise DeliveryError(
                f"Cannot open the delivery ledger {self.path}: {e}. "
                "Set `ledger` in the config file or BRIEFING_LEDGER to a writable place."
            ) from e
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(deliveries)")}
            if "parts_done" not in columns:  # a ledger written before channels existed
                self._db.execute(
                    "ALTER TABLE deliveries ADD COLUMN parts_done INTEGER NOT NULL DEFAULT 0"
                )
        except sqlite3.Error as e:
            self._db.close()
            raise DeliveryError(f"The delivery ledger {self.path} is unusable: {e}.") from e

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise DeliveryError(f"The delivery ledger {self.path} is busy or broken: {e}.") from e
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ------------------------------------------------------------------ reading

    def rows(
        self,
        profile: str | None = None,
        brief_date: dt.date | None = None,
        recipient: str | None = None,
    ) -> list[LedgerRow]:
        """Rows matching the given fields, oldest first."""
        where, args = [], []
        for column, value in (
            ("profile", profile),
            ("brief_date", brief_date.isoformat() if brief_date else None),
            ("recipient", recipient),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_COLUMNS} FROM deliveries" + (
            " WHERE " + " AND ".join(where) if where else ""
        )
        cursor = self._db.execute(sql + " ORDER BY created_at, rowid", args)
        return [_row(tuple(r)) for r in cursor.fetchall()]

    # ------------------------------------------------------------------ writing

    def claim(
        self,
        key: DeliveryKey,
        message_id: str,
        *,
        force: bool = False,
        retry_unknown: bool = False,
    ) -> Claim:
        """Decide whether to send to ``key.recipient`` now and, if so, record the intent.

        On ``go`` the row is committed as ``sending`` before this returns: the caller must
        then send and call :meth:`mark_sent` or :meth:`mark_failed`.
        """
        with self._transaction() as db:
            existing = [
                _row(tuple(r))
                for r in db.execute(
                    f"SELECT {_COLUMNS} FROM deliveries WHERE profile = ? AND brief_date = ? "
                    "AND recipient = ? ORDER BY updated_at DESC",
                    (key.profile, key.brief_date.isoformat(), key.recipient),
                ).fetchall()
            ]
            sent = next((r for r in existing if r.status == "sent"), None)
            stuck = next((r for r in existing if r.status == "sending"), None)
            claim: Claim
            if force:
                claim = Claim(True, "forced", sent or stuck)
            elif sent is not None:
                return Claim(False, "sent", sent)
            elif stuck is not None and not retry_unknown:
                return Claim(False, "unknown", stuck)
            elif stuck is not None:
                claim = Claim(True, "retry-unknown", stuck)
            else:
                last = existing[0] if existing else None
                claim = Claim(True, "retry" if last else "new", last)
            same = next((r for r in existing if r.key.content_hash == key.content_hash), None)
            resume = 0 if force or same is None else same.parts_done
            now = _now()
            db.execute(
                "INSERT INTO deliveries (profile, brief_date, recipient, content_hash, "
                "message_id, status, attempts, detail, created_at, updated_at, parts_done) "
                "VALUES (?, ?, ?, ?, ?, 'sending', 0, '', ?, ?, 0) "
                "ON CONFLICT (profile, brief_date, recipient, content_hash) DO UPDATE SET "
                "message_id = excluded.message_id, status = 'sending', smtp_code = NULL, "
                "detail = '', updated_at = excluded.updated_at, parts_done = ?",
                (*_key(key), message_id, now, now, resume),
            )
            return Claim(claim.go, claim.reason, claim.previous, resume)

    def mark_part(self, key: DeliveryKey, parts_done: int) -> None:
        """Record that the service accepted the first ``parts_done`` parts of a split
        message (the row stays ``sending`` until :meth:`mark_sent`)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE deliveries SET parts_done = ?, updated_at = ? WHERE profile = ? "
                "AND brief_date = ? AND recipient = ? AND content_hash = ?",
                (parts_done, _now(), *_key(key)),
            )

    def mark_sent(self, key: DeliveryKey, *, code: int | None, detail: str, attempts: int) -> None:
        """Record that the server accepted the message for ``key.recipient``."""
        self._finish(key, "sent", code, detail, attempts)

    def mark_failed(
        self, key: DeliveryKey, *, code: int | None, detail: str, attempts: int
    ) -> None:
        """Record that the message was definitely not accepted (a rerun tries again)."""
        self._finish(key, "failed", code, detail, attempts)

    def _finish(
        self, key: DeliveryKey, status: Status, code: int | None, detail: str, attempts: int
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, smtp_code = ?, detail = ?, "
                "attempts = attempts + ?, updated_at = ? WHERE profile = ? AND brief_date = ? "
                "AND recipient = ? AND content_hash = ?",
                (status, code, detail[:1000], attempts, _now(), *_key(key)),
            )


def _key(key: DeliveryKey) -> tuple[str, str, str, str]:
    return (key.profile, key.brief_date.isoformat(), key.recipient, key.content_hash)


def _row(r: tuple[object, ...]) -> LedgerRow:
    profile, date, recipient, chash, mid, status, attempts, code, detail, created, updated = r[:11]
    return LedgerRow(
        key=DeliveryKey(str(profile), dt.date.fromisoformat(str(date)), str(recipient), str(chash)),
        message_id=str(mid),
        status=status,  # type: ignore[arg-type]  # the CHECK constraint keeps it one of three
        attempts=int(attempts),  # type: ignore[call-overload]
        smtp_code=None if code is None else int(code),  # type: ignore[call-overload]
        detail=str(detail),
        created_at=str(created),
        updated_at=str(updated),
        parts_done=int(r[11]),  # type: ignore[call-overload]
    )
