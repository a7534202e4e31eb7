"""Secrets go to the server that needs them and nowhere else (issue 8, point 5).

Canary values stand in for OPENAI_API_KEY, BRIEFING_API_KEY and BRIEFING_SMTP_PASSWORD.
Whole runs use them for real: ``briefing brief`` against a loopback OpenAI-compatible
stub (which checks it got the key), ``briefing send`` building a brief and mailing it
through aiosmtpd with AUTH, and failing runs (HTTP 401 and 500, SMTP AUTH refused) at
``-vv`` with ``BRIEFING_RAISE_ERRORS=1``. Then every place a secret could end up is
searched, as bytes, for the canary and for its base64 forms (SMTP AUTH PLAIN and LOGIN
send the password base64-encoded): stdout and stderr, every log record at DEBUG
(``briefing``, ``openai``, ``httpx``, ``httpcore``...), exception messages, reprs and
tracebacks, the cache's SQLite files, the delivery ledger, every output file (md, html,
json, pdf and its text, eml, the mail as received) and a cassette recorded with the
project's own ``vcr_config``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from briefing_samples import sample_briefing
from click.testing import CliRunner, Result
from conftest import ROOT
from smtp_support import (
    CANARY_PASSWORD,
    USER,
    Server,
    self_signed,
    server_context,
    smtp_server,
)

from briefing.cli import cli
from briefing.errors import ProviderError
from briefing.models import Article, Sentence

ARTICLE = ROOT / "tests" / "data" / "short_article.txt"
#: what OPENAI_API_KEY holds (never sent to a custom server when BRIEFING_API_KEY is set)
OPENAI_KEY = "sk-CANARY-openai-4c1f9b7e2d6a"
#: what BRIEFING_API_KEY holds: the key the loopback server gets
BRIEFING_KEY = "sk-CANARY-briefing-8a3e6d0f51c7"
#: a wrong SMTP password (the server refuses it)
WRONG_PASSWORD = "canary-Wrong-Pw-19d2b6e4"
SECRETS = (OPENAI_KEY, BRIEFING_KEY, CANARY_PASSWORD, WRONG_PASSWORD)
#: loggers of the loopback servers themselves (aiosmtpd logs the SMTP dialogue it sees)
SERVER_LOGGERS = ("mail.",)


# --------------------------------------------------------------------------- needles


def _base64_cores(secret: bytes) -> set[bytes]:
    """The base64 characters that encode ``secret`` wherever it sits in a base64 stream
    (one string per alignment: 0, 1 or 2 bytes before it), so the secret is found inside
    an encoded ``\\0user\\0password`` (AUTH PLAIN) as well as on its own (AUTH LOGIN)."""
    cores = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + secret)
        start = -(-pad // 3) * 4  # first group made of secret bytes only
        end = (pad + len(secret)) // 3 * 4  # end of the last such group
        cores.add(encoded[start:end])
    return cores


def needles(secret: str) -> dict[str, bytes]:
    """Every form of ``secret`` that must not appear: plain, URL-quoted, base64."""
    raw = secret.encode()
    forms = {"plain": raw, "url-quoted": quote(secret, safe="").encode()}
    for i, core in enumerate(sorted(_base64_cores(raw))):
        forms[f"base64 #{i}"] = core
    forms["AUTH PLAIN"] = base64.b64encode(f"\0{USER}\0{secret}".encode())
    return forms


def assert_clean(where: str, data: str | bytes, secrets: Iterable[str] = SECRETS) -> None:
    blob = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    for secret in secrets:
        for form, needle in needles(secret).items():
            assert needle not in blob, f"{secret!r} ({form}) found in {where}"


def test_the_needles_find_what_smtp_auth_sends() -> None:
    """The search itself works: it finds the password in both AUTH exchanges' bytes."""
    plain = b"AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{CANARY_PASSWORD}".encode())
    login = b"334 UGFzc3dvcmQ6\r\n" + base64.b64encode(CANARY_PASSWORD.encode()) + b"\r\n"
    for pad in (b"", b"x", b"xy"):  # the password at every alignment of a base64 stream
        stream = base64.b64encode(pad + CANARY_PASSWORD.encode() + b"tail")
        with pytest.raises(AssertionError, match="base64"):
            assert_clean("stream", stream)
    for blob in (plain, login, f"Bearer {BRIEFING_KEY}".encode(), quote(OPENAI_KEY).encode()):
        with pytest.raises(AssertionError, match="found in test"):
            assert_clean("test", blob)
    assert_clean("innocent text", b"sk-CANAR****************2d6a canary-Pw-***")


# --------------------------------------------------------------------------- servers


def summary_reply() -> dict[str, Any]:
    return {
        "headline": "Iraq tries to stay out of the Israel-Iran conflict",
        "summary": "Iraq may struggle to keep the fighting off its territory.",
        "key_points": [
            {
                "text": "Iraq is an ally of Iran and a partner of the United States.",
                "sentence_ids": [1],
            }
        ],
        "region": "Middle East & North Africa",
        "countries": ["Iraq"],
        "people": ["Sajad Jiyad"],
        "organizations": [],
        "quotes": [],
        "figures": [],
        "topic": "conflict",
        "importance": 4,
    }


class OpenAIStub:
    """A loopback OpenAI-compatible server: answers chat completions (``status`` 200) or
    fails with ``status``; remembers the Authorization header of every request.

    ``echo_auth``: error bodies repeat the request's Authorization header, as a badly
    configured proxy or debug server does (the key must not travel on from there).
    """

    def __init__(self, status: int = 200, *, echo_auth: bool = False) -> None:
        self.status = status
        self.echo_auth = echo_auth
        self.authorizations: list[str] = []
        #: the Authorization header of every GET (the provider's model query)
        self.model_queries: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # the provider asks which model is served
                stub.model_queries.append(self.headers.get("Authorization", ""))
                if self.path.split("?", 1)[0].rstrip("/").endswith("/models"):
                    status, body, headers = stub.answer(None, self.headers.get("Authorization"))
                else:
                    status, body, headers = 404, {"error": {"message": "not found"}}, {}
                self._send(status, body, headers)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                stub.authorizations.append(self.headers.get("Authorization", ""))
                status, body, headers = stub.answer(request, self.headers.get("Authorization"))
                self._send(status, body, headers)

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                # no keep-alive: the CLI never closes its client, and a pooled socket
                # left open would be a ResourceWarning in some later test
                self.send_header("Connection", "close")
                self.close_connection = True
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        #: response headers added to every answer
        self.headers: dict[str, str] = {}

    def answer(
        self, request: dict[str, Any] | None, authorization: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer to a chat request, or (``request`` None) to ``GET /models``."""
        if self.status == 401:
            key = (authorization or "").removeprefix("Bearer ")
            masked = f"{key[:8]}{'*' * 16}{key[-4:]}"  # what api.openai.com answers
            message = f"Incorrect API key provided: {masked}."
            return 401, {"error": {"message": message, "code": "invalid_api_key"}}, {}
        if self.status != 200:
            message = "upstream error"
            if self.echo_auth:
                message += f" (request had Authorization: {authorization})"
            return self.status, {"error": {"message": message}}, self.headers
        if request is None:
            return 200, {"object": "list", "data": [{"id": "stub-model"}]}, {}
        synthesis = any(
            str(m.get("content", "")).startswith("Region:") for m in request.get("messages", [])
        )
        reply = (
            {"paragraph": "Iraq may struggle to keep the fighting off its territory."}
            if synthesis
            else summary_reply()
        )
        body = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", "stub"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(reply)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
        }
        return 200, body, self.headers


@contextmanager
def openai_stub(status: int = 200, *, echo_auth: bool = False) -> Iterator[OpenAIStub]:
    stub = OpenAIStub(status, echo_auth=echo_auth)
    thread = threading.Thread(target=stub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        stub.server.shutdown()
        stub.server.server_close()
        thread.join(5)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("BRIEFING_API_KEY", BRIEFING_KEY)
    monkeypatch.setenv("BRIEFING_SMTP_USER", USER)
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", CANARY_PASSWORD)
    monkeypatch.setenv("BRIEFING_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("BRIEFING_RAISE_ERRORS", "1")


@pytest.fixture
def tls(tmp_path: Path) -> Iterator[Any]:
    """A function opening aiosmtpd with STARTTLS and AUTH: the password crosses TLS as
    in real use (and aiosmtpd, asked for AUTH without TLS, warns on every connection,
    which ``filterwarnings = error`` turns into a dead session)."""
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = made
    yield lambda: smtp_server(auth=True, starttls=server_context(cert, key), ca_file=cert)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("briefing", "openai", "httpx", "httpx2", "httpcore", "httpcore2", "smtplib"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every client-side record: message, arguments' reprs, formatted tracebacks."""
    lines = []
    for record in caplog.records:
        if record.name.startswith(SERVER_LOGGERS):
            continue
        lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}")
        if record.exc_info and record.exc_info[1] is not None:
            lines.extend(traceback.format_exception(record.exc_info[1]))
    return "\n".join(lines)


def exception_text(error: BaseException | None) -> str:
    """The traceback Python prints (chained causes included), and each exception's repr."""
    if error is None or isinstance(error, SystemExit):
        return ""
    parts = traceback.format_exception(error)
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        parts += [repr(error), str(error), repr(getattr(error, "args", ()))]
        error = error.__cause__ or error.__context__
    return "\n".join(parts)


def run_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def pdf_text(path: Path) -> bytes:
    if not shutil.which("pdftotext"):
        return b""
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout


def mail_parts(where: str, data: bytes) -> dict[str, bytes]:
    """A mail as sent, and each of its parts decoded (base64 lines would split a needle)."""
    found = {where: data}
    message = message_from_bytes(data, policy=policy.default)
    for i, part in enumerate(message.walk()):
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found[f"{where}, part {i} ({part.get_content_type()})"] = payload
    return found


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file's bytes (and a PDF's text, a mail's decoded parts)."""
    found = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            found[str(path)] = path.read_bytes()
            if path.suffix == ".pdf":
                found[f"{path} (text)"] = pdf_text(path)
            if path.suffix == ".eml":
                found.update(mail_parts(str(path), path.read_bytes()))
    return found


def short_article() -> Article:
    title, *lines = ARTICLE.read_text(encoding="utf-8").splitlines()
    sentences = [Sentence(id=i, text=t) for i, t in enumerate(lines, 1)]
    return Article(title=title, text=" ".join(lines), outlet="AFP", sentences=sentences)


def check_everywhere(places: dict[str, str | bytes]) -> None:
    for where, data in places.items():
        assert_clean(where, data)


# --------------------------------------------------------------------------- whole runs


@pytest.mark.usefixtures("secret_env")
def test_a_brief_through_a_server_writes_the_key_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    with openai_stub() as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        args = [
            "brief", ARTICLE, "--out", out / "brief.md", "--html", out / "brief.html",
            "--json", out / "brief.json", "--pdf", out / "brief.pdf", "--date", "2026-11-24",
            "--cache-dir", cache, "-vv",
        ]  # fmt: skip
        first = run_cli(*args)
        again = run_cli(*args)  # from the cache this time
    assert first.exit_code in (0, 10), exception_text(first.exception) or first.output
    assert again.exit_code == first.exit_code
    # the key really went where it belongs: BRIEFING_API_KEY, never OPENAI_API_KEY
    assert (stub.authorizations + stub.model_queries) and set(
        stub.authorizations + stub.model_queries
    ) == {f"Bearer {BRIEFING_KEY}"}
    assert (out / "brief.pdf").stat().st_size > 1000
    assert list(cache.rglob("*.sqlite*")) or list(cache.rglob("*.db*")), list(cache.rglob("*"))
    check_everywhere(
        {
            "stdout/stderr": first.output + again.output,
            "log records": log_text(debug_logs),
            **files_under(out, cache),
        }
    )


@pytest.mark.usefixtures("secret_env")
def test_send_builds_and_mails_without_writing_a_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
    tls: Any,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    with openai_stub() as stub, tls() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        cfg = write_config(
            tmp_path, srv, sources=[ARTICLE], formats='["html", "pdf", "md", "json"]'
        )
        args = ["send", "--profile", "morning", "--config", cfg, "--date", "2026-11-24", "-vv"]
        sent = run_cli(*args)
        dry = run_cli(*args, "--dry-run", tmp_path / "eml")
    assert sent.exit_code == 0, exception_text(sent.exception) or sent.output
    assert dry.exit_code == 0, exception_text(dry.exception) or dry.output
    assert set(stub.authorizations + stub.model_queries) == {f"Bearer {BRIEFING_KEY}"}
    assert srv.handler.logins == [(USER, CANARY_PASSWORD)]  # AUTH really happened
    assert len(srv.handler.received) == 1
    received = mail_parts("the mail as received", srv.handler.received[0].data)
    assert any("application/pdf" in where for where in received), list(received)
    assert list((tmp_path / "eml").glob("*.eml"))
    check_everywhere(
        {
            "stdout/stderr": sent.output + dry.output,
            "log records": log_text(debug_logs),
            **received,
            **files_under(tmp_path / "eml", state),
        }
    )


def write_config(
    tmp_path: Path, srv: Server, *, sources: list[Path] | None = None, formats: str = '["html"]'
) -> Path:
    """A profile mailing alice through ``srv`` (STARTTLS, trusting its certificate)."""
    listed = ", ".join(json.dumps(str(s)) for s in sources or [])
    path = tmp_path / "config.toml"
    path.write_text(
        f'[smtp]\nhost = "{srv.host}"\nport = {srv.port}\nsecurity = "starttls"\n'
        f'ca_file = "{srv.ca_file}"\nfrom = "brief@example.com"\nbackoff = 0\nattempts = 1\n'
        "timeout = 10\n"
        f'[profiles.morning]\nrecipients = ["alice@example.com"]\nformats = {formats}\n'
        f"sources = [{listed}]\n",
        encoding="utf-8",
    )
    return path


# --------------------------------------------------------------------------- failing runs


@pytest.mark.usefixtures("secret_env")
@pytest.mark.parametrize("status", [401, 500])
def test_a_failing_server_gets_no_key_into_errors_or_logs(
    status: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    out = tmp_path / "out"
    with openai_stub(status) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        result = run_cli(
            "brief", ARTICLE, "--out", out / "brief.md", "--json", out / "brief.json",
            "--cache-dir", tmp_path / "cache", "-vv",
        )  # fmt: skip
    assert (stub.authorizations + stub.model_queries) and set(
        stub.authorizations + stub.model_queries
    ) == {f"Bearer {BRIEFING_KEY}"}
    if status == 401:  # nothing can work: the run stops, and with RAISE_ERRORS it raises
        assert isinstance(result.exception, ProviderError), result.output
        assert "rejected the API key (HTTP 401)" in str(result.exception)
    else:  # the article falls back to an extractive summary, and the brief says why
        assert result.exit_code == 10, exception_text(result.exception) or result.output
        assert "(HTTP 500) after 2 attempts: upstream error" in (out / "brief.json").read_text()
    check_everywhere(
        {
            "stdout/stderr": result.output,
            "exception": exception_text(result.exception),
            "log records": log_text(debug_logs),
            **files_under(tmp_path),
        }
    )


@pytest.mark.usefixtures("secret_env")
def test_a_server_echoing_the_key_does_not_get_it_into_the_brief(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    """A misconfigured proxy repeats the request's Authorization header in its error."""
    out = tmp_path / "out"
    with openai_stub(500, echo_auth=True) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        result = run_cli(
            "brief", ARTICLE, "--out", out / "brief.md", "--json", out / "brief.json",
            "--cache-dir", tmp_path / "cache", "-vv",
        )  # fmt: skip
    assert result.exit_code == 10, exception_text(result.exception) or result.output
    assert "(HTTP 500) after 2 attempts: upstream error" in (out / "brief.json").read_text()
    check_everywhere(
        {
            "stdout/stderr": result.output,
            "log records": log_text(debug_logs),
            **files_under(out),
        }
    )


@pytest.mark.usefixtures("secret_env")
def test_a_real_process_prints_no_key_in_its_traceback_or_debug_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m briefing`` itself: logging really configured at DEBUG, the traceback
    really printed by the interpreter."""
    with openai_stub(401) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        proc = subprocess.run(
            [sys.executable, "-m", "briefing", "brief", str(ARTICLE), "--no-cache", "-vv"],
            capture_output=True,
            env=dict(os.environ),
            cwd=tmp_path,
            timeout=120,
        )
    assert set(stub.authorizations + stub.model_queries) == {f"Bearer {BRIEFING_KEY}"}
    assert b"Traceback (most recent call last)" in proc.stderr
    assert b"briefing: DEBUG:" in proc.stderr  # -vv reached the logging set-up
    assert b"ProviderError" in proc.stderr and proc.returncode == 1
    check_everywhere({"stdout": proc.stdout, "stderr": proc.stderr})


@pytest.mark.usefixtures("secret_env")
def test_refused_smtp_login_reports_without_the_password(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logs: pytest.LogCaptureFixture,
    tls: Any,
) -> None:
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", WRONG_PASSWORD)
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    brief = tmp_path / "brief.json"
    brief.write_text(sample_briefing().model_dump_json(), encoding="utf-8")
    with tls() as srv:
        cfg = write_config(tmp_path, srv)
        result = run_cli("send", "--profile", "morning", "--config", cfg, "--brief", brief, "-vv")
    assert srv.handler.logins and all(p == WRONG_PASSWORD for _, p in srv.handler.logins)
    assert result.exit_code == 7, exception_text(result.exception) or result.output
    assert "SMTP login as 'brief@example.com'" in result.stderr
    assert not srv.handler.received
    check_everywhere(
        {
            "stdout/stderr": result.output,
            "exception": exception_text(result.exception),
            "log records": log_text(debug_logs),
            **files_under(state),
        }
    )


def test_the_objects_a_caller_may_print_hold_no_secret() -> None:
    """reprs of the model, its SDK clients and the SMTP settings and sender."""
    from briefing.deliver.smtp import SmtpSender, SmtpSettings
    from briefing.llm import get_llm

    env = {"OPENAI_API_KEY": OPENAI_KEY, "BRIEFING_API_KEY": BRIEFING_KEY}
    llm = get_llm(env={**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert llm._client.api_key == BRIEFING_KEY  # type: ignore[attr-defined]
    settings = SmtpSettings("127.0.0.1", 25, "none", USER, CANARY_PASSWORD)
    check_everywhere(
        {
            "repr(llm)": repr(llm),
            "repr(vars(llm))": repr(vars(llm)),
            "repr(client)": repr(llm._client),  # type: ignore[attr-defined]
            "repr(settings)": repr(settings),
            "str(settings)": str(settings),
            "repr(sender)": repr(SmtpSender(settings)),
        }
    )


# --------------------------------------------------------------------------- cassettes


def test_a_cassette_recorded_with_the_project_config_holds_no_key(
    tmp_path: Path, vcr_config: dict[str, Any]
) -> None:
    """Record real exchanges with the canary key exactly as ``make cassettes`` would (a
    session cookie and an organization header set by the server, a query-string key, an
    error body echoing the Authorization header), then search the YAML file."""
    import vcr

    from briefing.llm import get_llm, http
    from briefing.llm.openai import OpenAILLM
    from briefing.summarize import Summarizer

    cookie = "canary-session-5d0e77"
    cassette = tmp_path / "recorded.yaml"
    env = {"BRIEFING_API_KEY": BRIEFING_KEY, "BRIEFING_MAX_ATTEMPTS": "1"}
    with openai_stub() as stub, openai_stub(500, echo_auth=True) as echo:
        stub.headers = {"Set-Cookie": f"session={cookie}; Path=/", "OpenAI-Organization": cookie}
        recorder = vcr.VCR(**vcr_config)
        with recorder.use_cassette(str(cassette), record_mode="all"):
            summarizer = Summarizer(get_llm("openai", base_url=stub.base_url, env=env))
            summarizer.summarize(short_article())
            summarizer.summarize(short_article())  # the second request carries the cookie
            azure_style = http.Client(  # the key in the query string, as Azure takes it
                api_key="unused", base_url=stub.base_url, default_query={"api-key": BRIEFING_KEY}
            )
            Summarizer(OpenAILLM(client=azure_style)).summarize(short_article())
            with pytest.raises(ProviderError):
                Summarizer(get_llm("openai", base_url=echo.base_url, env=env)).summarize(
                    short_article()
                )
    assert len(stub.authorizations) == 3 and len(echo.authorizations) == 1
    assert set(stub.authorizations[:2] + echo.authorizations) == {f"Bearer {BRIEFING_KEY}"}
    data = cassette.read_bytes()
    assert_clean("the cassette", data, (*SECRETS, cookie))
    recorded = yaml.safe_load(data)["interactions"]
    interactions = [i for i in recorded if i["request"]["uri"].endswith("/v1/chat/completions")]
    assert [i["response"]["status"]["code"] for i in interactions] == [200, 200, 200, 500]
    assert all(i["request"]["uri"].split("?")[0].endswith("/v1/models") for i in recorded[:1])
    echoed = interactions[-1]["response"]["body"]["string"]
    assert "(request had Authorization: Bearer [REDACTED])" in str(echoed)
