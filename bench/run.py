"""The performance proof of issues 7 and 14, in one run: one line per figure.

    .venv/bin/python bench/run.py [--articles 181] [--latency 0.5] [--concurrency 16]
        [--corpus PATH] [--repeat 1] [--summarize-runs 5] [--no-generated]
        [--no-langchain] [--no-long] [--stubbed 1000] [--embedded]

Two corpora of ``--articles`` plain-text files each: **real** articles (the 81
hand-checked bodies of ``../shared/devcorpus/extraction``, read at run time, repeated
as distinct copies: see ``bench/realcorpus.py``; ``--corpus PATH`` elsewhere; skipped
with a message when missing) and **generated** ones (``bench/corpus.py``). For each,
against ``bench/server.py`` (OpenAI-compatible, loopback, ``--latency`` seconds per
call, counts calls and billed tokens), measured in the same run:

* a bare ``AsyncOpenAI`` client (``bench/bare_client.py``, its own process) sending
  exactly the requests ``briefing brief`` sent for the articles, one call each;
* ``briefing brief DIR`` end to end, the real CLI in its own process (``python -m
  briefing brief DIR --out ... --concurrency N --cache-dir ... --model gpt-4o-mini``
  with ``OPENAI_BASE_URL`` at the bench server and a dummy key), and its ratio to the
  bare client's process plus one latency (the regions' synthesis round);
* the cached rerun of the same command (no model call);
* billed prompt tokens per article token (o200k), and the cost per 1,000 articles at
  gpt-4o-mini and gpt-4.1-mini prices beside LangChain's map-reduce summarize chain
  (langchain-classic) on the same articles and server.

Then: ``briefing summarize FILE`` (a 4,000-character real article) against a server that
answers at once, minus the server's own time; the fixed frame of a call (system prompt,
strict schema, its outline, sentence-id markup) and what each way to shrink it saves
(``bench/frame.py``); ``bench/long_articles.py`` when present; the non-LLM work for
1,000 articles with the model stubbed; with ``--embedded`` the in-process model.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MODEL = "gpt-4o-mini"  # o200k tokens and a known price; the server answers any name
PRICED_MODELS = ("gpt-4o-mini", "gpt-4.1-mini")
SUMMARIZE_CHARS = 4000
TIKTOKEN_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
#: targets of issue 14
TARGET_BRIEF_RATIO = 1.15
TARGET_RERUN_S = 2.0
TARGET_SUMMARIZE_S = 0.5
TARGET_BILLED_RATIO = 1.3


def figure(name: str, value: str, note: str = "") -> None:
    print(f"{name}: {value}{'  (' + note + ')' if note else ''}", flush=True)


def verdict(value: float, target: float, *, at_most: bool = True) -> str:
    ok = value <= target if at_most else value >= target
    return f"target {'<=' if at_most else '>='} {target:g}: {'OK' if ok else 'MISSED'}"


# -- set-up --------------------------------------------------------------------------------
def offline_tiktoken(directory: Path) -> None:
    """Write tiktoken's cache files (named by the sha1 of their URL) from bpe-openai's data,
    so LangChain's tiktoken calls work offline; tiktoken checks their sha256."""
    from briefing.tokens import get_encoding

    directory.mkdir(parents=True, exist_ok=True)
    for name, url in TIKTOKEN_URLS.items():
        ranks = get_encoding(name)._mergeable_ranks
        data = b"".join(
            base64.b64encode(token) + b" " + str(rank).encode() + b"\n"
            for token, rank in sorted(ranks.items(), key=lambda item: item[1])
        )
        (directory / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)


@contextmanager
def bench_server(latency: float) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "server.py"), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"bench server did not start: {line!r}")
        yield Server(line.split()[-1], latency)
    finally:
        process.terminate()
        process.wait(timeout=10)


class Server:
    """The bench server's base URL and its counters."""

    def __init__(self, base_url: str, latency: float) -> None:
        import httpx

        self.base_url = base_url
        self.latency = latency
        self.root = base_url.removesuffix("/v1")
        self.http = httpx.Client(timeout=30)

    def reset(self, *, capture: bool = False) -> None:
        self.http.post(f"{self.root}/reset", params={"capture": "1"} if capture else None)

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.root}/stats").json()
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.http.get(f"{self.root}/requests").json()
        return result


# -- corpora -------------------------------------------------------------------------------
@dataclass
class Corpus:
    name: str
    directory: Path
    #: each article as the model should see it: title, blank line, body
    texts: list[str]
    note: str = ""
    tokens: list[int] = field(default_factory=list)

    @property
    def article_tokens(self) -> int:
        return sum(self.tokens)


def real_corpus(path: Path | None, n: int, directory: Path) -> Corpus:
    from realcorpus import load_real, repeat_to, write_real

    pages = load_real(path)
    articles = repeat_to(pages, n)
    write_real(articles, directory)
    note = f"{len(pages)} pages"
    if n > len(pages):
        note += f", repeated as distinct copies to {n}"
    return Corpus("real", directory, [a.text.strip() for a in articles], note)


def generated_corpus(n: int, directory: Path) -> Corpus:
    from corpus import make_articles, write_articles

    articles = make_articles(n)
    write_articles(articles, directory)
    return Corpus("generated", directory, [f"{t}\n\n{b}" for t, b in articles], "bench/corpus.py")


# -- the CLI in its own process ------------------------------------------------------------
@dataclass
class CliRun:
    seconds: float
    returncode: int
    stderr: str
    stats: dict[str, Any]
    #: CPU seconds (user + system) of the process
    cpu: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode in (0, 10)  # 10: partial (some article not summarized)

    def kind(self, name: str) -> dict[str, Any]:
        kinds: dict[str, dict[str, Any]] = self.stats.get("kinds") or {}
        return kinds.get(name) or {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}

    def report_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.startswith("briefing: run:")]
        return lines[-1].removeprefix("briefing: run:").strip() if lines else ""

    def failure(self) -> str:
        tail = " | ".join(self.stderr.strip().splitlines()[-3:])
        return f"exit {self.returncode}: {tail[:400]}"


def children_cpu() -> float:
    """CPU seconds of the waited-for child processes so far (the bench servers still run,
    so theirs is not in it): the difference around one run is that run's CPU."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_env(server: Server, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: the bench server as the OpenAI base URL with a dummy
    key (the user's key never goes to a bench server), no user settings, config or cache
    from this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFING_"))}
    for name in ("cache", "config", "state", "data"):
        (home / name).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(home / name)
    env["OPENAI_BASE_URL"] = server.base_url
    env["OPENAI_API_KEY"] = "bench-dummy-key"
    env["PYTHONUNBUFFERED"] = "1"
    # an installed tool runs from compiled bytecode (see compile_package); a shell that
    # forbids writing it would time the compiler on every run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra or {})
    return env


def compile_package() -> None:
    """Byte-compile the package as an install does, so no timed run compiles it."""
    import compileall

    compileall.compile_dir(str(ROOT / "briefing"), quiet=1)


def run_cli(server: Server, args: Sequence[str], home: Path, **kwargs: Any) -> CliRun:
    """``python -m briefing ARGS`` against ``server``; wall seconds from spawn to exit."""
    env = cli_env(server, home, kwargs.pop("extra_env", None))
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "briefing", *args],
        env=env,
        cwd=str(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    took = time.perf_counter() - start
    return CliRun(took, done.returncode, done.stderr, server.stats(), children_cpu() - cpu)


def brief_args(corpus: Corpus, out: Path, cache: Path, concurrency: int) -> list[str]:
    return [
        "brief",
        str(corpus.directory),
        "--out",
        str(out),
        "--concurrency",
        str(concurrency),
        "--cache-dir",
        str(cache),
        "--model",
        MODEL,
    ]


def run_bare(
    server: Server, bodies: list[dict[str, Any]], concurrency: int, tmp: Path
) -> tuple[float, float, dict[str, Any], float]:
    """(process wall seconds, seconds of the calls alone, server stats, CPU seconds)."""
    path = tmp / "bare-requests.json"
    path.write_text(json.dumps(bodies), encoding="utf-8")
    server.reset()
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bare_client.py"),
            str(path),
            server.base_url,
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"bare client failed: {done.stderr.strip()[-400:]}")
    calls_s = float(done.stdout.split()[-1])
    return took, calls_s, server.stats(), children_cpu() - cpu


# -- LangChain's map-reduce ----------------------------------------------------------------
def has_langchain() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in ("langchain_classic", "langchain_openai", "langchain_text_splitters")
    )


def run_langchain(server: Server, texts: Sequence[str], concurrency: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_classic.chains.summarize import load_summarize_chain
        from langchain_openai import ChatOpenAI
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        chat = ChatOpenAI(
            model=MODEL, base_url=server.base_url, api_key="bench", temperature=0, max_retries=0
        )
        chain = load_summarize_chain(chat, chain_type="map_reduce")
        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="o200k_base", chunk_size=1000, chunk_overlap=0
        )
        inputs = [{"input_documents": splitter.create_documents([text])} for text in texts]
        server.reset()
        start = time.perf_counter()
        chain.batch(inputs, config={"max_concurrency": concurrency})
        return time.perf_counter() - start


# -- money ---------------------------------------------------------------------------------
def cost_per_1000(prompt: int, completion: int, n_articles: int, model: str) -> tuple[float, float]:
    """(dollars, of which prompt) for 1,000 articles at ``model``'s price."""
    from briefing.usage import price_for

    price = price_for("openai", model)
    assert price is not None, model
    scale = 1000 / max(n_articles, 1) / 1e6
    return (
        (prompt * price.input + completion * price.output) * scale,
        prompt * price.input * scale,
    )


# -- one corpus ----------------------------------------------------------------------------
@dataclass
class CorpusResult:
    bodies: list[dict[str, Any]] = field(default_factory=list)
    plain_prompt_tokens: int | None = None
    plain_bodies: list[dict[str, Any]] = field(default_factory=list)


def bench_corpus(
    corpus: Corpus,
    slow: Server,
    instant: Server,
    args: argparse.Namespace,
    tmp: Path,
    *,
    plain_mode: bool,
) -> CorpusResult:
    from briefing.tokens import count_tokens

    tag = f"[{corpus.name}]"
    n = len(corpus.texts)
    conc, latency = args.concurrency, args.latency
    corpus.tokens = [count_tokens(text, MODEL) for text in corpus.texts]
    lengths = sorted(corpus.tokens)
    figure(
        f"{tag} articles",
        f"{n} ({corpus.note}), {corpus.article_tokens} tokens o200k "
        f"(median {lengths[n // 2]}, mean {corpus.article_tokens // max(n, 1)}, "
        f"max {lengths[-1]})",
    )
    work = tmp / corpus.name
    home = work / "home"
    result = CorpusResult()

    # 1. at a server answering at once: the requests the CLI sends (the bare client replays
    # them) and the pipeline's own time; the runs also warm the disk cache
    instant.reset(capture=True)
    capture = run_cli(
        instant, brief_args(corpus, work / "capture.md", work / "cache-capture", conc), home
    )
    if not capture.ok:
        figure(f"{tag} briefing brief", f"FAILED ({capture.failure()})")
        return result
    result.bodies = instant.requests()
    figure(
        f"{tag} briefing brief against an instant server (the pipeline's own time)",
        f"{capture.seconds:.2f} s (CPU {capture.cpu:.2f} s), "
        f"{capture.kind('article')['calls']} article calls "
        f"+ {capture.kind('synthesis')['calls']} synthesis",
    )
    if plain_mode:
        instant.reset(capture=True)
        plain = run_cli(
            instant,
            brief_args(corpus, work / "plain.md", work / "cache-plain", conc),
            home,
            extra_env={"BRIEFING_STRUCTURED": "json_object_plain"},
        )
        if plain.ok:
            result.plain_prompt_tokens = plain.kind("article")["prompt_tokens"]
            result.plain_bodies = instant.requests()

    # 2-4. at the latency, each round: the bare client replaying those requests, the CLI
    # with a cold cache, the CLI again on the same day (every summary cached); with
    # --repeat, the best of each
    bare_runs: list[tuple[float, float, dict[str, Any], float]] = []
    ours_runs: list[CliRun] = []
    rerun_runs: list[CliRun] = []
    for round_ in range(args.repeat):
        bare_runs.append(run_bare(slow, result.bodies, conc, work))
        slow.reset()
        cache = work / f"cache{round_}"
        ours = run_cli(slow, brief_args(corpus, work / "brief.md", cache, conc), home)
        if not ours.ok:
            figure(f"{tag} briefing brief", f"FAILED ({ours.failure()})")
            return result
        ours_runs.append(ours)
        slow.reset()
        rerun_runs.append(run_cli(slow, brief_args(corpus, work / "brief2.md", cache, conc), home))
    best = f", best of {args.repeat}" if args.repeat > 1 else ""
    bare_s, bare_calls_s, bare_stats, bare_cpu = min(bare_runs, key=lambda r: r[0])
    ours = min(ours_runs, key=lambda r: r.seconds)
    rerun = min(rerun_runs, key=lambda r: r.seconds if r.ok else float("inf"))
    floor = bare_stats["calls"] * latency / conc
    figure(
        f"{tag} bare AsyncOpenAI client (own process{best})",
        f"{bare_s:.2f} s for {bare_stats['calls']} calls (the calls alone {bare_calls_s:.2f} s; "
        f"latency floor {floor:.2f} s; CPU {bare_cpu:.2f} s)",
    )
    art, syn = ours.kind("article"), ours.kind("synthesis")
    ratio = ours.seconds / (bare_s + latency)
    figure(
        f"{tag} briefing brief (CLI, end to end{best})",
        f"{ours.seconds:.2f} s for {art['calls']} article + {syn['calls']} synthesis calls "
        f"(CPU {ours.cpu:.2f} s); / (bare client + one latency) = {ratio:.2f}",
        verdict(ratio, TARGET_BRIEF_RATIO) + f"; server saw max {ours.stats['max_in_flight']} "
        "in flight",
    )
    figure(
        f"{tag} bench server",
        f"{ours.stats['connections']} TCP connections for {ours.stats['calls']} calls "
        f"(keep-alive), {ours.stats['nagle_connections']} with Nagle on; bare client "
        f"{bare_stats['connections']} connections",
    )
    if art["calls"] != n:
        figure(f"{tag} note", f"{art['calls']} article calls for {n} article files")
    if ours.report_line():
        figure(f"{tag} briefing's run report", ours.report_line())
    figure(
        f"{tag} rerun, same day, cached{best}",
        f"{rerun.seconds:.2f} s (CPU {rerun.cpu:.2f} s), {rerun.stats['calls']} calls"
        + ("" if rerun.ok else f" FAILED ({rerun.failure()})"),
        verdict(rerun.seconds, TARGET_RERUN_S) if corpus.name == "real" else "",
    )
    if corpus.name == "real":
        imports = import_times(slow, brief_args(corpus, work / "brief3.md", cache, conc), home)
        figure(f"{tag} rerun's imports (-X importtime, own time by package)", imports)

    # 5. tokens
    billed = art["prompt_tokens"] / max(corpus.article_tokens, 1)
    figure(
        f"{tag} billed prompt tokens / article tokens",
        f"{billed:.2f} ({art['prompt_tokens']} billed for {corpus.article_tokens} article "
        f"tokens; of which schema {art['schema_tokens']}; {art['completion_tokens']} "
        f"completion; synthesis {syn['prompt_tokens']}+{syn['completion_tokens']} more)",
        verdict(billed, TARGET_BILLED_RATIO),
    )
    if result.plain_prompt_tokens is not None:
        plain_ratio = result.plain_prompt_tokens / max(corpus.article_tokens, 1)
        figure(
            f"{tag} the same in plain JSON mode (BRIEFING_STRUCTURED=json_object_plain: "
            "the schema's outline in the prompt, no schema on the wire)",
            f"{plain_ratio:.2f}",
            verdict(plain_ratio, TARGET_BILLED_RATIO),
        )

    # 6. LangChain's map-reduce summarize chain, the same articles and server
    lc: dict[str, Any] | None = None
    if args.no_langchain:
        pass
    elif not has_langchain():
        figure(f"{tag} langchain", "skipped: pip install -e '.[bench]' (langchain-classic, ...)")
    else:
        lc_s = run_langchain(slow, corpus.texts, conc)
        lc = slow.stats()
        lc_ratio = lc["prompt_tokens"] / max(corpus.article_tokens, 1)
        figure(
            f"{tag} langchain map_reduce (in process)",
            f"{lc_s:.2f} s for {lc['calls']} calls ({lc['calls'] / n:.2f} per article); "
            f"billed prompt tokens / article tokens {lc_ratio:.2f}"
            f" ({lc['prompt_tokens']} + {lc['completion_tokens']} completion)",
        )
        figure(
            f"{tag} ours / langchain",
            f"calls {art['calls'] / lc['calls']:.2f}, billed prompt tokens "
            f"{art['prompt_tokens'] / max(lc['prompt_tokens'], 1):.2f}, wall time "
            f"{ours.seconds / lc_s:.2f} (ours: the whole CLI process; LangChain: its chain "
            "in this process)",
            f"ours {art['calls'] / n:.2f} calls per article: {verdict(art['calls'] / n, 1.05)}",
        )

    # 7. money: the whole brief (articles and synthesis) per 1,000 articles
    ours_prompt = art["prompt_tokens"] + syn["prompt_tokens"]
    ours_completion = art["completion_tokens"] + syn["completion_tokens"]
    for model in PRICED_MODELS:
        total, prompt = cost_per_1000(ours_prompt, ours_completion, n, model)
        line = f"ours ${total:.3f} (prompt ${prompt:.3f})"
        if lc is not None:
            lc_total, lc_prompt = cost_per_1000(
                lc["prompt_tokens"], lc["completion_tokens"], n, model
            )
            line += (
                f"; langchain map_reduce ${lc_total:.3f} (prompt ${lc_prompt:.3f}); "
                f"ours / langchain {total / lc_total:.2f}"
            )
        figure(f"{tag} cost per 1,000 articles at {model}", line)
    per_call = art["completion_tokens"] / max(art["calls"], 1)
    note = f"ours {per_call:.0f} per article call"
    if lc is not None:
        note += f", langchain {lc['completion_tokens'] / max(lc['calls'], 1):.0f} per call"
    figure(
        f"{tag} completion tokens in those costs",
        f"the bench server's stand-in answers ({note}); a real model writes more "
        "(a full summary is about 350)",
    )
    return result


# -- summarize FILE ------------------------------------------------------------------------
@dataclass
class SummarizeRuns:
    """Seconds of ``summarize`` runs: minus the server's own time, wall, CPU (this process's
    children: with a resident server, the client's; the forked child is the server's)."""

    nets: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=dict)
    failure: str | None = None

    def line(self) -> str:
        return (
            f"median {statistics.median(self.nets):.2f} s, best {min(self.nets):.2f} s of "
            f"{len(self.nets)} runs (wall median {statistics.median(self.walls):.2f} s, CPU "
            f"median {statistics.median(self.cpus):.2f} s; requests: "
            + ", ".join(f"{path} {count}" for path, count in sorted(self.paths.items()))
            + ")"
        )


def summarize_runs(
    instant: Server, path: Path, tmp: Path, home: Path, runs: int, env: dict[str, str]
) -> SummarizeRuns:
    result = SummarizeRuns()
    for _ in range(runs):
        instant.reset()
        cache = tmp / "summarize" / f"cache-{secrets.token_hex(4)}"  # a new article each time
        args = ["summarize", str(path), "--cache-dir", str(cache), "--model", MODEL]
        done = run_cli(instant, args, home, extra_env=env)
        if not done.ok:
            result.failure = done.failure()
            return result
        result.walls.append(done.seconds)
        result.cpus.append(done.cpu)
        result.paths = done.stats.get("paths") or {}
        result.nets.append(done.seconds - float(done.stats.get("server_seconds", 0.0)))
    return result


def bench_summarize(instant: Server, text: str, label: str, tmp: Path, runs: int) -> None:
    """``summarize FILE`` as people run it (the resident server up: every run after the
    first of the day), and without it (``BRIEFING_RESIDENT=0``: every run from scratch)."""
    path = tmp / "summarize" / "article.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    home = tmp / "summarize" / "home"
    runtime = home / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    resident_env = {"XDG_RUNTIME_DIR": str(runtime), "BRIEFING_RESIDENT_IDLE": "120"}
    what = f"briefing summarize FILE ({label}, {len(text)} characters) against an instant server"
    try:
        first = summarize_runs(instant, path, tmp, home, 1, resident_env)  # starts a server
        ready = time.monotonic() + 30
        while not list(runtime.glob("briefing/resident-*.sock")) and time.monotonic() < ready:
            time.sleep(0.1)
        time.sleep(1.0)  # (it binds its socket once its imports are done)
        warm = summarize_runs(instant, path, tmp, home, runs, resident_env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "briefing", "resident", "stop"],
            env=cli_env(instant, home, resident_env),
            capture_output=True,
            check=False,
        )
    cold = summarize_runs(instant, path, tmp, home, runs, {"BRIEFING_RESIDENT": "0"})
    for runs_of, name in ((first, "first run"), (warm, "resident"), (cold, "cold")):
        if runs_of.failure:
            figure(f"{what} ({name})", f"FAILED ({runs_of.failure})")
            return
    figure(
        f"{what}, minus the server's own time: with the resident server (every run after "
        "the first)",
        warm.line(),
        verdict(statistics.median(warm.nets), TARGET_SUMMARIZE_S),
    )
    figure(
        f"{what}: the first run, which starts the resident server",
        f"{first.nets[0]:.2f} s (wall {first.walls[0]:.2f} s)",
    )
    figure(f"{what}: cold, BRIEFING_RESIDENT=0 (every run from scratch)", cold.line())
    args = ["summarize", str(path), "--cache-dir", str(tmp / "summarize" / "c"), "--model", MODEL]
    imports = import_times(instant, args, home, {"BRIEFING_RESIDENT": "0"})
    if imports:
        figure("briefing summarize FILE imports (-X importtime, own time by package)", imports)
    helps = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "briefing", "--help"], capture_output=True, check=False
        )
        helps.append(time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=False)
    bare_python = time.perf_counter() - start
    figure(
        "briefing --help",
        f"{min(helps):.2f} s best of 3 (python itself starts in {bare_python:.2f} s)",
    )


def import_times(
    server: Server, args: Sequence[str], home: Path, env: dict[str, str] | None = None
) -> str:
    """The packages ``python -m briefing ARGS`` spends its import time in (the largest
    five, each module's own time summed per top-level package)."""
    done = run_cli(server, args, home, extra_env={**(env or {}), "PYTHONPROFILEIMPORTTIME": "1"})
    per_package: dict[str, float] = {}
    for line in done.stderr.splitlines():
        # "import time: SELF | CUMULATIVE | NAME" (microseconds; NAME indented by nesting)
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        own, name = parts[0].strip(), parts[2].strip()
        if not own.isdigit():
            continue  # the header
        root = name.split(".")[0]  # each module's own time, summed per package
        per_package[root] = per_package.get(root, 0.0) + int(own) / 1e6
    top = sorted(per_package.items(), key=lambda item: -item[1])[:5]
    total = sum(per_package.values())
    return f"{total:.2f} s in all; " + ", ".join(f"{name} {secs:.2f} s" for name, secs in top)


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=181, help="articles per corpus")
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--corpus",
        type=Path,
        help="the real-article corpus: a directory with ground-truth.json "
        "(default ../shared/devcorpus/extraction beside the repository)",
    )
    parser.add_argument("--no-generated", action="store_true", help="real articles only")
    parser.add_argument("--no-langchain", action="store_true")
    parser.add_argument("--no-long", action="store_true", help="skip bench/long_articles.py")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds at the latency (the best of each is shown)"
    )
    parser.add_argument("--summarize-runs", type=int, default=5)
    parser.add_argument(
        "--stubbed", type=int, default=1000, help="articles for the non-LLM run (0: skip)"
    )
    parser.add_argument("--embedded", action="store_true", help="also time the local model")
    args = parser.parse_args()

    from realcorpus import CorpusMissing, pick_by_length

    figure(
        "bench",
        f"{args.latency:g} s server latency, concurrency {args.concurrency}, model name "
        f"{MODEL} (o200k), {os.cpu_count()} CPUs, {load_average()}",
    )
    import importlib.util

    if importlib.util.find_spec("aiohttp") is not None:
        figure(
            "note",
            "aiohttp is installed: `import openai` imports it too (the SDK's optional aiohttp "
            "transport), about 0.5 s more on every start of the CLI and the bare client; the "
            "bench does not need it (pip uninstall aiohttp)",
        )
    compile_package()
    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as tmp_name:
        tmp = Path(tmp_name)
        offline_tiktoken(tmp / "tiktoken")
        corpora: list[Corpus] = []
        real_pages = None
        try:
            corpora.append(real_corpus(args.corpus, args.articles, tmp / "real" / "articles"))
            from realcorpus import load_real

            real_pages = load_real(args.corpus)
        except CorpusMissing as e:
            figure("[real] articles", f"skipped: {e}")
        if not args.no_generated:
            corpora.append(generated_corpus(args.articles, tmp / "generated" / "articles"))

        frame_input: tuple[Corpus, CorpusResult] | None = None
        with bench_server(args.latency) as slow, bench_server(0.0) as instant:
            for corpus in corpora:
                result = bench_corpus(
                    corpus, slow, instant, args, tmp, plain_mode=frame_input is None
                )
                if frame_input is None and result.bodies:
                    frame_input = (corpus, result)

            # summarize FILE: one 4,000-character article (real when there are some)
            if real_pages:
                article = pick_by_length(real_pages, SUMMARIZE_CHARS)
                text, label = article.text.strip(), "real article"
            else:
                from corpus import make_articles

                title, body = make_articles(1, seed=3)[0]
                text, label = f"{title}\n\n{body}"[:SUMMARIZE_CHARS], "generated article"
            bench_summarize(instant, text, label, tmp, args.summarize_runs)

        # the fixed frame of a call and what would shrink it
        if frame_input is not None:
            from frame import analyse

            corpus, result = frame_input
            for name, value in analyse(
                result.bodies, result.plain_bodies, corpus.tokens, corpus.name
            ):
                figure(name, value)

        if not args.no_long:
            run_long_articles()

        if args.stubbed > 0:
            run_stubbed_figure(args.stubbed, tmp / "stubbed")

    figure("bench done", load_average())
    if args.embedded:
        for line in run_embedded():
            figure("embedded", line)
    else:
        figure("embedded model", "skipped (pass --embedded; about a minute per article)")
    return 0


def load_average() -> str:
    """The machine's load (other processes share the CPUs: the timings are noisy)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def run_long_articles() -> None:
    """``bench/long_articles.py`` (long and 5,000-sentence articles), when it exists."""
    script = ROOT / "bench" / "long_articles.py"
    if not script.exists():
        figure("long articles", "skipped: bench/long_articles.py is not there yet")
        return
    try:
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        figure("long articles", "bench/long_articles.py took over 15 minutes: stopped")
        return
    lines = (done.stdout + ("" if done.returncode == 0 else done.stderr)).strip().splitlines()
    for line in lines:
        print(f"long articles: {line}", flush=True)


def run_stubbed_figure(n: int, directory: Path) -> None:
    """The non-LLM work for ``n`` generated articles, model stubbed (best of 3)."""
    try:
        from stubbed import run_stubbed

        runs = [run_stubbed(n, directory) for _ in range(3)]
    except Exception as e:  # the library API under it may change; the CLI figures stand
        figure("non-LLM work (model stubbed)", f"skipped: {type(e).__name__}: {e}")
        return
    stub_s, stub_n, stages = min(runs, key=lambda r: r[0])
    figure(
        f"non-LLM work for {stub_n} articles (model stubbed, best of 3)",
        f"{stub_s:.2f} s ("
        + ", ".join(f"{name} {secs:.2f} s" for name, secs in stages.items())
        + ")",
        verdict(stub_s, 10.0),
    )


def run_embedded() -> list[str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "embedded.py"), "--raw"],
        capture_output=True,
        text=True,
        check=False,
    )
    return (result.stdout + result.stderr).strip().splitlines()


if __name__ == "__main__":
    raise SystemExit(main())
