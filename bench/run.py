"""The performance proof of issue 7, in one run: one line per figure.

    .venv/bin/python bench/run.py [--articles 200] [--latency 0.5] [--concurrency 16]
                                  [--embedded] [--no-langchain]

Starts ``bench/server.py`` (OpenAI-compatible, loopback, fixed latency, counts calls
and billed tokens) and, against it, times: a bare ``AsyncOpenAI`` client sending the
same requests (the floor a client can reach on this machine); our pipeline; a rerun
with the cache; LangChain's map-reduce summarize chain. Then the non-LLM work for
1,000 articles with the model stubbed and, with ``--embedded``, the in-process model on
the seed page (about a minute per article). Timings are compared as ratios measured in
the same run: the machine is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MODEL = "gpt-4o-mini"  # o200k tokens and a known price; the server answers any name
TIKTOKEN_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}


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
def bench_server(latency: float) -> Iterator[str]:
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
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


class Server:
    def __init__(self, base_url: str) -> None:
        import httpx

        self.root = base_url.removesuffix("/v1")
        self.http = httpx.Client(timeout=10)

    def reset(self) -> None:
        self.http.post(f"{self.root}/reset")

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = self.http.get(f"{self.root}/stats").json()
        return result


def load_corpus(n: int, directory: Path) -> list[Any]:
    from corpus import make_articles, write_articles

    from briefing.pipeline import load

    write_articles(make_articles(n), directory)
    return load([str(directory)]).articles


# -- the runs ------------------------------------------------------------------------------
def run_bare(base_url: str, requests: Sequence[dict[str, Any]], concurrency: int) -> float:
    import openai

    async def main() -> float:
        client = openai.AsyncOpenAI(api_key="bench", base_url=base_url, max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def one(body: dict[str, Any]) -> None:
            async with gate:
                await client.chat.completions.create(**body)

        start = time.perf_counter()
        await asyncio.gather(*(one(body) for body in requests))
        took = time.perf_counter() - start
        await client.close()
        return took

    return asyncio.run(main())


def bare_requests(summarizer: Any, articles: Sequence[Any]) -> list[dict[str, Any]]:
    """The requests our pipeline sends, prebuilt (the bare client does no other work)."""
    from briefing.llm.schema import bound_sentence_ids

    llm = summarizer.llm
    bodies = []
    for article in articles:
        messages = summarizer._summarize_messages(article, article.sentences, 1, 1)
        schema = bound_sentence_ids(summarizer._schema, len(article.sentences))
        body = llm._request(messages, schema, "article_summary", summarizer.max_output_tokens)
        bodies.append(body)
    return bodies


def run_ours(
    base_url: str,
    articles: Sequence[Any],
    concurrency: int,
    cache_dir: Path | None,
    structured: str | None = None,
) -> tuple[float, float, Any]:
    """(seconds until the last summary, seconds for the whole brief, the BriefRun)."""
    from briefing.cache import SummaryCache
    from briefing.llm.openai import OpenAILLM
    from briefing.pipeline import Loaded, make_brief
    from briefing.ratelimit import RateLimiter

    llm = OpenAILLM(MODEL, base_url=base_url, limiter=RateLimiter(), structured=structured)
    if cache_dir is None:
        start = time.perf_counter()
        run = make_brief(Loaded(list(articles)), llm, concurrency=concurrency)
        took = time.perf_counter() - start
        return took, took, run
    last = [0.0]

    def on_summary(_: Any) -> None:
        last[0] = time.perf_counter()

    with SummaryCache(cache_dir) as cache:
        start = time.perf_counter()
        run = make_brief(
            Loaded(list(articles)),
            llm,
            concurrency=concurrency,
            cache=cache,
            on_summary=on_summary,
        )
        whole = time.perf_counter() - start
    return last[0] - start, whole, run


def summary_usage(summaries: Sequence[Any]) -> dict[str, int]:
    """Calls and billed tokens of the article summaries (from each call's API usage)."""
    from briefing.models import Usage

    usage = sum((s.usage for s in summaries), Usage())
    return {
        "calls": usage.calls,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
    }


def schema_tokens_per_call() -> int:
    """Tokens of the response schema sent with one summary call (as billed)."""
    from briefing.llm.openai import OpenAILLM
    from briefing.summarize import Summarizer

    return Summarizer(
        OpenAILLM(MODEL, api_key="unused", base_url="http://127.0.0.1:9/v1")
    ).schema_tokens


def run_langchain(base_url: str, articles: Sequence[Any], concurrency: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_classic.chains.summarize import load_summarize_chain
        from langchain_openai import ChatOpenAI
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        chat = ChatOpenAI(
            model=MODEL, base_url=base_url, api_key="bench", temperature=0, max_retries=0
        )
        chain = load_summarize_chain(chat, chain_type="map_reduce")
        splitter = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="o200k_base", chunk_size=1000, chunk_overlap=0
        )
        inputs = [
            {"input_documents": splitter.create_documents([f"{a.title}\n\n{a.text}"])}
            for a in articles
        ]
        start = time.perf_counter()
        chain.batch(inputs, config={"max_concurrency": concurrency})
        return time.perf_counter() - start


def run_embedded() -> list[str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "embedded.py"), "--raw"],
        capture_output=True,
        text=True,
        check=False,
    )
    return (result.stdout + result.stderr).strip().splitlines()


# -- main ----------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--stubbed", type=int, default=1000, help="articles for the non-LLM run")
    parser.add_argument("--embedded", action="store_true", help="also time the local model")
    parser.add_argument("--no-langchain", action="store_true")
    args = parser.parse_args()
    n, latency, conc = args.articles, args.latency, args.concurrency

    from briefing.llm.openai import OpenAILLM
    from briefing.summarize import Summarizer
    from briefing.tokens import count_tokens

    with tempfile.TemporaryDirectory(prefix="briefing-bench-") as tmp_name:
        tmp = Path(tmp_name)
        offline_tiktoken(tmp / "tiktoken")
        articles = load_corpus(n, tmp / "articles")
        article_tokens = sum(count_tokens(f"{a.title}\n\n{a.text}", MODEL) for a in articles)
        lengths = sorted(count_tokens(f"{a.title}\n\n{a.text}", MODEL) for a in articles)
        figure(
            "articles",
            f"{len(articles)}, {article_tokens} tokens (median {lengths[len(lengths) // 2]}, "
            f"mean {article_tokens // max(len(articles), 1)})",
        )
        with bench_server(latency) as base_url:
            server = Server(base_url)
            summarizer = Summarizer(OpenAILLM(MODEL, base_url=base_url))
            overhead = summarizer.llm.count_message_tokens(
                summarizer._summarize_messages(articles[0], [], 1, 1)
            )
            figure(
                "fixed prompt overhead per call",
                f"{overhead + summarizer.schema_tokens} tokens "
                f"(system + user frame {overhead}, response schema {summarizer.schema_tokens})",
            )

            # the bare client: the floor this machine reaches
            requests = bare_requests(summarizer, articles)
            server.reset()
            bare = run_bare(base_url, requests, conc)
            bare_calls = server.stats()["calls"]
            bare_ideal = bare_calls * latency / conc
            figure(
                "bare AsyncOpenAI wall time",
                f"{bare:.2f} s for {bare_calls} calls; ideal {bare_ideal:.2f} s; "
                f"ratio {bare / bare_ideal:.2f}",
            )

            # ours
            server.reset()
            summarize_s, whole_s, run = run_ours(base_url, articles, conc, tmp / "cache")
            server_stats = server.stats()
            # the articles' calls and billed tokens (the API's usage of each summary call);
            # the regions' synthesis calls are reported on their own line
            ours = dict(server_stats)
            ours.update(summary_usage(run.summaries))
            ours["schema_tokens"] = ours["calls"] * schema_tokens_per_call()
            ideal = ours["calls"] * latency / conc
            figure(
                "ours wall time (summarize stage)",
                f"{summarize_s:.2f} s for {ours['calls']} calls; ideal {ideal:.2f} s; "
                f"ratio {summarize_s / ideal:.2f}",
                verdict(summarize_s / ideal, 1.15),
            )
            figure(
                "ours / bare client",
                f"{summarize_s / bare:.2f}x",
                f"server saw max {ours['max_in_flight']} in flight",
            )
            figure(
                "ours wall time (whole brief: + grounding, compose)",
                f"{whole_s:.2f} s; ratio to ideal {whole_s / ideal:.2f}",
            )
            figure(
                "ours synthesis (one paragraph per region, not in the figures above)",
                f"{server_stats['calls'] - ours['calls']} calls, "
                f"{server_stats['prompt_tokens'] - ours['prompt_tokens']} prompt tokens",
            )
            figure(
                "ours calls per article",
                f"{ours['calls'] / len(articles):.3f}",
                verdict(ours["calls"] / len(articles), 1.05),
            )
            billed_ratio = ours["prompt_tokens"] / article_tokens
            figure(
                "ours billed prompt tokens / article tokens",
                f"{billed_ratio:.2f} ({ours['prompt_tokens']} billed, of which schema "
                f"{ours['schema_tokens']}; {ours['completion_tokens']} completion)",
                verdict(billed_ratio, 1.3),
            )
            report = run.report
            if report is not None:
                cost = "unknown" if report.cost_usd is None else f"${report.cost_usd:.4f}"
                figure(
                    "ours run report",
                    f"{report.calls} calls, {report.cache_hits} cache hits, "
                    f"{report.prompt_tokens}+{report.completion_tokens} tokens, "
                    f"est. cost {cost} at {MODEL} prices",
                )
            figure(
                "ours statuses",
                ", ".join(
                    f"{status} {count}"
                    for status, count in sorted(_count(s.status for s in run.summaries).items())
                ),
            )

            # rerun of the same day, from the cache
            server.reset()
            _, rerun_s, rerun = run_ours(base_url, articles, conc, tmp / "cache")
            rerun_calls = server.stats()["calls"]
            hits = rerun.report.cache_hits if rerun.report else 0
            figure(
                "rerun with cache",
                f"{rerun_calls} calls, {hits} cache hits, {rerun_s:.2f} s",
                verdict(rerun_calls, 0),
            )

            # the same without the schema on the wire (the system prompt lists the fields)
            server.reset()
            _, _, plain_run = run_ours(
                base_url, articles, conc, None, structured="json_object_plain"
            )
            plain = summary_usage(plain_run.summaries)
            figure(
                "ours billed prompt tokens / article tokens, plain JSON mode "
                "(BRIEFING_STRUCTURED=json_object_plain: a schema outline in the prompt)",
                f"{plain['prompt_tokens'] / article_tokens:.2f}",
                verdict(plain["prompt_tokens"] / article_tokens, 1.3),
            )

            # LangChain's map-reduce summarize chain
            if not args.no_langchain and not _has_langchain():
                figure("langchain", "skipped: pip install -e '.[bench]' (langchain-classic, ...)")
            elif not args.no_langchain:
                server.reset()
                lc_s = run_langchain(base_url, articles, conc)
                lc = server.stats()
                lc_ideal = lc["calls"] * latency / conc
                figure(
                    "langchain map_reduce wall time",
                    f"{lc_s:.2f} s for {lc['calls']} calls "
                    f"({lc['calls'] / len(articles):.2f} per article); ideal {lc_ideal:.2f} s; "
                    f"ratio {lc_s / lc_ideal:.2f}",
                )
                figure(
                    "langchain billed prompt tokens / article tokens",
                    f"{lc['prompt_tokens'] / article_tokens:.2f} ({lc['prompt_tokens']} billed; "
                    f"{lc['completion_tokens']} completion)",
                )
                figure(
                    "ours / langchain calls",
                    f"{ours['calls']} / {lc['calls']} = {ours['calls'] / lc['calls']:.2f}",
                    f"ours {ours['calls'] / len(articles):.2f} per article: "
                    + verdict(ours["calls"] / len(articles), 1.05),
                )
                figure(
                    "ours / langchain billed prompt tokens",
                    f"{ours['prompt_tokens'] / lc['prompt_tokens']:.2f}",
                    verdict(ours["prompt_tokens"] / lc["prompt_tokens"], 1.0),
                )
                total_ours = ours["prompt_tokens"] + ours["completion_tokens"]
                total_lc = lc["prompt_tokens"] + lc["completion_tokens"]
                figure(
                    "ours / langchain billed tokens (prompt + completion)",
                    f"{total_ours / total_lc:.2f}",
                )
                figure(
                    "ours / langchain wall time",
                    f"{summarize_s / lc_s:.2f}",
                    verdict(summarize_s / lc_s, 0.5),
                )

        # non-LLM work with the model stubbed (bench/stubbed.py runs it alone, best of N)
        from stubbed import run_stubbed

        runs = [run_stubbed(args.stubbed, tmp / "stubbed") for _ in range(3)]
        stub_s, stub_n, stages = min(runs, key=lambda r: r[0])
        figure(
            f"non-LLM work for {stub_n} articles (model stubbed, best of 3)",
            f"{stub_s:.2f} s ("
            + ", ".join(f"{name} {secs:.2f} s" for name, secs in stages.items())
            + ")",
            verdict(stub_s, 10.0),
        )

    if args.embedded:
        for line in run_embedded():
            figure("embedded", line)
    else:
        figure("embedded model", "skipped (pass --embedded; about a minute per article)")
    return 0


def _has_langchain() -> bool:
    import importlib.util

    return all(
        importlib.util.find_spec(name) is not None
        for name in ("langchain_classic", "langchain_openai", "langchain_text_splitters")
    )


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


if __name__ == "__main__":
    raise SystemExit(main())
