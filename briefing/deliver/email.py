"""Mail a Briefing: build the MIME message, then send it to each recipient at most once.

The message (stdlib ``email``, ``policy.SMTP``)::

    multipart/mixed
    ├── multipart/alternative
    │   ├── text/plain   the Markdown brief (readable as plain text)
    │   └── text/html    the standalone HTML brief (every value escaped by the renderer)
    └── application/pdf  brief-2026-11-24.pdf   (and .md / .json if the profile asks)

Headers are built from cleaned values: CR, LF and other control characters in a title
or subject become spaces before they reach a header, and the ``email`` package would
refuse them anyway, so no input can add a header. Addresses are validated
(:func:`briefing.config.validate_address`).

Every recipient (``To`` and ``Bcc``) gets the same message in its own SMTP transaction
(see ``smtp.py`` for why); ``Bcc`` addresses appear only in the envelope, never in a
header. The ``Message-ID`` is stable for (profile, date, content), so a resend of the
same brief carries the same id. Delivery goes through the ledger (``ledger.py``), which
documents the at-most-once guarantee.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from briefing.config import (
    Config,
    Profile,
    ledger_path,
    sender_address,
    smtp_settings,
    validate_address,
)
from briefing.deliver.ledger import DeliveryKey, Ledger
from briefing.deliver.smtp import SmtpSender, SmtpSettings
from briefing.errors import ConfigError, DeliveryError, ExitCode
from briefing.models import Briefing

if TYPE_CHECKING:
    from briefing.deliver.channels import ChannelPlan

__all__ = [
    "DeliveryReport",
    "MailSpec",
    "RecipientResult",
    "RenderedBrief",
    "build_message",
    "content_hash",
    "deliver",
    "deliver_profile",
    "make_message_id",
    "news_line",
    "nothing_new",
    "render_for_email",
    "subject_for",
]

log = logging.getLogger("briefing.deliver")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")

# --------------------------------------------------------------------------- pieces


def clean_header(value: str, *, limit: int = 200) -> str:
    """``value`` on one line: control characters (CR, LF, tab...) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def subject_for(briefing: Briefing, title: str | None = None) -> str:
    """``Morning brief — Tue 24 Nov 2026`` (English names, whatever the locale); when the
    brief was compared with earlier editions, what is new: ``... · 2 new, 1 update`` (or
    ``... · nothing new``)."""
    day = briefing.date
    when = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"
    subject = f"{title or briefing.title} — {when}"
    if briefing.continuity is not None:
        subject += f" · {news_line(briefing)}"
    return clean_header(subject)


def news_line(briefing: Briefing) -> str:
    """``2 new, 1 update`` against the earlier editions (``nothing new``; "" when the brief
    was not compared with any)."""
    report = briefing.continuity
    if report is None:
        return ""
    if not report.new and not report.updates:
        return "nothing new"
    updates = f"{report.updates} update" + ("" if report.updates == 1 else "s")
    return f"{report.new} new, {updates}"


def nothing_new(briefing: Briefing) -> bool:
    """The brief was compared with earlier editions and has no new story and no update
    (a brief not compared with any is never "nothing new": nobody knows)."""
    report = briefing.continuity
    return report is not None and not report.new and not report.updates


def content_hash(briefing: Briefing) -> str:
    """SHA-256 of what the reader sees: everything but ``generated_at`` and token usage."""
    payload = briefing.model_dump_json(exclude={"generated_at", "usage"})
    return hashlib.sha256(payload.encode()).hexdigest()


def make_message_id(
    profile: str, date: dt.date, chash: str, domain: str, *, nonce: str | None = None
) -> str:
    """``<brief.PROFILE.DATE.HASH[.NONCE]@DOMAIN>``: the same for the same brief."""
    safe = re.sub(r"[^A-Za-z0-9-]+", "-", profile).strip("-")[:40] or "brief"
    extra = f".{nonce}" if nonce else ""
    return f"<brief.{safe}.{date.isoformat()}.{chash[:20]}{extra}@{domain}>"


@dataclass(frozen=True)
class Attachment:
    """A file attached to the mail."""

    filename: str
    maintype: str
    subtype: str
    data: bytes


@dataclass(frozen=True)
class RenderedBrief:
    """The bodies and attachments, rendered once for every recipient."""

    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


def render_for_email(briefing: Briefing, formats: Sequence[str] = ("pdf",)) -> RenderedBrief:
    """Both bodies, plus one attachment per format in ``formats`` (``pdf``, ``md``, ``json``).

    ``html`` in ``formats`` needs no attachment: the HTML brief is the mail's body.
    """
    from briefing.render import render_html, render_json, render_markdown, render_pdf

    text = render_markdown(briefing)
    html = render_html(briefing)
    stem = f"brief-{briefing.date.isoformat()}"
    attachments: list[Attachment] = []
    if "pdf" in formats:
        attachments.append(Attachment(f"{stem}.pdf", "application", "pdf", render_pdf(briefing)))
    if "md" in formats:
        attachments.append(Attachment(f"{stem}.md", "text", "markdown", text.encode()))
    if "json" in formats:
        data = render_json(briefing).encode()
        attachments.append(Attachment(f"{stem}.json", "application", "json", data))
    return RenderedBrief(text, html, tuple(attachments))


def checked(value: str) -> str:
    """:func:`validate_address`, raising ConfigError (what a user can fix) instead."""
    try:
        return validate_address(value)
    except ValueError as e:
        raise ConfigError(f"Bad address: {e}") from None


def _address(value: str) -> Address:
    clean = checked(value)
    name, addr = parseaddr(clean)
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=name, username=local, domain=domain)


def build_message(
    rendered: RenderedBrief,
    *,
    subject: str,
    sender: str,
    to: Sequence[str],
    message_id: str,
    date: dt.datetime | None = None,
    language: str | None = None,
) -> EmailMessage:
    """The MIME message. ``to`` may be empty (then ``To: undisclosed-recipients:;``)."""
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = clean_header(subject, limit=250)
    msg["From"] = _address(sender)
    if to:
        msg["To"] = [_address(a) for a in to]
    else:
        msg["To"] = "undisclosed-recipients:;"
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC).astimezone())
    msg["Message-ID"] = clean_header(message_id)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg.set_content(rendered.text, subtype="plain", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for item in rendered.attachments:
        msg.add_attachment(
            item.data,
            maintype=item.maintype,
            subtype=item.subtype,
            filename=clean_header(item.filename),
        )
    if language:  # after the parts: making a multipart moves Content-* headers into them
        msg["Content-Language"] = clean_header(language, limit=35)
    return msg


def bare(address: str) -> str:
    """The bare, lower-cased ``user@domain`` of ``address`` (the ledger's and envelope's)."""
    return parseaddr(address)[1].lower()


# --------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class MailSpec:
    """Who gets the brief, from whom, with what (usually built from a config profile)."""

    profile: str
    sender: str
    to: Sequence[str] = ()
    bcc: Sequence[str] = ()
    formats: Sequence[str] = ("pdf",)
    title: str | None = None
    language: str | None = None

    def recipients(self) -> list[str]:
        """Every envelope recipient once, bare, ``To`` first, in order."""
        seen: dict[str, None] = {}
        for a in (*self.to, *self.bcc):
            seen.setdefault(bare(checked(a)), None)
        return list(seen)


RecipientStatus = Literal["sent", "failed", "skipped", "unknown", "dry-run"]


@dataclass(frozen=True)
class RecipientResult:
    """What happened to one recipient in this run."""

    recipient: str
    status: RecipientStatus
    detail: str = ""
    code: int | None = None

    @property
    def line(self) -> str:
        """One line for the terminal: ``alice@example.com: sent (250 OK)``."""
        return f"{self.recipient}: {self.status}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class DeliveryReport:
    """Per-recipient (and per-channel) results of one run, and what a dry run wrote."""

    message_id: str
    subject: str
    results: list[RecipientResult] = field(default_factory=list)
    eml: Path | None = None
    #: what each channel would receive (dry run)
    files: list[Path] = field(default_factory=list)
    #: why nothing was sent on purpose (``skip_if_nothing_new``), or ""
    held_back: str = ""

    def of(self, status: RecipientStatus) -> list[str]:
        return [r.recipient for r in self.results if r.status == status]

    @property
    def exit_code(self) -> ExitCode:
        """0: everyone has it (sent now or before); 7: nobody has it; 10: in between."""
        bad = [r for r in self.results if r.status in ("failed", "unknown")]
        good = [r for r in self.results if r.status in ("sent", "skipped", "dry-run")]
        if not bad:
            return ExitCode.OK
        return ExitCode.PARTIAL if good else ExitCode.DELIVERY


def dry_run_stem(directory: Path, date: dt.date, profile: str) -> Path:
    """``DIR/brief-DATE-PROFILE`` (the directory made if needed): where a dry run writes
    what the mail and each channel would have received."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DeliveryError(f"Cannot create {directory}: {e.strerror or e}.") from e
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", profile)
    return directory / f"brief-{date.isoformat()}-{safe}"


def deliver(
    briefing: Briefing,
    spec: MailSpec,
    *,
    smtp: SmtpSettings | None = None,
    ledger: Ledger | None = None,
    dry_run: Path | None = None,
    force: bool = False,
    retry_unknown: bool = False,
    rendered: RenderedBrief | None = None,
    now: dt.datetime | None = None,
) -> DeliveryReport:
    """Mail ``briefing`` to every recipient of ``spec`` that has not had it yet.

    ``dry_run``: write ``brief-DATE-PROFILE.eml`` into that directory and send nothing
    (the ledger is not touched). Otherwise ``smtp`` and ``ledger`` are required.
    ``force`` resends to everyone (with a fresh Message-ID); ``retry_unknown`` resends
    only to recipients whose earlier delivery is in doubt (same Message-ID).
    """
    recipients = spec.recipients()
    if not recipients:
        raise ConfigError(f"Profile {spec.profile!r} has no recipients: set recipients or bcc.")
    chash = content_hash(briefing)
    domain = bare(checked(spec.sender)).rsplit("@", 1)[1]
    nonce = secrets.token_hex(4) if force else None
    message_id = make_message_id(spec.profile, briefing.date, chash, domain, nonce=nonce)
    subject = subject_for(briefing, spec.title)
    rendered = rendered or render_for_email(briefing, spec.formats)
    message = build_message(
        rendered,
        subject=subject,
        sender=spec.sender,
        to=spec.to,
        message_id=message_id,
        date=now,
        language=spec.language,
    )
    payload = message.as_bytes(policy=SMTP)
    report = DeliveryReport(message_id=message_id, subject=subject)

    if dry_run is not None:
        from briefing.render import write_atomic

        stem = dry_run_stem(dry_run, briefing.date, spec.profile)
        report.eml = stem.with_name(stem.name + ".eml")
        write_atomic(report.eml, payload)
        report.results = [RecipientResult(r, "dry-run", f"in {report.eml}") for r in recipients]
        return report

    if smtp is None or ledger is None:
        raise ValueError("deliver() needs smtp settings and a ledger unless dry_run is set")
    envelope_from = bare(spec.sender)
    with SmtpSender(smtp) as sender:
        for recipient in recipients:
            key = DeliveryKey(spec.profile, briefing.date, recipient, chash)
            claim = ledger.claim(key, message_id, force=force, retry_unknown=retry_unknown)
            if not claim.go:
                when = claim.previous.updated_at if claim.previous else "?"
                if claim.reason == "sent":
                    other = claim.previous and claim.previous.key.content_hash != chash
                    note = "a different edition" if other else "this brief"
                    result = RecipientResult(
                        recipient, "skipped", f"already sent {note} at {when}; --force resends"
                    )
                else:
                    result = RecipientResult(
                        recipient,
                        "unknown",
                        f"a run that began sending at {when} did not finish; it may have "
                        "arrived. --retry-unknown resends (same Message-ID)",
                    )
                report.results.append(result)
                log.info("%s", result.line)
                continue
            outcome = sender.send(payload, sender=envelope_from, recipient=recipient)
            if outcome.outcome == "sent":
                ledger.mark_sent(
                    key, code=outcome.code, detail=outcome.detail, attempts=outcome.attempts
                )
                result = RecipientResult(recipient, "sent", f"{outcome.code} {outcome.detail}")
            elif outcome.outcome == "failed":
                ledger.mark_failed(
                    key, code=outcome.code, detail=outcome.detail, attempts=outcome.attempts
                )
                kind = "permanent" if outcome.permanent else f"after {outcome.attempts} attempts"
                result = RecipientResult(
                    recipient, "failed", f"{kind}: {outcome.detail}", outcome.code
                )
            else:  # unknown: leave the row in 'sending' so a rerun does not resend
                result = RecipientResult(
                    recipient,
                    "unknown",
                    f"{outcome.detail}; it may have arrived. --retry-unknown resends",
                )
            report.results.append(result)
            log.info("%s", result.line)
    return report


def deliver_profile(
    briefing: Briefing,
    config: Config,
    profile: Profile,
    *,
    dry_run: Path | None = None,
    force: bool = False,
    retry_unknown: bool = False,
    environ: Mapping[str, str] | None = None,
    rendered: RenderedBrief | None = None,
) -> DeliveryReport:
    """:func:`deliver` with the sender, SMTP settings and ledger of ``config``, then the
    profile's channels (``channels.py``) through the same ledger.

    Everything that can be checked is checked before the first mail goes out (SMTP
    settings, channel variables and URLs). A dry run needs only a sender address (and
    only with recipients): no SMTP settings, password, channel secret or ledger.
    """
    env = os.environ if environ is None else environ
    if profile.skip_if_nothing_new and nothing_new(briefing):
        # before any check or the ledger: a day with nothing to tell records nothing
        return DeliveryReport(
            "",
            subject_for(briefing, profile.title),
            held_back=f"nothing new on {briefing.date.isoformat()} "
            f"({briefing.continuity.line if briefing.continuity else ''}); "
            f"profile {profile.name!r} has skip_if_nothing_new = true: nothing sent",
        )
    has_mail = bool(profile.recipients or profile.bcc)
    if not has_mail and not profile.channels:
        raise ConfigError(
            f"Profile {profile.name!r} has no recipients and no channels: set recipients, "
            "bcc or channels."
        )
    plans: list[ChannelPlan] = []
    if profile.channels:
        from briefing.deliver.channels import plan_channels, resolve_channels

        channels = resolve_channels(
            profile.channels, env, profile=profile.name, dry_run=dry_run is not None
        )
        plans = plan_channels(
            briefing,
            channels,
            title=subject_for(briefing, profile.title),
            brief_url=profile.brief_url,
            options=config.channels,
        )
    spec = (
        MailSpec(
            profile=profile.name,
            sender=sender_address(config, env),
            to=profile.recipients,
            bcc=profile.bcc,
            formats=profile.formats,
            title=profile.title,
            language=profile.language,
        )
        if has_mail
        else None
    )
    if dry_run is not None:
        if spec is not None:
            report = deliver(briefing, spec, dry_run=dry_run, rendered=rendered)
        else:
            report = DeliveryReport("", subject_for(briefing, profile.title))
        _channels(briefing, plans, profile, config, report, dry_run=dry_run)
        return report
    settings = smtp_settings(config, env) if spec is not None else None
    with Ledger(ledger_path(config, env)) as ledger:
        if spec is not None:
            report = deliver(
                briefing,
                spec,
                smtp=settings,
                ledger=ledger,
                force=force,
                retry_unknown=retry_unknown,
                rendered=rendered,
            )
        else:
            report = DeliveryReport("", subject_for(briefing, profile.title))
        _channels(
            briefing,
            plans,
            profile,
            config,
            report,
            ledger=ledger,
            force=force,
            retry_unknown=retry_unknown,
        )
        return report


def _channels(
    briefing: Briefing,
    plans: Sequence[ChannelPlan],
    profile: Profile,
    config: Config,
    report: DeliveryReport,
    **kwargs: Any,
) -> None:
    """Deliver to the channels of ``plans``, adding their results to ``report``."""
    if not plans:
        return
    from briefing.deliver.channels import deliver_channels

    results, files = deliver_channels(
        briefing,
        plans,
        profile=profile.name,
        chash=content_hash(briefing),
        options=config.channels,
        **kwargs,
    )
    report.results.extend(results)
    report.files.extend(files)
