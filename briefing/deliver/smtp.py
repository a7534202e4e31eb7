"""SMTP transport: one transaction per recipient over a reused, encrypted, authenticated link.

Why one transaction per recipient (not one ``sendmail`` to all): each recipient gets its
own envelope (``MAIL FROM`` / one ``RCPT TO`` / ``DATA``), so the server's answer for
that transaction is the answer for that recipient alone. That makes the ledger's
"sending" -> "sent" step exact per recipient, keeps one bad address (550) from touching
the others, and lets a transient refusal (421, 451, a dropped link) be retried for just
that recipient. The cost is one ``DATA`` per recipient over the same connection, which
is nothing at the scale of a morning brief.

Every outcome is one of:

- ``sent``: the server answered 250 to the end of ``DATA``; it owns the message now.
- ``failed``: definitely not accepted (a 4xx/5xx reply, or the link failed before the
  whole message was handed over). ``permanent`` tells 5xx from "gave up retrying".
- ``unknown``: the whole message was handed over but the link died before the reply.
  The server may have accepted it; it is never retried automatically (see ledger.py).

Transient failures (4xx replies, refused or dropped connections, timeouts) are retried
with exponential backoff by tenacity; 5xx replies are not. The password is only handed to
``smtplib.SMTP.login``; it is not logged, not in any message and not in ``repr``.
``smtplib``'s debug output (which would show the AUTH exchange) is never switched on.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from briefing.errors import DeliveryError

__all__ = ["SmtpResult", "SmtpSender", "SmtpSettings"]

log = logging.getLogger("briefing.deliver")

Outcome = Literal["sent", "failed", "unknown"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect. Build it with :func:`briefing.config.smtp_settings`."""

    host: str
    port: int
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    ca_file: Path | None = None
    attempts: int = 4
    backoff: float = 2.0
    #: the name sent in EHLO (default: this machine's FQDN, as smtplib does)
    local_hostname: str | None = None


@dataclass(frozen=True)
class SmtpResult:
    """What happened to one recipient."""

    recipient: str
    outcome: Outcome
    code: int | None = None
    detail: str = ""
    permanent: bool = False
    attempts: int = 1


class _Transient(Exception):
    """A failure worth retrying; nothing was accepted."""

    def __init__(self, code: int | None, detail: str, *, drop: bool) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.drop = drop  #: the connection is unusable afterwards


class _Permanent(Exception):
    """A 5xx (or otherwise final) refusal; nothing was accepted."""

    def __init__(self, code: int | None, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class _Ambiguous(Exception):
    """The message was handed over but no reply came: it may have been accepted."""


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


def _refusal(code: int, reply: bytes | str, stage: str) -> Exception:
    detail = f"{code} {_text(reply)} (at {stage})"
    if 400 <= code < 500:
        return _Transient(code, detail, drop=code == 421)
    return _Permanent(code, detail)


def _dot_stuff(payload: bytes) -> bytes:
    """The DATA body: CRLF line ends, leading dots doubled, the final ``.`` line added."""
    data = re.sub(rb"\r\n|\r|\n", b"\r\n", payload)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpSender:
    """A connection to one SMTP server, opened on first use; use as a context manager."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None
        self._reused = False
        self._fatal: str | None = None

    # ------------------------------------------------------------------ connection

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            conn: smtplib.SMTP
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    timeout=s.timeout,
                    context=self._context(),
                    local_hostname=s.local_hostname,
                )
            else:
                conn = smtplib.SMTP(
                    s.host, s.port, timeout=s.timeout, local_hostname=s.local_hostname
                )
        except ssl.SSLError as e:
            raise DeliveryError(f"TLS with {where} failed: {e}. Check smtp.ca_file.") from e
        except smtplib.SMTPConnectError as e:
            detail = f"{where} refused: {_text(e.smtp_error)}"
            raise _Transient(e.smtp_code, detail, drop=True) from None
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise _Transient(None, f"cannot connect to {where}: {e}", drop=True) from e
        try:
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise DeliveryError(
                        f"{where} does not offer STARTTLS; not sending in the clear. "
                        "Use security = 'tls' (usually port 465) if the server speaks TLS."
                    )
                conn.starttls(context=self._context())
                conn.ehlo()
            if s.user:
                conn.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as e:
            conn.close()
            raise DeliveryError(
                f"SMTP login as {s.user!r} at {where} failed ({e.smtp_code} "
                f"{_text(e.smtp_error)}). Check BRIEFING_SMTP_USER and BRIEFING_SMTP_PASSWORD."
            ) from None
        except smtplib.SMTPNotSupportedError as e:
            conn.close()
            raise DeliveryError(
                f"{where} does not support login (AUTH) here: {e}. "
                "Unset smtp.user, or use security = 'starttls' or 'tls'."
            ) from None
        except ssl.SSLError as e:
            conn.close()
            raise DeliveryError(f"TLS with {where} failed: {e}. Check smtp.ca_file.") from e
        except smtplib.SMTPResponseException as e:
            conn.close()
            raise _refusal(e.smtp_code, e.smtp_error, "connect") from None
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            conn.close()
            raise _Transient(None, f"{where} dropped the connection: {e}", drop=True) from e
        return conn

    def close(self) -> None:
        """Say QUIT (politely, ignoring a dead link) and forget the connection."""
        conn, self._conn = self._conn, None
        self._reused = False
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ sending

    def _transaction(self, payload: bytes, sender: str, recipient: str) -> tuple[int, str]:
        if self._conn is None:
            self._conn = self._connect()
            self._reused = False
        conn = self._conn
        try:
            if self._reused:  # clear whatever the last transaction left behind
                code, reply = conn.rset()
                if code != 250:
                    raise _Transient(code, f"{code} {_text(reply)} (at RSET)", drop=True)
            self._reused = True
            code, reply = conn.mail(sender)
            if code != 250:
                raise _refusal(code, reply, "MAIL FROM")
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                raise _refusal(code, reply, "RCPT TO")
            code, reply = conn.docmd("data")
            if code != 354:
                raise _refusal(code, reply, "DATA")
            body = _dot_stuff(payload)
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise _Transient(None, f"connection lost: {e}", drop=True) from e
        try:
            conn.send(body)
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            # the final "." did not get out: the server cannot have accepted it
            raise _Transient(None, f"connection lost while sending: {e}", drop=True) from e
        try:
            code, reply = conn.getreply()
        except (OSError, smtplib.SMTPServerDisconnected) as e:
            raise _Ambiguous(f"connection lost after the message was sent: {e}") from e
        if code != 250:
            raise _refusal(code, reply, "end of DATA")
        return code, _text(reply)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._reused = False
        if conn is not None:
            conn.close()

    def _before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.info("transient SMTP failure (%s); retrying in %.1f s", error, wait)

    def send(self, payload: bytes, *, sender: str, recipient: str) -> SmtpResult:
        """Deliver ``payload`` (a serialized message) to one ``recipient``.

        Never raises for what a server or network can do; returns the outcome. Raises
        :class:`DeliveryError` only for settings that cannot work (TLS, login), which
        every later call then reports as a permanent failure without reconnecting.
        """
        if self._fatal is not None:
            return SmtpResult(recipient, "failed", None, self._fatal, permanent=True, attempts=0)
        attempts = 0

        def attempt() -> tuple[int, str]:
            nonlocal attempts
            attempts += 1
            try:
                return self._transaction(payload, sender, recipient)
            except _Transient as e:
                if e.drop:
                    self._drop()
                raise

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.attempts),
            wait=wait_exponential(multiplier=self.settings.backoff, max=60),
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            code, reply = retrying(attempt)
        except _Transient as e:
            if e.drop or e.code is None:
                self._drop()
            return SmtpResult(recipient, "failed", e.code, e.detail, attempts=attempts)
        except _Permanent as e:
            return SmtpResult(recipient, "failed", e.code, e.detail, True, attempts)
        except _Ambiguous as e:
            self._drop()
            return SmtpResult(recipient, "unknown", None, str(e), attempts=attempts)
        except DeliveryError as e:
            self._fatal = str(e)
            self._drop()
            return SmtpResult(recipient, "failed", None, str(e), permanent=True, attempts=attempts)
        return SmtpResult(recipient, "sent", code, reply, attempts=attempts)
