"""Deliver a brief to chat channels and webhooks, at most once per channel and day.

Kinds of channel (one URL each, in a profile's ``channels``)::

    slack://, tgram://, discord://, workflows:// (Teams), matrix://, ntfy://, ...
        any Apprise URL: the compact chat message (``channel_messages.py``), split into
        parts where the service caps length, in the service's Markdown dialect
    https://..., http://..., json://..., jsons://...
        a webhook: one POST of the JSON brief (the schema of ``brief --json``), signed
        with an HMAC header when the channel has a ``secret``

Apprise's ``json://`` posts its own envelope (``{"title", "message", ...}``) and cannot
sign a body, so webhooks are sent here with httpx (``json://`` is read as ``http://``,
``jsons://`` as ``https://``). Apprise is imported only when a chat channel is used.

**Secrets.** A URL carrying a token (every Slack, Telegram, Discord, Teams URL; any
``user:password@``, ``?token=``...) is read only from the environment: ``env:NAME``.
A channel is named everywhere (stderr, logs, the ledger, dry-run files) by its
:attr:`Channel.label`: ``env:NAME (slack)``, or the scheme and host with the rest masked
(``ntfy://ntfy.example.com/… #1f2e3d4c``, the fingerprint telling two channels apart).
Every message about a channel goes through :func:`redact`, which masks any fragment of
any channel secret seen in this process; while sending, the loggers of Apprise,
urllib3, requests and httpx (which would log request paths, tokens included) are
redacted too.

**At most once.** Each (profile, date, channel) goes through the same ledger as mail
(``ledger.py``): claimed (``sending``) before the first request, ``sent`` after the
last part; a split message records each accepted part, so a rerun resumes after it.

**Retries** (tenacity, Apprise's own are off): a 5xx, 429, 408 or a refused connection
is retried with exponential backoff (``[channels] attempts``/``backoff``, Retry-After
honoured up to 60 s); any other 4xx is final for that channel only. A request that was
sent but got no answer (read timeout, dropped connection), or a part of which the
service took only some requests, is *unknown*: never retried automatically, as for mail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets as secrets_mod
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from briefing.config import ChannelEntry, ChannelOptions, WebhookChannel
from briefing.deliver.channel_messages import MessagePart, compact_lines, split_message
from briefing.deliver.ledger import DeliveryKey, Ledger
from briefing.errors import ConfigError
from briefing.models import Briefing

if TYPE_CHECKING:
    from briefing.deliver.email import RecipientResult

__all__ = [
    "Channel",
    "ChannelPlan",
    "deliver_channels",
    "plan_channel",
    "plan_channels",
    "redact",
    "redacting_logs",
    "resolve_channels",
    "sign",
]

log = logging.getLogger("briefing.deliver")

WEBHOOK_SCHEMES = {"http": "http", "https": "https", "json": "http", "jsons": "https"}
#: schemes whose host is a server's name (shown) rather than a token (masked), and that
#: may be written literally in the config file when nothing else in them is secret
HOST_SCHEMES = {"ntfy", "ntfys", "matrix", "matrixs", *WEBHOOK_SCHEMES}
#: what a chat message may hold, measured as the service receives it; lower than
#: Apprise's own caps where the service's is lower (Slack: a section block's text)
CHAT_LIMITS: dict[str, int] = {
    "tgram": 4096,
    "slack": 3000,
    "discord": 2000,
    "ntfy": 4096,  # bytes: longer ntfy messages turn into attachments
    "ntfys": 4096,
}
BYTE_LIMITS = {"ntfy", "ntfys"}
DEFAULT_LIMIT = 4000
_SECRET_QUERY = re.compile(r"(?i)token|secret|key|pass|auth|sig|code|hash|session|cred")
_ENV = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")
MASK = "****"

# --------------------------------------------------------------------------- redaction

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(*values: str | None) -> None:
    """Mask ``values`` (and their URL-decoded forms) in everything :func:`redact` sees."""
    with _secrets_lock:
        for value in values:
            if value and len(value) >= 4:
                _secrets.add(value)
                _secrets.add(unquote(value))


def redact(text: str) -> str:
    """``text`` with every fragment of every channel secret seen so far masked."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _url_secrets(url: str) -> list[str]:
    """Every fragment of ``url`` that could be (part of) a token."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    out = [url, parts.netloc, parts.path.strip("/"), parts.query, parts.fragment]
    out += [parts.username or "", parts.password or ""]
    if scheme not in HOST_SCHEMES:
        out.append(parts.hostname or "")
    out += [seg for seg in re.split(r"[/,]", parts.path) if seg]
    out += [v for _, v in parse_qsl(parts.query, keep_blank_values=True)]
    return [s for s in out if s]


class _RedactFilter(logging.Filter):
    """Rewrites a record's message through :func:`redact` (it is then passed on)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party record: keep it out
            return False
        record.msg, record.args = redact(message), None
        if record.exc_info or record.exc_text:
            record.exc_info, record.exc_text = None, None
        return True


#: loggers that would name request URLs (so tokens) at DEBUG or INFO
NOISY_LOGGERS = (
    "apprise",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "requests",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
)


@contextlib.contextmanager
def redacting_logs() -> Iterator[None]:
    """While inside, records of :data:`NOISY_LOGGERS` are redacted before any handler."""
    flt = _RedactFilter()
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    for logger in loggers:
        logger.addFilter(flt)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(flt)


# --------------------------------------------------------------------------- channels


@dataclass(frozen=True)
class Channel:
    """One channel of a profile, resolved. ``url`` and ``secret`` are never shown."""

    #: how it is named everywhere: ``env:NAME (slack)`` or ``ntfy://host/… #1a2b3c4d``
    label: str
    #: the ledger's "recipient": ``channel:`` + the label (or the env reference)
    key: str
    scheme: str
    kind: Literal["chat", "webhook"]
    url: str | None = field(default=None, repr=False)
    secret: bytes | None = field(default=None, repr=False)
    #: short, stable, non-secret id (the delivery id's last part)
    fingerprint: str = ""


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _literal_label(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in HOST_SCHEMES:
        return f"{scheme}://… #{_fingerprint(url)}"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    rest = parts.path.strip("/") or parts.query or parts.fragment
    return f"{scheme}://{host}{port}" + (f"/… #{_fingerprint(url)}" if rest else "")


def _literal_problem(url: str) -> str | None:
    """Why ``url`` may not be written in the config file (it holds a secret), or None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in HOST_SCHEMES:
        return f"a {scheme}:// URL carries the service's token"
    if parts.username or parts.password:
        return "it carries a user name or password"
    if any(_SECRET_QUERY.search(k) for k, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return "a query parameter looks like a token"
    return None


def resolve_channels(
    entries: Sequence[ChannelEntry],
    environ: Mapping[str, str],
    *,
    profile: str = "",
    dry_run: bool = False,
) -> list[Channel]:
    """The profile's channels with their URLs and secrets from the environment.

    Raises ConfigError (before anything is sent) for an unset variable, a secret written
    in the config file, or two entries naming the same channel. In a dry run an unset
    variable is allowed: that channel is shown as generic Markdown.
    """
    out: list[Channel] = []
    for i, entry in enumerate(entries):
        where = f"profiles.{profile}.channels[{i}]"
        spec, secret_ref = (
            (entry.url, entry.secret)
            if isinstance(entry, WebhookChannel)
            else (
                entry,
                None,
            )
        )
        secret: bytes | None = None
        if secret_ref is not None:
            name = _ENV.match(secret_ref)
            assert name is not None  # the config checked it
            value = environ.get(name.group(1))
            if value:
                register_secret(value)
                secret = value.encode()
            elif not dry_run:
                raise ConfigError(f"{where}.secret: {name.group(1)} is not set: export it.")
        env = _ENV.match(spec)
        if env:
            name_ = env.group(1)
            url = environ.get(name_) or None
            if url is None and not dry_run:
                raise ConfigError(
                    f"{where}: {name_} is not set: export it (the channel URL stays out of "
                    "the config file)."
                )
            if url is not None:
                url = url.strip()
                register_secret(*_url_secrets(url))
                if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$", url):
                    raise ConfigError(f"{where}: {name_} does not hold a channel URL.")
            scheme = urlsplit(url).scheme.lower() if url else ""
            label = f"env:{name_}" + (f" ({scheme})" if scheme else "")
            key, fp = f"channel:env:{name_}", _fingerprint(f"env:{name_}")
        else:
            url = spec
            register_secret(*_url_secrets(url))
            problem = _literal_problem(url)
            if problem:
                raise ConfigError(
                    f"{where}: {problem}; put the URL in the environment and write "
                    "'env:NAME' instead (e.g. channels = [\"env:BRIEFING_SLACK_URL\"])."
                )
            scheme = urlsplit(url).scheme.lower()
            label = _literal_label(url)
            key, fp = f"channel:{label}", _fingerprint(url)
        webhook = scheme in WEBHOOK_SCHEMES or (url is None and secret_ref is not None)
        kind: Literal["chat", "webhook"] = "webhook" if webhook else "chat"
        if secret_ref is not None and kind != "webhook":
            raise ConfigError(f"{where}.secret: only webhooks (https://, json://) are signed.")
        if any(c.key == key for c in out):
            raise ConfigError(f"{where}: {label} is listed twice.")
        out.append(Channel(label, key, scheme, kind, url, secret, fp))
    return out


# --------------------------------------------------------------------------- Apprise


def _apprise() -> Any:
    """The apprise module, imported on first use (it costs about 0.3 s, plugins more)."""
    with warnings.catch_warnings():
        # its plugins import modules Python deprecates (imghdr): not the user's concern
        warnings.simplefilter("ignore")
        import apprise
    return apprise


def _plugin(channel: Channel, timeout: float) -> Any:
    """The Apprise plugin for ``channel`` (ConfigError if Apprise does not know the URL)."""
    apprise = _apprise()
    asset = apprise.AppriseAsset(
        app_id="briefing",
        app_desc="briefing",
        storage_mode="memory",
        allow_templates=False,
        service_timeout=timeout,
        async_mode=False,
    )
    with warnings.catch_warnings(), redacting_logs():
        warnings.simplefilter("ignore")
        plugin = apprise.Apprise.instantiate(channel.url, asset=asset, suppress_exceptions=True)
    if plugin is None:
        raise ConfigError(
            f"{channel.label}: not a channel URL Apprise knows (see its list of services)."
        )
    plugin.retry = 0  # retries are ours (tenacity): only 5xx, 429 and refused connections
    return plugin


def _markdown() -> Any:
    return _apprise().NotifyFormat.MARKDOWN


def _as_received(plugin: Any, title: str, body: str) -> list[MessagePart]:
    """What the service receives for one notify(): Apprise's own conversion of our
    Markdown to the service's dialect, title merged where the service has no title."""
    build = getattr(plugin, "_build_send_calls", None)
    if build is None:  # another Apprise: a close estimate
        return [MessagePart(title, body)]
    with warnings.catch_warnings(), redacting_logs():
        warnings.simplefilter("ignore")
        calls = list(build(body=body, title=title, body_format=_markdown(), overflow="upstream"))
    return [MessagePart(str(c["title"] or ""), str(c["body"] or "")) for c in calls]


def _measure(plugin: Any, scheme: str) -> Callable[[str, str], int]:
    def measure(title: str, body: str) -> int:
        pieces = _as_received(plugin, title, body)
        if scheme in BYTE_LIMITS:
            return max(len(p.body.encode()) for p in pieces)
        return max(len(p.body) for p in pieces)

    return measure


def _limit(plugin: Any, scheme: str) -> int:
    own = int(getattr(plugin, "body_maxlen", 0) or 0) or DEFAULT_LIMIT
    return min(CHAT_LIMITS.get(scheme, own), own)


def _title_limit(plugin: Any, scheme: str) -> int:
    cap = int(getattr(plugin, "title_maxlen", 250) or 0)
    if scheme == "slack":
        cap = min(cap, 150)  # a Slack header block's text
    return cap if cap > 0 else 250


# --------------------------------------------------------------------------- plans


@dataclass
class ChannelPlan:
    """What one channel receives: chat parts, or a webhook's body."""

    channel: Channel
    parts: list[MessagePart] = field(default_factory=list)
    #: the parts as the service will show them (after Apprise's conversion)
    received: list[MessagePart] = field(default_factory=list)
    body: bytes | None = None
    plugin: Any = field(default=None, repr=False)
    note: str = ""


def brief_link(template: str | None, date: dt.date) -> str | None:
    return template.replace("{date}", date.isoformat()) if template else None


def plan_channel(
    briefing: Briefing,
    channel: Channel,
    *,
    title: str,
    brief_url: str | None = None,
    timeout: float = 30.0,
) -> ChannelPlan:
    """Build what ``channel`` gets (no network)."""
    if channel.kind == "webhook":
        from briefing.render import render_json

        return ChannelPlan(channel, body=render_json(briefing).encode())
    lines = compact_lines(briefing, brief_url=brief_link(brief_url, briefing.date))
    if channel.url is None:  # dry run without the variable: generic Markdown
        parts = split_message(
            title, lines, limit=DEFAULT_LIMIT, measure=lambda t, b: len(t) + 2 + len(b)
        )
        return ChannelPlan(channel, parts, parts, note="variable not set: generic Markdown")
    plugin = _plugin(channel, timeout)
    title = title[: _title_limit(plugin, channel.scheme) - 8].rstrip()
    parts = split_message(
        title, lines, limit=_limit(plugin, channel.scheme), measure=_measure(plugin, channel.scheme)
    )
    received = [piece for p in parts for piece in _as_received(plugin, p.title, p.body)]
    return ChannelPlan(channel, parts, received, plugin=plugin)


def write_dry_run(plan: ChannelPlan, path_stem: Path, n: int) -> Path:
    """Write what the channel would receive beside the .eml; returns the file."""
    from briefing.render import write_atomic

    scheme = re.sub(r"[^a-z0-9]+", "-", plan.channel.scheme or "channel")
    if plan.body is not None:
        path = path_stem.with_name(f"{path_stem.name}.channel-{n}-{scheme}.json")
        write_atomic(path, plan.body)
        return path
    path = path_stem.with_name(f"{path_stem.name}.channel-{n}-{scheme}.txt")
    total = len(plan.received)
    chunks = [f"channel: {plan.channel.label}" + (f" ({plan.note})" if plan.note else "")]
    for i, part in enumerate(plan.received, start=1):
        chunks.append(f"===== part {i}/{total} =====\ntitle: {part.title}\n\n{part.body}")
    write_atomic(path, "\n\n".join(chunks) + "\n")
    return path


# --------------------------------------------------------------------------- sending


class _Transient(Exception):
    """Nothing was taken; worth another try."""

    def __init__(self, code: int | None, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.retry_after = code, detail, retry_after


@dataclass(frozen=True)
class _Outcome:
    outcome: Literal["sent", "failed", "unknown"]
    code: int | None = None
    detail: str = ""
    attempts: int = 1


@dataclass
class _Event:
    """One HTTP exchange seen while a chat part was sent."""

    status: int | None = None
    reason: str = ""
    error: str = ""
    taken: bool | None = None  #: False: refused before the request went out
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(60.0, float(value)))
    except ValueError:
        return None


def _classify(status: int) -> Literal["ok", "transient", "final"]:
    if 200 <= status < 300:
        return "ok"
    if status >= 500 or status in (408, 429):
        return "transient"
    return "final"


@contextlib.contextmanager
def _watch_requests() -> Iterator[list[_Event]]:
    """Every HTTP exchange ``requests`` makes inside (Apprise's plugins use it): Apprise
    answers only True/False, the status codes tell a 503 from a 400."""
    import requests
    from requests.exceptions import ConnectTimeout, SSLError
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    events: list[_Event] = []
    original = requests.Session.send

    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        try:
            response = original(self, request, **kwargs)
        except Exception as e:
            reason = e.args[0] if e.args else None
            refused = isinstance(e, ConnectTimeout | SSLError) or (
                isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)
            )
            kind = "could not connect" if refused else "no answer"
            events.append(_Event(error=kind, taken=not refused and None))
            raise
        events.append(
            _Event(
                status=response.status_code,
                reason=response.reason or "",
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        )
        return response

    requests.Session.send = send  # type: ignore[method-assign]
    try:
        yield events
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _apprise_messages() -> Iterator[list[str]]:
    """Apprise's warnings while inside (redacted), kept for the result's detail."""
    lines: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(redact(record.getMessage()))

    handler = _Keep(level=logging.WARNING)
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)


def _chat_attempt(plugin: Any, part: MessagePart) -> _Outcome:
    """One try at one part; raises _Transient when it is worth another."""
    with redacting_logs(), _apprise_messages() as said, _watch_requests() as events:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ok = plugin.notify(
                    body=part.body,
                    title=part.title,
                    body_format=_markdown(),
                    overflow="upstream",
                )
        except Exception as e:  # a plugin that raised: nothing we can tell
            ok = False
            said.append(redact(f"{type(e).__name__}: {e}"))
    last = events[-1] if events else None
    if ok:
        code = last.status if last else None
        return _Outcome("sent", code, f"{code} {last.reason}".strip() if last else "accepted")
    why = "; ".join(dict.fromkeys(said))[:300] or "the service refused it"
    if any(e.status is not None and 200 <= e.status < 300 for e in events[:-1]):
        return _Outcome("unknown", None, f"only some of its requests were taken ({why})")
    if last is None:
        return _Outcome("failed", None, why)
    if last.status is not None:
        shown = redact(f"{last.status} {last.reason}".strip())
        kind = _classify(last.status)
        if kind == "transient":
            raise _Transient(last.status, shown, last.retry_after)
        if kind == "ok":  # the service answered 2xx but said no in the body
            return _Outcome("unknown", last.status, f"{shown} but refused: {why}")
        return _Outcome("failed", last.status, shown)
    if last.taken is False:
        raise _Transient(None, last.error)
    return _Outcome("unknown", None, last.error)


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Briefing-Signature-256`` value: ``sha256=`` HMAC of ``TIMESTAMP.BODY``."""
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"briefing/{version('briefing')}"
    except PackageNotFoundError:
        return "briefing"


def _webhook_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{WEBHOOK_SCHEMES[scheme.lower()]}://{rest}"


def _webhook_attempt(client: Any, channel: Channel, body: bytes, delivery_id: str) -> _Outcome:
    import httpx

    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": _user_agent(),
        "X-Briefing-Delivery": delivery_id,
        "Idempotency-Key": delivery_id,
        "X-Briefing-Timestamp": stamp,
    }
    if channel.secret:
        headers["X-Briefing-Signature-256"] = sign(channel.secret, stamp, body)
    assert channel.url is not None
    try:
        with redacting_logs():
            response = client.post(_webhook_url(channel.url), content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
        raise _Transient(None, "could not connect") from e
    except (httpx.WriteError, httpx.WriteTimeout) as e:  # the body did not all go out
        raise _Transient(None, "the connection broke while sending") from e
    except httpx.HTTPError as e:
        return _Outcome("unknown", None, f"no answer ({type(e).__name__})")
    shown = redact(f"{response.status_code} {response.reason_phrase}".strip())
    kind = _classify(response.status_code)
    if kind == "ok":
        return _Outcome("sent", response.status_code, shown)
    if kind == "transient":
        raise _Transient(
            response.status_code, shown, _retry_after(response.headers.get("Retry-After"))
        )
    return _Outcome("failed", response.status_code, shown)


def _with_retries(options: ChannelOptions, attempt: Callable[[], _Outcome]) -> _Outcome:
    """``attempt`` until it does not raise _Transient, at most ``options.attempts`` times,
    waiting ``backoff``, twice that, 4 times... (at most 60 s), or the Retry-After
    the server asked for."""

    def wait(state: RetryCallState) -> float:
        base = min(60.0, options.backoff * float(2 ** (state.attempt_number - 1)))
        error = state.outcome.exception() if state.outcome else None
        after = error.retry_after if isinstance(error, _Transient) else None
        return max(base, after or 0.0)

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.debug("attempt %d failed (%s); retrying", state.attempt_number, error)

    tries = 0
    try:
        for try_ in Retrying(
            stop=stop_after_attempt(options.attempts),
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=log_retry,
            reraise=True,
        ):
            with try_:
                tries += 1
                result = attempt()
                return _Outcome(result.outcome, result.code, result.detail, tries)
    except _Transient as e:
        return _Outcome("failed", e.code, f"after {tries} attempts: {e.detail}", tries)
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------- delivery


def delivery_id(
    profile: str, date: dt.date, chash: str, channel: Channel, nonce: str | None
) -> str:
    """Stable for (profile, date, content, channel): a resend of the same brief carries
    the same id (receivers may deduplicate on it); ``--force`` adds a nonce."""
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", profile).strip("-")[:40] or "brief"
    extra = f".{nonce}" if nonce else ""
    return f"brief.{safe}.{date.isoformat()}.{chash[:16]}.{channel.fingerprint}{extra}"


def plan_channels(
    briefing: Briefing,
    channels: Sequence[Channel],
    *,
    title: str,
    brief_url: str | None = None,
    options: ChannelOptions | None = None,
) -> list[ChannelPlan]:
    """:func:`plan_channel` for each: a URL Apprise does not know fails here, before
    anything (mail included) is sent."""
    timeout = (options or ChannelOptions()).timeout
    return [
        plan_channel(briefing, c, title=title, brief_url=brief_url, timeout=timeout)
        for c in channels
    ]


def deliver_channels(
    briefing: Briefing,
    plans: Sequence[ChannelPlan],
    *,
    profile: str,
    chash: str,
    options: ChannelOptions | None = None,
    ledger: Ledger | None = None,
    dry_run: Path | None = None,
    force: bool = False,
    retry_unknown: bool = False,
) -> tuple[list[RecipientResult], list[Path]]:
    """Send each plan's message to its channel unless it had it today; per-channel results.

    ``dry_run``: write what each channel would receive as
    ``DIR/brief-DATE-PROFILE.channel-N-SCHEME.txt`` (``.json`` for a webhook) and send
    nothing (the ledger is not touched).
    """
    from briefing.deliver.email import RecipientResult, dry_run_stem

    options = options or ChannelOptions()
    results: list[RecipientResult] = []
    if dry_run is not None:
        stem = dry_run_stem(dry_run, briefing.date, profile)
        files = [write_dry_run(plan, stem, n) for n, plan in enumerate(plans, start=1)]
        for plan, path in zip(plans, files, strict=True):
            n = len(plan.received)
            what = "the JSON brief" if plan.body is not None else f"{n} part{'s' * (n != 1)}"
            note = f"; {plan.note}" if plan.note else ""
            results.append(
                RecipientResult(plan.channel.label, "dry-run", f"{what} in {path}{note}")
            )
        return results, files
    if ledger is None:
        raise ValueError("deliver_channels() needs a ledger unless dry_run is set")
    nonce = secrets_mod.token_hex(4) if force else None
    client = None
    try:
        for plan in plans:
            channel = plan.channel
            did = delivery_id(profile, briefing.date, chash, channel, nonce)
            key = DeliveryKey(profile, briefing.date, channel.key, chash)
            claim = ledger.claim(key, did, force=force, retry_unknown=retry_unknown)
            if not claim.go:
                when = claim.previous.updated_at if claim.previous else "?"
                if claim.reason == "sent":
                    other = claim.previous and claim.previous.key.content_hash != chash
                    note = "a different edition" if other else "this brief"
                    result = RecipientResult(
                        channel.label, "skipped", f"already sent {note} at {when}; --force resends"
                    )
                else:
                    done = claim.previous.parts_done if claim.previous else 0
                    more = f" after {done} part{'s' * (done != 1)}" if done else ""
                    result = RecipientResult(
                        channel.label,
                        "unknown",
                        f"a run that began sending at {when} did not finish{more}; it may have "
                        "arrived. --retry-unknown resends",
                    )
                results.append(result)
                log.info("%s", result.line)
                continue
            if plan.body is not None:
                if client is None:
                    import httpx

                    client = httpx.Client(timeout=options.timeout, follow_redirects=False)
                body, http = plan.body, client
                outcome = _with_retries(
                    options, partial(_webhook_attempt, http, channel, body, did)
                )
                done = 1 if outcome.outcome == "sent" else 0
                total = 1
            else:
                outcome, done, total = _send_parts(plan, options, ledger, key, claim.resume_from)
            results.append(_finish(ledger, key, channel, outcome, done, total, claim.resume_from))
            log.info("%s", results[-1].line)
    finally:
        if client is not None:
            client.close()
    return results, []


def _send_parts(
    plan: ChannelPlan, options: ChannelOptions, ledger: Ledger, key: DeliveryKey, start: int
) -> tuple[_Outcome, int, int]:
    """Send the parts from ``start`` on, recording each; stops at the first that fails."""
    total = len(plan.parts)
    outcome = _Outcome("sent", None, "nothing left to send", 0)
    attempts = 0
    for i in range(min(start, total), total):
        part = plan.parts[i]
        outcome = _with_retries(options, partial(_chat_attempt, plan.plugin, part))
        attempts += outcome.attempts
        if outcome.outcome != "sent":
            return _Outcome(outcome.outcome, outcome.code, outcome.detail, attempts), i, total
        if total > 1:
            ledger.mark_part(key, i + 1)
    return _Outcome("sent", outcome.code, outcome.detail, attempts), total, total


def _finish(
    ledger: Ledger,
    key: DeliveryKey,
    channel: Channel,
    outcome: _Outcome,
    done: int,
    total: int,
    start: int,
) -> RecipientResult:
    from briefing.deliver.email import RecipientResult

    detail = redact(outcome.detail)
    of = f"part {done + 1} of {total}: " if total > 1 else ""
    if outcome.outcome == "sent":
        sent_now = total - min(start, total)
        parts = f"{total} parts" if total > 1 else ""
        if start and total > 1:
            parts = (
                f"parts {min(start, total) + 1}-{total} of {total}"
                if sent_now
                else (f"all {total} parts had arrived")
            )
        shown = ", ".join(x for x in (detail, parts) if x)
        ledger.mark_sent(key, code=outcome.code, detail=shown, attempts=outcome.attempts)
        return RecipientResult(channel.label, "sent", shown)
    if outcome.outcome == "failed":
        ledger.mark_failed(key, code=outcome.code, detail=of + detail, attempts=outcome.attempts)
        final = "" if detail.startswith("after ") else "permanent: "
        return RecipientResult(channel.label, "failed", f"{of}{final}{detail}", outcome.code)
    return RecipientResult(
        channel.label,
        "unknown",
        f"{of}{detail}; it may have arrived. --retry-unknown resends",
        outcome.code,
    )
