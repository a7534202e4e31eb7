"""A real SMTP server for the delivery tests: aiosmtpd on 127.0.0.1, scriptable refusals."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "brief@example.com"
#: a password no output, file, ledger row or log line may ever contain
CANARY_PASSWORD = "canary-Pw-7f3a9c1e"


@dataclass
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Handler:
    """Accepts everything unless told otherwise, and remembers what it got."""

    received: list[Received] = field(default_factory=list)
    #: address -> reply for every RCPT TO of it (e.g. "550 5.1.1 no such user")
    refuse: dict[str, str] = field(default_factory=dict)
    #: address -> replies for its next RCPT TOs, one each (e.g. ["451 4.7.1 greylisted"])
    transient: dict[str, list[str]] = field(default_factory=dict)
    #: close the connection without answering the end of DATA for these addresses, once
    vanish_after_data: set[str] = field(default_factory=set)
    logins: list[tuple[str, str]] = field(default_factory=list)
    rcpt_calls: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.rcpt_calls.append(address)
        if address in self.refuse:
            return self.refuse[address]
        queue = self.transient.get(address)
        if queue:
            return queue.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        vanish = self.vanish_after_data & set(envelope.rcpt_tos)
        if vanish:
            self.vanish_after_data -= vanish
            server.transport.close()
        return "250 2.0.0 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=login == USER and password == CANARY_PASSWORD, handled=False)

    def to(self, address: str) -> list[Received]:
        """Messages delivered to ``address``."""
        return [r for r in self.received if address in r.rcpt_tos]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    handler: Handler
    host: str
    port: int
    ca_file: Path | None = None


@contextmanager
def smtp_server(
    *,
    auth: bool = False,
    tls: ssl.SSLContext | None = None,
    starttls: ssl.SSLContext | None = None,
    ca_file: Path | None = None,
) -> Iterator[Server]:
    """Run aiosmtpd on a free loopback port for the duration of the block.

    ``tls``: implicit TLS; ``starttls``: offer (and require) STARTTLS; ``auth``: require
    AUTH as ``USER`` / ``CANARY_PASSWORD`` (allowed in the clear only without TLS).
    """
    handler = Handler()
    port = free_port()
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs.update(
            authenticator=handler.authenticate,
            auth_required=True,
            auth_require_tls=bool(starttls or tls),
        )
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if tls is not None:
        kwargs.update(ssl_context=tls, server_hostname="localhost")
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5, **kwargs)
    with warnings.catch_warnings():
        # "Requiring AUTH while not requiring TLS": the plain-text AUTH test on loopback
        warnings.filterwarnings("ignore", "Requiring AUTH while not", UserWarning)
        controller.start()
    try:
        yield Server(handler, "127.0.0.1", port, ca_file)
    finally:
        controller.stop()


def self_signed(directory: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate for 127.0.0.1 (made with the openssl CLI), or None."""
    if shutil.which("openssl") is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
