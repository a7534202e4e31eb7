"""A resident start-up server: ``briefing summarize FILE`` without paying the imports.

Most of what ``briefing summarize FILE`` costs against a fast server is Python starting
and importing pydantic, jinja2, click and the pipeline (about 0.5 s of CPU, a tenth of
it the run itself). People run it by hand many times a day, so the first run leaves a
server behind that has done those imports once; the next runs ask it to ``fork()`` a
child that runs the command, which then starts in a few milliseconds. The same idea as
the Gradle and Bazel servers, Kotlin's daemon or ``dmypy``; the fork is what
``multiprocessing``'s forkserver does, across invocations instead of within one.

What the child is given, so that it behaves as a fresh ``briefing`` process would:

- the client's standard input, output and error themselves (file descriptors passed
  over the Unix socket: a terminal stays a terminal, a pipe a pipe, ``-`` reads the
  client's stdin), its arguments, working directory, umask and whole environment;
- a new random seed, default signal handlers; its exit status (or the signal that
  killed it, as 128 + N) becomes the client's exit status, and the client forwards
  Ctrl-C, SIGTERM, SIGHUP and SIGQUIT to it, Ctrl-Z stops both.

When it is not used (the command runs in the client's own process, as always):

- ``BRIEFING_RESIDENT=0``; on platforms without ``fork`` and Unix sockets (Windows);
  under interpreter options (``-O``, ``-X``, ``-W``): the server would not share them;
- any failure before the child starts (no server yet, a stale socket, a full disk):
  the command runs here, and nothing was done twice;
- after an upgrade or an edit of any module it imported: the server notices the
  changed file (size or time) before forking, stops, and the command runs here.

One server per user, interpreter, ``sys.path`` and interpreter-level environment
(``PYTHON*``, ``LANG`` and ``LC_*``), in ``$XDG_RUNTIME_DIR/briefing`` (else
``$TMPDIR/briefing-UID``), a directory only its user may enter; on Linux the server
also checks the peer's user id. It exits after ``BRIEFING_RESIDENT_IDLE`` seconds
(default 900) without a command; ``briefing resident status`` / ``stop`` show and end it.
Only ``summarize`` goes through it: a brief runs for seconds to minutes, where start-up
does not show.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

#: commands the server runs (the first argument)
COMMANDS = frozenset({"summarize"})
#: seconds without a command after which a server exits
DEFAULT_IDLE = 900.0
#: modules a server imports before it serves (what ``summarize`` uses; a test keeps
#: this list complete)
PRELOAD = (
    "briefing.cli",
    "briefing.request",
    "briefing.runner",
    "briefing.summarize",
    "briefing.cache",
    "briefing.prompts",
    "briefing.prompt_templates",
    "briefing.ratelimit",
    "briefing.ingest",
    "briefing.ingest.parsed",
    "briefing.ingest.language",
    "briefing.llm.openai",
    "briefing.llm.http",
    "briefing.grounding",
    "briefing.render.summary",
    "http.client",
)
#: signals the client passes on to the child
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
_LENGTH = struct.Struct("!I")
_OFF = frozenset({"0", "off", "no", "false"})


# -- the client -----------------------------------------------------------------------------
def wanted(args: Sequence[str], environ: Mapping[str, str] = os.environ) -> bool:
    """True when this command should go through a resident server."""
    if not args or args[0] not in COMMANDS:
        return False
    if environ.get("BRIEFING_RESIDENT", "").strip().lower() in _OFF:
        return False
    return supported()


def supported() -> bool:
    """True where the server can work: fork, Unix sockets passing descriptors, and an
    interpreter run without options the server would not share."""
    if os.name != "posix" or not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return False
    flags = sys.flags
    return not (
        flags.optimize or flags.dev_mode or flags.isolated or sys.warnoptions or sys._xoptions
    )


def run(args: Sequence[str]) -> int | None:
    """Run ``briefing ARGS`` in a resident server's child: its exit status; or None when
    it was not started there (then run it here; a server is started for next time)."""
    path = socket_path()
    if path is None:
        return None
    try:
        client = _connect(path)
    except OSError:
        _start_server(path)
        return None
    with client:
        try:
            pid = _request(client, list(args))
        except (OSError, ValueError):
            return None
        if pid is None:  # the server is stale (it is stopping) or could not fork
            _start_server(path)
            return None
        return _wait(client, pid)


def _connect(path: Path) -> socket.socket:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.settimeout(5.0)  # a server that does not answer is not waited for
        client.connect(str(path))
    except OSError:
        client.close()
        raise
    return client


def _request(client: socket.socket, args: list[str]) -> int | None:
    """Send the command with our standard streams; the child's pid, or None."""
    streams = [sys.stdin, sys.stdout, sys.stderr]
    header = {
        "op": "run",
        "argv": args,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": _umask(),
        "stdio": [
            [getattr(s, "encoding", None), getattr(s, "errors", None)] if s else [None, None]
            for s in streams
        ],
    }
    for stream in streams[1:]:
        if stream is not None:
            stream.flush()
    _send(client, header, fds=[0, 1, 2])
    answer = _receive(client)
    client.settimeout(None)  # the command takes as long as it takes
    pid = answer.get("pid")
    return int(pid) if isinstance(pid, int) else None


def _wait(client: socket.socket, pid: int) -> int:
    """Wait for the child's status, passing our signals on to it."""
    previous: dict[int, Any] = {}

    def forward(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal handler
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    def stop(signum: int, frame: Any) -> None:  # noqa: ARG001 - Ctrl-Z stops both
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTSTP)
        os.kill(os.getpid(), signal.SIGSTOP)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)

    for name in FORWARDED:
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, forward)
    if hasattr(signal, "SIGTSTP"):
        previous[signal.SIGTSTP] = signal.signal(signal.SIGTSTP, stop)
    try:
        answer = _receive(client)
    except (OSError, ValueError):
        answer = {}
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    status = answer.get("status")
    if not isinstance(status, int):
        print(
            "briefing: the resident server stopped before the command finished; "
            "run it again (BRIEFING_RESIDENT=0 runs it without the server).",
            file=sys.stderr,
        )
        return 1
    return status


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- where the server lives ----------------------------------------------------------------
def runtime_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The user's private directory for servers (created 0700), or None when there is
    no such directory we can trust (another owner, or others may enter it)."""
    base = environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        directory = Path(base) / "briefing"
    else:
        import tempfile

        directory = Path(tempfile.gettempdir()) / f"briefing-{os.getuid()}"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not directory.is_dir():
        return None
    return directory


def server_key(environ: Mapping[str, str] = os.environ) -> str:
    """What a server must share with its clients: interpreter, path, interpreter-level
    environment, and the briefing package's location."""
    import briefing

    parts = {
        "executable": sys.executable,
        "version": sys.version,
        "path": sys.path,
        "package": str(Path(briefing.__file__).resolve().parent),
        "env": sorted(
            (k, v) for k, v in environ.items() if k.startswith(("PYTHON", "LC_")) or k == "LANG"
        ),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def socket_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    directory = runtime_dir(environ)
    if directory is None:
        return None
    path = directory / f"resident-{server_key(environ)}.sock"
    return path if len(os.fsencode(path)) < 100 else None  # (sun_path holds 104-108 bytes)


def _start_server(path: Path) -> None:
    """Start a server for ``path`` in the background (it does its imports while this
    process runs the command itself); a second one started at once exits by itself."""
    import subprocess

    code = (
        "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
        "from briefing.resident import serve; serve(sys.argv[2])"
    )
    log = path.with_suffix(".log")
    try:
        with open(log, "ab") as err:
            subprocess.Popen(
                [sys.executable, "-c", code, json.dumps(sys.path), str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # not in the terminal's process group
                close_fds=True,
            )
    except OSError:
        pass  # no server then: the commands run as they always did


# -- the server -----------------------------------------------------------------------------
def serve(path_text: str) -> None:
    """Import what ``summarize`` needs, then fork a child per command until idle."""
    path = Path(path_text)
    import fcntl

    lock = open(path.with_suffix(".lock"), "a+b")  # noqa: SIM115 - held for the server's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server for this key is starting or running
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    warm()
    import gc

    gc.freeze()  # what is here now is never collected: a child's collections stay small
    Server(path, idle=_idle_seconds()).run()


def warm() -> None:
    """Do the first-use work every ``summarize`` would do again in its child, where it
    is the same for every command (it depends on the code alone, never on the
    environment, the arguments or the input): compile the lazy regular expressions and
    the packaged prompt templates, build the summary's JSON schema, hash the source."""
    from briefing.cache import code_fingerprint
    from briefing.lazyre import LazyPattern
    from briefing.llm.schema import model_schema
    from briefing.models import SummaryOutput
    from briefing.prompts import precompile

    for pattern in LazyPattern.made:
        pattern.compiled  # noqa: B018 - compiles it
    model_schema(SummaryOutput)
    precompile()
    code_fingerprint()  # (the server stops when any source file changes)


def _idle_seconds() -> float:
    try:
        return max(float(os.environ.get("BRIEFING_RESIDENT_IDLE", DEFAULT_IDLE)), 1.0)
    except ValueError:
        return DEFAULT_IDLE


class Server:
    """The accept loop: one forked child per command, its status sent to its client."""

    def __init__(self, path: Path, *, idle: float) -> None:
        import selectors

        self.path = path
        self.idle = idle
        self.started = time.time()
        self.served = 0
        self.children: dict[int, socket.socket] = {}
        self.files = _module_files()
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.wakeup_r, self.wakeup_w = socket.socketpair()
        self.stopping = False

    def run(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a server that died
        old = os.umask(0o177)
        try:
            self.listener.bind(str(self.path))
        finally:
            os.umask(old)
        self.listener.listen(64)
        for sock in (self.wakeup_r, self.wakeup_w):
            sock.setblocking(False)
        signal.set_wakeup_fd(self.wakeup_w.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self._stop())
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.selector.register(self.listener, 1, "accept")  # (1: selectors.EVENT_READ)
        self.selector.register(self.wakeup_r, 1, "wakeup")
        last = time.monotonic()
        try:
            while not (self.stopping and not self.children):
                left = self.idle - (time.monotonic() - last)
                if left <= 0 and not self.children:
                    break
                for key, _ in self.selector.select(timeout=max(left, 0.05)):
                    if key.data == "accept" and not self.stopping:
                        self._accept()
                        last = time.monotonic()
                    elif key.data == "wakeup":
                        with contextlib.suppress(BlockingIOError):
                            self.wakeup_r.recv(4096)
                self._reap()
                if self.children:
                    last = time.monotonic()
        finally:
            self._close()

    def _stop(self) -> None:
        self.stopping = True

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            if self.path.exists() and self.path.is_socket():
                self.path.unlink()
        self.listener.close()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        fds: list[int] = []
        try:
            conn.settimeout(5.0)
            if not _same_user(conn):
                conn.close()
                return
            header, fds = _receive_with_fds(conn)
            self._handle(conn, header, fds)
        except (OSError, ValueError):
            conn.close()
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _handle(self, conn: socket.socket, header: dict[str, Any], fds: list[int]) -> None:
        op = header.get("op")
        if op == "status":
            _send(conn, self.status())
            conn.close()
            return
        if op == "stop":
            _send(conn, {"stopping": True, "pid": os.getpid()})
            conn.close()
            self.stopping = True
            return
        if op != "run" or len(fds) != 3:
            raise ValueError("not a command")
        if _gone(conn):  # it gave up waiting and runs the command itself
            conn.close()
            return
        if _changed(self.files):  # an upgrade or an edit: this server's code is old
            _send(conn, {"stale": True})
            conn.close()
            self.stopping = True
            return
        pid = os.fork()
        if pid == 0:  # the child: never returns
            _child(header, fds, close=[self.listener, self.wakeup_r, self.wakeup_w, conn,
                                       *self.children.values()])  # fmt: skip
        self.served += 1
        self.children[pid] = conn
        _send(conn, {"pid": pid})

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            with conn, contextlib.suppress(OSError):
                _send(conn, {"status": code if code >= 0 else 128 - code})

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "served": self.served,
            "running": len(self.children),
            "idle": self.idle,
            "modules": len(sys.modules),
        }


def _child(header: dict[str, Any], fds: list[int], *, close: list[socket.socket]) -> None:
    """Become the command the client asked for, then exit with its status."""
    status = 1
    try:
        signal.set_wakeup_fd(-1)
        for sock in close:
            with contextlib.suppress(OSError):
                sock.close()
        for name in ("SIGCHLD", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGTSTP"):
            number = getattr(signal, name, None)
            if number is not None:
                signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        fds.clear()
        os.chdir(header["cwd"])
        os.umask(int(header["umask"]))
        os.environ.clear()
        os.environ.update(header["env"])
        _reopen_stdio(header.get("stdio") or [])
        import random

        random.seed()
        sys.argv = ["briefing", *header["argv"]]
        from briefing.cli import main

        main()  # exits (os._exit) with the command's status
        status = 0
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 1
    except BaseException:  # report, then exit
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def _reopen_stdio(settings: list[Any]) -> None:
    """New ``sys.stdin/stdout/stderr`` on the client's descriptors, with its encodings;
    line-buffered where Python would be (a terminal; stderr always)."""
    import io

    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    streams = []
    for fd, (mode, name) in enumerate((("r", "stdin"), ("w", "stdout"), ("w", "stderr"))):
        encoding, errors = (settings[fd] if fd < len(settings) else None) or (None, None)
        binary = open(fd, mode + "b", buffering=-1, closefd=False)  # noqa: SIM115 - for life
        tty = os.isatty(fd)
        stream = io.TextIOWrapper(
            binary,
            encoding=encoding or "utf-8",
            errors=errors or "strict",
            line_buffering=mode == "w" and (tty or name == "stderr"),
            write_through=mode == "w" and unbuffered,
        )
        streams.append(stream)
    # (sys.__stdout__ and the like write to the same descriptors, now the client's)
    sys.stdin, sys.stdout, sys.stderr = streams


def _module_files() -> dict[str, tuple[int, int]]:
    """(mtime, size) of every imported module's file and of every source file of the
    package (``code_fingerprint`` hashes them all), to notice upgrades and edits."""
    import briefing

    names = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    names += [str(p) for p in Path(briefing.__file__).resolve().parent.rglob("*.py")]
    files: dict[str, tuple[int, int]] = {}
    for name in names:
        if not name or name in files:
            continue
        with contextlib.suppress(OSError):
            info = os.stat(name)
            files[name] = (info.st_mtime_ns, info.st_size)
    return files


def _changed(files: Mapping[str, tuple[int, int]]) -> bool:
    for name, seen in files.items():
        try:
            info = os.stat(name)
        except OSError:
            return True
        if (info.st_mtime_ns, info.st_size) != seen:
            return True
    return False


def _gone(conn: socket.socket) -> bool:
    """True when the client has closed its end (nothing more will come from it)."""
    timeout = conn.gettimeout()
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        conn.settimeout(timeout)


def _same_user(conn: socket.socket) -> bool:
    """On Linux, the peer's user id is ours (elsewhere the directory's 0700 says so)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", raw)
    return bool(uid == os.getuid())


# -- the wire: a length, then JSON; the first message may carry descriptors ---------------
def _send(sock: socket.socket, message: Mapping[str, Any], *, fds: Sequence[int] = ()) -> None:
    body = json.dumps(message).encode("utf-8")
    if fds:
        socket.send_fds(sock, [_LENGTH.pack(len(body))], list(fds))
        sock.sendall(body)
    else:
        sock.sendall(_LENGTH.pack(len(body)) + body)


def _receive(sock: socket.socket) -> dict[str, Any]:
    (length,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size))
    return _decode(_exactly(sock, length))


def _receive_with_fds(sock: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _, _ = socket.recv_fds(sock, _LENGTH.size, 3)
    data += _exactly(sock, _LENGTH.size - len(data)) if len(data) < _LENGTH.size else b""
    (length,) = _LENGTH.unpack(data)
    return _decode(_exactly(sock, length)), list(fds)


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ValueError("the other side closed the connection")
        chunks += chunk
    return bytes(chunks)


def _decode(raw: bytes) -> dict[str, Any]:
    message = json.loads(raw)
    if not isinstance(message, dict):
        raise ValueError("not a message")
    return message


# -- status and stop -----------------------------------------------------------------------
def servers(environ: Mapping[str, str] = os.environ) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each of the user's running servers (its socket and status)."""
    directory = runtime_dir(environ)
    if directory is None:
        return
    for path in sorted(directory.glob("resident-*.sock")):
        try:
            with _connect(path) as client:
                _send(client, {"op": "status"}, fds=())
                yield path, _receive(client)
        except (OSError, ValueError):
            continue


def stop_all(environ: Mapping[str, str] = os.environ, *, wait: float = 5.0) -> list[int]:
    """Ask each of the user's servers to stop (running commands finish first); the pids
    of those that were asked. Waits up to ``wait`` seconds for their sockets to go."""
    stopped: list[int] = []
    paths: list[Path] = []
    for path, _status in list(servers(environ)):
        try:
            with _connect(path) as client:
                _send(client, {"op": "stop"})
                answer = _receive(client)
        except (OSError, ValueError):
            continue
        if isinstance(answer.get("pid"), int):
            stopped.append(int(answer["pid"]))
            paths.append(path)
    ends = time.monotonic() + wait
    while paths and time.monotonic() < ends:
        paths = [p for p in paths if p.exists()]
        time.sleep(0.02)
    return stopped
