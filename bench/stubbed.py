"""The non-LLM work of issue 7: ingest + chunk + prompts + grounding + compose + Markdown
for ``n`` generated articles with the model stubbed (``FakeLLM``), seconds per stage.

    .venv/bin/python bench/stubbed.py [--articles 1000] [--repeat 3] [--profile FILE]

``bench/run.py`` reports the same figure through :func:`run_stubbed`. The run is
``pipeline.load`` then ``pipeline.make_brief`` then ``render_markdown``, as the CLI
does; the finer stages (dedupe inside ingest; grounding and compose inside
make_brief) are timed by wrapping those functions, so the code path is unchanged.
With ``--repeat`` the best of each stage is reported (the machine is noisy).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_SECONDS = 10.0


class _Clock:
    """Wall and CPU seconds since it was made (the CPU figure: this process's, steadier on a
    shared machine)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _add(totals: dict[str, tuple[float, float]], label: str, lap: tuple[float, float]) -> None:
    wall, cpu = totals.get(label, (0.0, 0.0))
    totals[label] = (wall + lap[0], cpu + lap[1])


@contextmanager
def _timed(
    targets: list[tuple[str, str]], totals: dict[str, tuple[float, float]], label: str
) -> Iterator[None]:
    """Replace a function with a wrapper adding its (wall, CPU) time to ``totals``: the
    first of ``targets`` (module, name) that exists, and every other target holding the
    same function (a module that imported it by name). Nothing is timed when none exists
    (the library moved it): the stage is then reported as 0."""
    import importlib

    found: list[tuple[Any, str]] = []
    original: Callable[..., Any] | None = None
    for module_name, name in targets:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, name, None)
        if function is None or (original is not None and function is not original):
            continue
        original = function
        found.append((module, name))
    if original is None:
        yield
        return
    timed = original

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        clock = _Clock()
        try:
            return timed(*args, **kwargs)
        finally:
            _add(totals, label, clock.lap())

    for module, name in found:
        setattr(module, name, wrapper)
    try:
        yield
    finally:
        for module, name in found:
            setattr(module, name, timed)


def run_stubbed(
    n: int, directory: Path, cpu: dict[str, float] | None = None
) -> tuple[float, int, dict[str, float]]:
    """Ingest + chunk + prompts + grounding + compose + Markdown for ``n`` files with a
    stubbed model: (seconds, articles, seconds per stage); ``cpu``, if given, receives
    the CPU seconds of the same stages and of the whole (``total``).

    Stages: ``ingest`` (reading, extraction and dedupe; ``of which dedupe``),
    ``summarize+ground+compose`` (``make_brief``; ``of which grounding``, ``of which
    compose``), ``markdown``."""
    from corpus import make_articles, write_articles

    from briefing.llm.fake import FakeLLM, faithful_reply
    from briefing.pipeline import load, make_brief
    from briefing.render import render_markdown

    if not directory.exists() or not any(directory.iterdir()):
        write_articles(make_articles(n, seed=11), directory)

    def reply(messages: Any) -> str:
        prompt = messages[-1].content
        if "<stories>" in prompt:  # a region's synthesis: a paragraph of its first story
            lines = [line[2:] for line in prompt.splitlines() if line.startswith("- ")]
            return json.dumps({"paragraph": " ".join(lines[:2]) or "Little changed."})
        return faithful_reply(prompt)

    llm = FakeLLM()
    llm.enqueue(*[reply] * (3 * n))
    times: dict[str, tuple[float, float]] = {}
    with (
        _timed([("briefing.ingest.dedupe", "dedupe")], times, "of which dedupe"),
        _timed([("briefing.grounding", "ground")], times, "of which grounding"),
        _timed(
            [
                ("briefing.compose", "compose"),
                ("briefing.pipeline", "compose"),
                ("briefing.runner", "compose"),
            ],
            times,
            "of which compose",
        ),
    ):
        start = clock = _Clock()
        loaded = load([str(directory)])
        times["ingest"] = clock.lap()
        clock = _Clock()
        run = make_brief(loaded, llm, concurrency=1)
        times["summarize+ground+compose"] = clock.lap()
        clock = _Clock()
        render_markdown(run.briefing)
        times["markdown"] = clock.lap()
    total = start.lap()
    order = [
        "ingest",
        "of which dedupe",
        "summarize+ground+compose",
        "of which grounding",
        "of which compose",
        "markdown",
    ]
    if cpu is not None:
        cpu.update(total=total[1])
        cpu.update({name: times.get(name, (0.0, 0.0))[1] for name in order})
    return total[0], len(loaded.articles), {name: times.get(name, (0.0, 0.0))[0] for name in order}


def format_stages(stages: dict[str, float]) -> str:
    return ", ".join(f"{name} {secs:.2f} s" for name, secs in stages.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1, help="runs; the best of each is shown")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of one more run")
    parser.add_argument("--dir", type=Path, help="reuse the articles in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefing-stubbed-") as tmp_name:
        directory = args.dir or Path(tmp_name) / "articles"
        best: dict[str, float] = {}
        best_cpu: dict[str, float] = {}
        n_articles = 0
        for i in range(args.repeat):
            cpu: dict[str, float] = {}
            total, n_articles, stages = run_stubbed(args.articles, directory, cpu)
            print(f"run {i + 1}: {total:.2f} s ({format_stages(stages)})", flush=True)
            print(f"  cpu: {format_stages(cpu)}", flush=True)
            for mins, values in ((best, {"total": total, **stages}), (best_cpu, cpu)):
                for name, value in values.items():
                    mins[name] = min(value, mins.get(name, value))
        total = best.pop("total")
        ok = "OK" if total <= TARGET_SECONDS else "MISSED"
        print(
            f"non-LLM work for {n_articles} articles (model stubbed), best of {args.repeat} "
            f"(each stage's best): {total:.2f} s ({format_stages(best)})  "
            f"(target <= {TARGET_SECONDS:g}: {ok})"
        )
        print(f"  cpu: {format_stages(best_cpu)}")
        if args.profile:  # one more run, not counted: profiling slows it down
            import cProfile

            with cProfile.Profile() as profiler:
                run_stubbed(args.articles, directory)
            profiler.dump_stats(args.profile)
            print(f"profile of one more run: {args.profile}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
