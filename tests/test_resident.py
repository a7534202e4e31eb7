"""The resident start-up server (``briefing.resident``), for real: ``python -m briefing
summarize`` in subprocesses, a server they start and then use (fork, descriptors passed
over a Unix socket), against the loopback fault server as the model."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_server import (
    MODEL,
    FaultServer,
    fault_server_fixture,  # noqa: F401  (the fault_server fixture)
)

from briefing import resident

RUNTIME_PREFIX = "/tmp/br-"
pytestmark = [
    pytest.mark.skipif(not resident.supported(), reason="needs fork and Unix sockets"),
    # the test asks the servers for their status over their Unix sockets
    pytest.mark.block_network(allowed_hosts=["127.0.0.1", "localhost", RUNTIME_PREFIX]),
]

ARTICLE = (
    "Farmers in Lima will receive grain by June, officials said\n\n"
    "Amira Haddad said on Monday that 4,000 farmers in Lima would receive grain by June. "
    "The finance ministry in Lima confirmed the plan after two weeks of talks. "
    "Farmers' unions welcomed the decision but asked for faster deliveries.\n"
)


@pytest.fixture
def env(fault_server: FaultServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a user whose summarize goes through a resident server (a short
    runtime directory: a Unix socket's path holds about 100 bytes)."""
    runtime = Path(tempfile.mkdtemp(prefix=Path(RUNTIME_PREFIX).name, dir="/tmp"))
    environ = {
        **os.environ,
        "BRIEFING_RESIDENT": "1",
        "BRIEFING_RESIDENT_IDLE": "60",
        "XDG_RUNTIME_DIR": str(runtime),
        "OPENAI_BASE_URL": fault_server.url,
        "BRIEFING_CACHE_DIR": str(tmp_path / "cache"),
    }
    yield environ
    try:
        resident.stop_all(environ)
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def briefing(
    env: dict[str, str], *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for_server(env: dict[str, str]) -> dict[str, object]:
    ends = time.monotonic() + 60
    while time.monotonic() < ends:
        found = list(resident.servers(env))
        if found:
            return found[0][1]
        time.sleep(0.1)
    raise AssertionError("no resident server came up")


def served(env: dict[str, str]) -> int:
    return sum(int(status.get("served", 0)) for _, status in resident.servers(env))  # type: ignore[call-overload]


def test_the_second_summarize_runs_in_the_server_with_the_same_result(
    env: dict[str, str], tmp_path: Path, fault_server: FaultServer
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    args = ("summarize", "article.txt", "--json", "--model", MODEL, "--no-cache")

    first = briefing(env, *args, cwd=tmp_path)  # runs here, starts a server
    assert first.returncode == 0, first.stderr
    status = wait_for_server(env)
    assert status["served"] == 0
    second = briefing(env, *args, cwd=tmp_path)  # the relative path is the client's
    assert second.returncode == 0, second.stderr
    assert served(env) == 1

    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert len(fault_server.chat_requests) == 2


def test_exit_status_stderr_and_stdin_are_the_clients(env: dict[str, str], tmp_path: Path) -> None:
    briefing(env, "summarize", str(tmp_path / "missing.txt"))
    wait_for_server(env)

    missing = briefing(env, "summarize", str(tmp_path / "missing.txt"))
    assert missing.returncode == 4  # InputError, as in process
    assert "missing.txt" in missing.stderr
    piped = briefing(env, "summarize", "-", "--model", MODEL, "--no-cache", stdin=ARTICLE)
    assert piped.returncode == 0, piped.stderr
    assert "Lima" in piped.stdout
    assert served(env) == 2


def test_the_clients_environment_wins(env: dict[str, str], tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    briefing(env, "summarize", str(tmp_path / "missing.txt"))
    wait_for_server(env)

    elsewhere = {**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}  # nothing listens
    failed = briefing(elsewhere, "summarize", str(article), "--model", MODEL, "--no-cache")
    assert failed.returncode == 5, failed.stderr  # ProviderError: cannot reach it
    assert "127.0.0.1:9" in failed.stderr
    assert served(env) == 1


def test_ctrl_c_reaches_the_command(
    env: dict[str, str], tmp_path: Path, fault_server: FaultServer
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    briefing(env, "summarize", str(tmp_path / "missing.txt"))
    wait_for_server(env)
    fault_server.inject("stall")  # every answer stalls

    client = subprocess.Popen(
        [sys.executable, "-m", "briefing", "summarize", str(article), "--model", MODEL],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ends = time.monotonic() + 30
    while not fault_server.chat_requests and time.monotonic() < ends:
        time.sleep(0.05)
    assert fault_server.chat_requests, "the command never called the model"
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=30)
    assert client.returncode == 130, stderr
    assert served(env) == 1


def test_off_means_no_server(env: dict[str, str], tmp_path: Path) -> None:
    off = {**env, "BRIEFING_RESIDENT": "0"}
    done = briefing(off, "summarize", str(tmp_path / "missing.txt"))
    assert done.returncode == 4
    time.sleep(0.5)
    assert list(resident.servers(off)) == []


def test_stop(env: dict[str, str], tmp_path: Path) -> None:
    briefing(env, "summarize", str(tmp_path / "missing.txt"))
    status = wait_for_server(env)
    stopped = briefing(env, "resident", "stop")
    assert stopped.returncode == 0
    assert "stopped 1 resident server" in stopped.stderr
    assert list(resident.servers(env)) == []
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(int(status["pid"]), 0)  # type: ignore[call-overload]
            time.sleep(0.1)


def test_the_server_has_imported_everything_summarize_uses(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    """What a command imports in the child, every child imports again: the preload list
    holds every briefing module a summarize run uses."""
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE)
    code = (
        "import importlib, json, sys\n"
        "from briefing import resident\n"
        "for name in resident.PRELOAD: importlib.import_module(name)\n"
        "before = set(sys.modules)\n"
        "from briefing.cli import cli\n"
        "try:\n"
        f"    cli(['summarize', {str(article)!r}, '--model', {MODEL!r}, '--no-cache'],"
        " prog_name='briefing')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print(json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)\n"
    )
    env = {**os.environ, "OPENAI_BASE_URL": fault_server.url}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    new = json.loads(done.stderr.strip().splitlines()[-1])
    assert [name for name in new if name.startswith("briefing")] == []


def test_a_changed_module_file_makes_the_server_stale(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    seen = {str(module): (module.stat().st_mtime_ns, module.stat().st_size)}
    assert not resident._changed(seen)
    module.write_text("x = 22\n")
    assert resident._changed(seen)
    module.unlink()
    assert resident._changed(seen)


def test_only_summarize_and_only_when_wanted() -> None:
    assert resident.wanted(["summarize", "a.txt"], {}) == resident.supported()
    assert not resident.wanted(["brief", "seeds/"], {})
    assert not resident.wanted([], {})
    assert not resident.wanted(["summarize", "a.txt"], {"BRIEFING_RESIDENT": "off"})


def test_the_runtime_directory_is_private(tmp_path: Path) -> None:
    base = tmp_path / "run"
    base.mkdir()
    directory = resident.runtime_dir({"XDG_RUNTIME_DIR": str(base)})
    assert directory is not None and directory.stat().st_mode & 0o777 == 0o700
    directory.chmod(0o755)  # others may enter: not trusted
    assert resident.runtime_dir({"XDG_RUNTIME_DIR": str(base)}) is None


def test_a_client_that_gave_up_is_not_served() -> None:
    import socket

    server_end, client_end = socket.socketpair()
    with server_end:
        assert not resident._gone(server_end)  # connected, nothing more to read
        client_end.sendall(b"x")
        assert not resident._gone(server_end)
        server_end.recv(1)
        client_end.close()
        assert resident._gone(server_end)  # it closed: no child is forked for it
