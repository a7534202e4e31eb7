"""Mail delivery through a real SMTP server (aiosmtpd on loopback): message, TLS, failures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from briefing_samples import HOSTILE_TITLE, hostile_briefing, sample_briefing
from smtp_support import (
    CANARY_PASSWORD,
    USER,
    Server,
    self_signed,
    server_context,
    smtp_server,
)

from briefing.config import validate_address
from briefing.deliver.email import (
    Attachment,
    MailSpec,
    RenderedBrief,
    build_message,
    content_hash,
    deliver,
    render_for_email,
    subject_for,
)
from briefing.deliver.ledger import Ledger
from briefing.deliver.smtp import SmtpSettings
from briefing.errors import ConfigError, ExitCode
from briefing.models import Briefing

SENDER = "Morning Brief <brief@example.com>"
FAKE_PDF = b"%PDF-1.7\n% not a real PDF, the renderer has its own tests\n%%EOF\n"


def one_story() -> Briefing:
    """A small brief: the real PDF renders in a fraction of a second."""
    briefing = sample_briefing()
    return briefing.model_copy(update={"sections": briefing.sections[:1], "failed": []})


@pytest.fixture(scope="module")
def real_rendered() -> RenderedBrief:
    return render_for_email(one_story(), ["pdf", "json"])


@pytest.fixture
def fake_rendered() -> RenderedBrief:
    return RenderedBrief(
        text="# Morning brief\n\nplain body\n.\n..leading dots\n",
        html="<!doctype html><html><body><h1>Morning brief</h1></body></html>",
        attachments=(Attachment("brief-2026-11-24.pdf", "application", "pdf", FAKE_PDF),),
    )


@pytest.fixture
def server() -> Iterator[Server]:
    with smtp_server() as srv:
        yield srv


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "state" / "deliveries.sqlite3") as led:
        yield led


def plain(srv: Server, **overrides: object) -> SmtpSettings:
    settings: dict[str, object] = {
        "host": srv.host,
        "port": srv.port,
        "security": "none",
        "backoff": 0,
        "timeout": 5,
    }
    settings.update(overrides)
    return SmtpSettings(**settings)  # type: ignore[arg-type]


def spec(*to: str, bcc: tuple[str, ...] = (), title: str | None = None) -> MailSpec:
    return MailSpec(profile="morning", sender=SENDER, to=to, bcc=bcc, title=title, language="en")


def parse(data: bytes) -> EmailMessage:
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# --------------------------------------------------------------------------- the message


def test_subject_names_the_day_in_english() -> None:
    assert subject_for(sample_briefing()) == "Morning brief — Tue 24 Nov 2026"
    assert subject_for(sample_briefing(), "Europe desk") == "Europe desk — Tue 24 Nov 2026"


def test_message_structure_and_headers(fake_rendered: RenderedBrief) -> None:
    when = dt.datetime(2026, 11, 24, 6, 30, tzinfo=dt.UTC)
    msg = build_message(
        fake_rendered,
        subject="Morning brief — Tue 24 Nov 2026",
        sender=SENDER,
        to=["Alice Ä. <alice@example.com>", "bob@example.com"],
        message_id="<brief.morning.2026-11-24.abc@example.com>",
        date=when,
        language="en",
    )
    parsed = parse(msg.as_bytes())
    assert parsed.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    assert parsed["Subject"] == "Morning brief — Tue 24 Nov 2026"
    assert parsed["From"].addresses[0].addr_spec == "brief@example.com"
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert parsed["To"].addresses[0].display_name == "Alice Ä."
    assert parsedate_to_datetime(parsed["Date"]) == when
    assert parsed["Message-ID"] == "<brief.morning.2026-11-24.abc@example.com>"
    assert parsed["Content-Language"] == "en"
    assert "Bcc" not in parsed
    # non-ASCII headers go out as RFC 2047 encoded words: the wire is 7-bit
    assert msg.as_bytes().isascii()


def test_to_can_be_empty_when_everyone_is_bcc(fake_rendered: RenderedBrief) -> None:
    msg = build_message(fake_rendered, subject="s", sender=SENDER, to=[], message_id="<x@y>")
    assert str(msg["To"]) == "undisclosed-recipients:;"


@pytest.mark.parametrize(
    "evil",
    [
        "Brief\r\nBcc: victim@evil.example",
        "Brief\nX-Injected: yes",
        "Brief\rX-Injected: yes\r\n\r\nbody takeover",
        "Brief\u2028X-Injected: yes",
    ],
)
def test_cr_lf_in_a_title_cannot_add_headers(
    evil: str, server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    briefing = sample_briefing().model_copy(update={"title": evil})
    report = deliver(
        briefing,
        spec("alice@example.com"),
        smtp=plain(server),
        ledger=ledger,
        rendered=fake_rendered,
    )
    assert report.exit_code == ExitCode.OK
    msg = server.handler.received[0].message
    assert "Bcc" not in msg and "X-Injected" not in msg
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"].startswith("Brief ")
    assert server.handler.received[0].rcpt_tos == ["alice@example.com"]


@pytest.mark.parametrize(
    "bad",
    [
        "alice@example.com, mallory@evil.example",
        "alice@example.com\r\nBcc: mallory@evil.example",
        "no-at-sign",
        "two@@example.com",
        "alice@-bad-.example",
        "alice@exa mple.com",
        '"quoted local"@example.com',
        "",
    ],
)
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_address(bad)


def test_good_addresses_are_normalized() -> None:
    assert validate_address("Alice <alice@Example.COM>") == "Alice <alice@example.com>"
    assert validate_address("bob+news@bücher.example") == "bob+news@xn--bcher-kva.example"


def test_deliver_refuses_a_bad_recipient_before_sending(
    server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    with pytest.raises(ConfigError):
        deliver(
            sample_briefing(),
            spec("ok@example.com", "bad\nBcc: x@y.z"),
            smtp=plain(server),
            ledger=ledger,
            rendered=fake_rendered,
        )
    assert server.handler.received == []


def test_content_hash_ignores_generation_time_and_usage() -> None:
    a = sample_briefing()
    b = a.model_copy(update={"generated_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)})
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(hostile_briefing())


# --------------------------------------------------------------------------- delivery


def test_the_brief_arrives_with_both_bodies_and_the_pdf(
    server: Server, ledger: Ledger, real_rendered: RenderedBrief
) -> None:
    briefing = one_story()
    report = deliver(
        briefing,
        spec("alice@example.com", bcc=("hidden@example.com",)),
        smtp=plain(server),
        ledger=ledger,
        rendered=real_rendered,
    )
    assert report.exit_code == ExitCode.OK
    assert [r.status for r in report.results] == ["sent", "sent"]
    received = server.handler.received
    assert [r.rcpt_tos for r in received] == [["alice@example.com"], ["hidden@example.com"]]
    assert all(r.mail_from == "brief@example.com" for r in received)
    assert received[0].data == received[1].data  # one message, two envelopes
    msg = received[0].message
    assert "hidden@example.com" not in received[0].data.decode()  # Bcc stays in the envelope
    assert msg["Subject"] == "Morning brief — Tue 24 Nov 2026"
    assert msg["Message-ID"] == report.message_id
    assert msg["Message-ID"].endswith("@example.com>")
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "Iraq and Turkey open talks on Tigris flows" in text.get_content()
    assert "Iraq and Turkey open talks on Tigris flows" in html.get_content()
    assert html.get_content().lstrip().lower().startswith("<!doctype html>")
    attachments = {a.get_filename(): a for a in msg.iter_attachments()}
    assert set(attachments) == {"brief-2026-11-24.pdf", "brief-2026-11-24.json"}
    pdf = attachments["brief-2026-11-24.pdf"].get_content()
    assert pdf.startswith(b"%PDF-") and pdf == real_rendered.attachments[0].data
    restored = Briefing.model_validate_json(attachments["brief-2026-11-24.json"].get_content())
    assert restored == briefing


def test_hostile_content_is_escaped_in_the_html_body(server: Server, ledger: Ledger) -> None:
    rendered = render_for_email(hostile_briefing(), formats=[])
    deliver(
        hostile_briefing(),
        spec("a@example.com"),
        smtp=plain(server),
        ledger=ledger,
        rendered=rendered,
    )
    html = server.handler.received[0].message.get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "<script" not in body and "<img" not in body and 'href="javascript:' not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Tom &amp; Jerry" in body
    assert HOSTILE_TITLE not in body


def test_leading_dots_survive_the_smtp_transparency(
    server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    deliver(
        sample_briefing(),
        spec("a@example.com"),
        smtp=plain(server),
        ledger=ledger,
        rendered=fake_rendered,
    )
    body = server.handler.received[0].message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == fake_rendered.text


def test_a_550_for_one_recipient_leaves_the_others_served(
    server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    server.handler.refuse["gone@example.com"] = "550 5.1.1 <gone@example.com>: no such user"
    report = deliver(
        sample_briefing(),
        spec("alice@example.com", "gone@example.com", "bob@example.com"),
        smtp=plain(server),
        ledger=ledger,
        rendered=fake_rendered,
    )
    assert {r.recipient: r.status for r in report.results} == {
        "alice@example.com": "sent",
        "gone@example.com": "failed",
        "bob@example.com": "sent",
    }
    failed = report.results[1]
    assert failed.code == 550 and "permanent" in failed.detail and "no such user" in failed.detail
    assert server.handler.rcpt_calls.count("gone@example.com") == 1  # 5xx: never retried
    assert report.exit_code == ExitCode.PARTIAL
    assert [r.rcpt_tos for r in server.handler.received] == [
        ["alice@example.com"],
        ["bob@example.com"],
    ]
    rows = {r.key.recipient: r for r in ledger.rows()}
    assert rows["gone@example.com"].status == "failed"
    assert rows["gone@example.com"].smtp_code == 550


@pytest.mark.parametrize(
    "replies",
    [
        ["451 4.7.1 Greylisted, try again"],
        ["421 4.3.2 Too busy, closing"],
        ["452 4.2.2 Full", "451 x"],
    ],
)
def test_transient_refusals_are_retried(
    replies: list[str], server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    server.handler.transient["grey@example.com"] = list(replies)
    report = deliver(
        sample_briefing(),
        spec("grey@example.com", "alice@example.com"),
        smtp=plain(server),
        ledger=ledger,
        rendered=fake_rendered,
    )
    assert report.exit_code == ExitCode.OK
    assert server.handler.rcpt_calls.count("grey@example.com") == len(replies) + 1
    assert len(server.handler.to("grey@example.com")) == 1
    assert len(server.handler.to("alice@example.com")) == 1
    row = next(r for r in ledger.rows() if r.key.recipient == "grey@example.com")
    assert row.status == "sent" and row.attempts == len(replies) + 1


def test_transient_refusals_give_up_after_the_attempts_then_a_rerun_sends(
    server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    server.handler.transient["grey@example.com"] = ["451 4.7.1 Greylisted"] * 3
    settings = plain(server, attempts=2)
    args = (sample_briefing(), spec("grey@example.com"))
    first = deliver(*args, smtp=settings, ledger=ledger, rendered=fake_rendered)
    assert first.results[0].status == "failed" and first.results[0].code == 451
    assert first.exit_code == ExitCode.DELIVERY
    assert server.handler.received == []
    second = deliver(*args, smtp=plain(server), ledger=ledger, rendered=fake_rendered)
    assert second.results[0].status == "sent"
    assert len(server.handler.to("grey@example.com")) == 1


def test_unreachable_server_fails_every_recipient(
    ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    with smtp_server() as srv:
        settings = plain(srv, attempts=2)
    report = deliver(  # the server is gone: connection refused
        sample_briefing(),
        spec("a@example.com", "b@example.com"),
        smtp=settings,
        ledger=ledger,
        rendered=fake_rendered,
    )
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert "cannot connect" in report.results[0].detail
    assert report.exit_code == ExitCode.DELIVERY
    assert {r.status for r in ledger.rows()} == {"failed"}


def test_dry_run_writes_the_eml_and_touches_nothing_else(
    tmp_path: Path, fake_rendered: RenderedBrief
) -> None:
    report = deliver(
        sample_briefing(),
        spec("alice@example.com", bcc=("hidden@example.com",)),
        dry_run=tmp_path / "out",
        rendered=fake_rendered,
    )
    assert report.eml == tmp_path / "out" / "brief-2026-11-24-morning.eml"
    msg = parse(report.eml.read_bytes())
    assert msg["Subject"] == "Morning brief — Tue 24 Nov 2026"
    assert "hidden@example.com" not in report.eml.read_text()
    assert [r.status for r in report.results] == ["dry-run", "dry-run"]
    assert report.exit_code == ExitCode.OK


# --------------------------------------------------------------------------- TLS and auth


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def test_starttls_with_login(
    certificate: tuple[Path, Path],
    ledger: Ledger,
    fake_rendered: RenderedBrief,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cert, key = certificate
    caplog.set_level("DEBUG")
    with smtp_server(auth=True, starttls=server_context(cert, key)) as srv:
        settings = SmtpSettings(
            host=srv.host,
            port=srv.port,
            security="starttls",
            user=USER,
            password=CANARY_PASSWORD,
            ca_file=cert,
            backoff=0,
            timeout=5,
        )
        report = deliver(
            sample_briefing(),
            spec("a@example.com"),
            smtp=settings,
            ledger=ledger,
            rendered=fake_rendered,
        )
    assert report.exit_code == ExitCode.OK, report.results
    assert srv.handler.logins == [(USER, CANARY_PASSWORD)]
    assert len(srv.handler.to("a@example.com")) == 1
    assert CANARY_PASSWORD not in repr(settings)
    assert CANARY_PASSWORD not in caplog.text
    assert CANARY_PASSWORD.encode() not in ledger.path.read_bytes()


def test_implicit_tls(
    certificate: tuple[Path, Path], ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    # aiosmtpd does not count implicit TLS as TLS for AUTH, so login is tested over STARTTLS
    cert, key = certificate
    with smtp_server(tls=server_context(cert, key)) as srv:
        settings = SmtpSettings(
            host=srv.host, port=srv.port, security="tls", ca_file=cert, backoff=0, timeout=5
        )
        report = deliver(
            sample_briefing(),
            spec("a@example.com"),
            smtp=settings,
            ledger=ledger,
            rendered=fake_rendered,
        )
    assert report.exit_code == ExitCode.OK, report.results
    assert len(srv.handler.to("a@example.com")) == 1


def test_untrusted_certificate_is_refused(
    certificate: tuple[Path, Path], ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    cert, key = certificate
    with smtp_server(starttls=server_context(cert, key)) as srv:
        settings = SmtpSettings(
            host=srv.host, port=srv.port, security="starttls", backoff=0, timeout=5
        )
        report = deliver(
            sample_briefing(),
            spec("a@example.com", "b@example.com"),
            smtp=settings,
            ledger=ledger,
            rendered=fake_rendered,
        )
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert "TLS" in report.results[0].detail and "ca_file" in report.results[0].detail
    assert srv.handler.received == []


def test_no_plaintext_fallback_when_starttls_is_missing(
    server: Server, ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    settings = plain(server, security="starttls")
    report = deliver(
        sample_briefing(),
        spec("a@example.com"),
        smtp=settings,
        ledger=ledger,
        rendered=fake_rendered,
    )
    assert report.results[0].status == "failed"
    assert "does not offer STARTTLS" in report.results[0].detail
    assert server.handler.received == []


def test_wrong_password_fails_clearly_and_is_not_echoed(
    certificate: tuple[Path, Path], ledger: Ledger, fake_rendered: RenderedBrief
) -> None:
    cert, key = certificate
    with smtp_server(auth=True, starttls=server_context(cert, key)) as srv:
        settings = SmtpSettings(
            host=srv.host,
            port=srv.port,
            user=USER,
            password="wrong-" + CANARY_PASSWORD,
            ca_file=cert,
            backoff=0,
            timeout=5,
        )
        report = deliver(
            sample_briefing(),
            spec("a@example.com", "b@example.com"),
            smtp=settings,
            ledger=ledger,
            rendered=fake_rendered,
        )
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert "BRIEFING_SMTP_PASSWORD" in report.results[0].detail
    # one login() (smtplib tries PLAIN, then LOGIN); the second recipient did not log in again
    assert len(srv.handler.logins) == 2
    assert all(CANARY_PASSWORD not in r.detail for r in report.results)
