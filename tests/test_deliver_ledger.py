"""The delivery ledger: crashes between send and record, reruns, --retry-unknown, --force."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from briefing_samples import sample_briefing
from smtp_support import Server, smtp_server

from briefing.deliver.email import Attachment, MailSpec, RenderedBrief, content_hash, deliver
from briefing.deliver.ledger import DeliveryKey, Ledger
from briefing.deliver.smtp import SmtpSettings

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = ("alice@example.com", "bob@example.com", "carol@example.com")
RENDERED = RenderedBrief(
    "plain", "<p>html</p>", (Attachment("b.pdf", "application", "pdf", b"%PDF-1.7\n%%EOF\n"),)
)
SPEC = MailSpec(profile="morning", sender="brief@example.com", to=RECIPIENTS)


class Crash(BaseException):
    """Stands for the process dying (kill -9, power cut): nothing after it runs."""


@pytest.fixture
def server() -> Iterator[Server]:
    with smtp_server() as srv:
        yield srv


def settings(srv: Server) -> SmtpSettings:
    return SmtpSettings(host=srv.host, port=srv.port, security="none", backoff=0, timeout=5)


def run(
    srv: Server, path: Path, *, force: bool = False, retry_unknown: bool = False
) -> list[tuple[str, str]]:
    with Ledger(path) as ledger:
        report = deliver(
            sample_briefing(),
            SPEC,
            smtp=settings(srv),
            ledger=ledger,
            rendered=RENDERED,
            force=force,
            retry_unknown=retry_unknown,
        )
    return [(r.recipient, r.status) for r in report.results]


def counts(srv: Server) -> dict[str, int]:
    return {r: len(srv.handler.to(r)) for r in RECIPIENTS}


def test_crash_between_send_and_record_then_rerun_sends_each_recipient_at_most_once(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    real_mark_sent = Ledger.mark_sent

    def crash_on_bob(self: Ledger, key: DeliveryKey, **kwargs: object) -> None:
        if key.recipient == "bob@example.com":
            raise Crash  # the server has bob's message; the ledger never hears of it
        real_mark_sent(self, key, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "mark_sent", crash_on_bob)
    with pytest.raises(Crash):
        run(server, path)
    assert counts(server) == {"alice@example.com": 1, "bob@example.com": 1, "carol@example.com": 0}
    monkeypatch.setattr(Ledger, "mark_sent", real_mark_sent)

    # the rerun serves carol, skips alice, and does not risk a second copy for bob
    assert run(server, path) == [
        ("alice@example.com", "skipped"),
        ("bob@example.com", "unknown"),
        ("carol@example.com", "sent"),
    ]
    assert counts(server) == {r: 1 for r in RECIPIENTS}  # each exactly once
    # ... and stays that way on every later rerun
    assert [s for _, s in run(server, path)] == ["skipped", "unknown", "skipped"]
    assert counts(server) == {r: 1 for r in RECIPIENTS}
    with Ledger(path) as ledger:
        status = {r.key.recipient: r.status for r in ledger.rows()}
    assert status == {
        "alice@example.com": "sent",
        "bob@example.com": "sending",
        "carol@example.com": "sent",
    }


def test_retry_unknown_resends_only_the_doubtful_with_the_same_message_id(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite3"
    real_mark_sent = Ledger.mark_sent

    def crash(self: Ledger, key: DeliveryKey, **kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(Ledger, "mark_sent", crash)
    with pytest.raises(Crash):
        run(server, path)
    monkeypatch.setattr(Ledger, "mark_sent", real_mark_sent)
    assert run(server, path, retry_unknown=True) == [
        ("alice@example.com", "sent"),
        ("bob@example.com", "sent"),
        ("carol@example.com", "sent"),
    ]
    # at-least-once for the one in doubt: alice has two copies, which share a Message-ID
    assert counts(server) == {"alice@example.com": 2, "bob@example.com": 1, "carol@example.com": 1}
    ids = {r.message["Message-ID"] for r in server.handler.received}
    assert len(ids) == 1


def test_force_resends_to_everyone_with_a_fresh_message_id(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    run(server, path)
    assert [s for _, s in run(server, path, force=True)] == ["sent"] * 3
    assert counts(server) == {r: 2 for r in RECIPIENTS}
    ids = [r.message["Message-ID"] for r in server.handler.received]
    assert ids[0] == ids[1] == ids[2] != ids[3]


def test_link_lost_after_the_message_went_out_is_unknown_not_retried(
    server: Server, tmp_path: Path
) -> None:
    server.handler.vanish_after_data.add("bob@example.com")
    path = tmp_path / "ledger.sqlite3"
    first = run(server, path)
    assert first == [
        ("alice@example.com", "sent"),
        ("bob@example.com", "unknown"),
        ("carol@example.com", "sent"),  # a fresh connection for the rest
    ]
    assert counts(server) == {r: 1 for r in RECIPIENTS}
    assert [s for _, s in run(server, path)] == ["skipped", "unknown", "skipped"]
    assert counts(server) == {r: 1 for r in RECIPIENTS}


def test_a_killed_process_leaves_an_intent_that_a_rerun_honours(
    server: Server, tmp_path: Path
) -> None:
    """A real process dies (os._exit) right after the server accepted alice's copy."""
    path = tmp_path / "ledger.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from briefing_samples import sample_briefing
        from briefing.deliver.email import MailSpec, RenderedBrief, deliver
        from briefing.deliver.ledger import Ledger
        from briefing.deliver.smtp import SmtpSettings
        Ledger.mark_sent = lambda *a, **k: os._exit(9)
        with Ledger({str(path)!r}) as ledger:
            deliver(
                sample_briefing(),
                MailSpec("morning", "brief@example.com", {RECIPIENTS!r}),
                smtp=SmtpSettings({server.host!r}, {server.port}, "none", timeout=5),
                ledger=ledger,
                rendered=RenderedBrief("plain", "<p>html</p>"),
            )
        """
    )
    done = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert done.returncode == 9
    assert counts(server) == {"alice@example.com": 1, "bob@example.com": 0, "carol@example.com": 0}
    assert [s for _, s in run(server, path)] == ["unknown", "sent", "sent"]
    assert counts(server) == {r: 1 for r in RECIPIENTS}


# --------------------------------------------------------------------------- claims


def key(recipient: str = "a@example.com", chash: str = "h1") -> DeliveryKey:
    return DeliveryKey("morning", dt.date(2026, 11, 24), recipient, chash)


def test_claim_decisions(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        assert ledger.claim(key(), "<m1@x>").reason == "new"
        ledger.mark_failed(key(), code=451, detail="greylisted", attempts=3)
        assert ledger.claim(key(), "<m1@x>").reason == "retry"  # failed: nothing arrived
        ledger.mark_sent(key(), code=250, detail="OK", attempts=1)
        claim = ledger.claim(key(), "<m1@x>")
        assert not claim.go and claim.reason == "sent"
        # a rebuilt brief (different content) is still that day's brief
        other = ledger.claim(key(chash="h2"), "<m2@x>")
        assert not other.go and other.reason == "sent"
        assert ledger.claim(key(chash="h2"), "<m3@x>", force=True).go
        row = ledger.rows(recipient="a@example.com")[0]
        assert row.attempts == 4 and row.status == "sent"


def test_two_runs_at_once_cannot_both_claim_a_recipient(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger(path) as first, Ledger(path) as second:
        assert first.claim(key(), "<m@x>").go
        claim = second.claim(key(), "<m@x>")
        assert not claim.go and claim.reason == "unknown"


def test_unwritable_ledger_is_a_delivery_error(tmp_path: Path) -> None:
    from briefing.errors import DeliveryError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DeliveryError, match="BRIEFING_LEDGER"):
        Ledger(blocker / "ledger.sqlite3")


def test_content_hash_is_the_ledger_key(server: Server, tmp_path: Path) -> None:
    run(server, tmp_path / "l.sqlite3")
    with Ledger(tmp_path / "l.sqlite3") as ledger:
        assert {r.key.content_hash for r in ledger.rows()} == {content_hash(sample_briefing())}
