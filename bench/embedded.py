"""Seconds per article and peak memory of the embedded model on the seed page.

    .venv/bin/python bench/embedded.py [PATH...] [--raw]

Prints one line per article and a total. With ``--raw`` it also times a bare
llama-cpp-python call with the same prompt and grammar, for the overhead ratio.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "seeds")])
    parser.add_argument("--raw", action="store_true", help="also time bare llama.cpp calls")
    args = parser.parse_args()

    from briefing.llm.local import LocalLLM
    from briefing.llm.schema import bound_sentence_ids
    from briefing.pipeline import load
    from briefing.summarize import Summarizer

    articles = load(args.paths).articles
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    llm = LocalLLM()
    load_s = time.perf_counter() - t0
    summarizer = Summarizer(llm)
    print(f"model {llm.model} loaded in {load_s:.2f} s; context {llm.context_window} tokens")
    total = 0.0
    raw_total = 0.0
    for article in articles:
        llm._llama.reset()  # no reuse of a previous prompt's evaluated prefix
        start = time.perf_counter()
        summary = summarizer.summarize(article)
        took = time.perf_counter() - start
        total += took
        u = summary.usage
        line = (
            f"{took:6.1f} s  {summary.status:8s} {u.prompt_tokens:5d}+{u.completion_tokens:4d} tok"
            f"  {article.title[:50]}"
        )
        if args.raw:
            messages = summarizer._summarize_messages(article, article.sentences, 1, 1)
            # the same prompt and schema the summarizer used, straight into llama.cpp
            schema = bound_sentence_ids(summarizer._schema, len(article.sentences))
            llm._llama.reset()  # the same prompt was just evaluated: start cold, like above
            start = time.perf_counter()
            out = llm._llama.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                grammar=llm._grammar(schema),
                max_tokens=summarizer.max_output_tokens,
                temperature=0.0,
                repeat_penalty=1.1,
            )
            raw = time.perf_counter() - start
            raw_total += raw
            tokens = out["usage"]["completion_tokens"]
            line += f"  (bare llama.cpp call {raw:.1f} s, {tokens} tok)"
        print(line)
    n = max(len(articles), 1)
    print(f"seconds per article: {total / n:.1f} ({len(articles)} articles, {total:.1f} s)")
    if args.raw:
        print(f"pipeline / bare llama.cpp: {total / max(raw_total, 1e-9):.2f}x")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before the model: {rss_before:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
