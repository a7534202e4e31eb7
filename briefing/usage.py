"""Token and cost accounting: the price table, the run report, and the budget check.

Prices are US dollars per million tokens (input, output). The built-in table covers
common OpenAI models (estimates: check your provider's price page); the in-process
model costs nothing; ``BRIEFING_PRICES`` (a JSON file path, or JSON text) adds or
overrides entries: ``{"my-model": {"input": 0.2, "output": 0.8}}`` (or ``[0.2, 0.8]``).
A model missing from the table has an unknown cost (``None``), never a guessed one.

Before a run, :func:`estimate_run` counts the prompt tokens with the tokenizer (output
tokens as a typical summary) for the articles the cache does not hold, and
:func:`check_budget` refuses to start when the estimate exceeds ``--max-cost``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import ConfigError
from briefing.models import ArticleSummary, RunReport, Usage

if TYPE_CHECKING:
    from briefing.cache import SummaryCache
    from briefing.models import Article
    from briefing.summarize import Summarizer


class BudgetError(ConfigError):
    """The run's estimated cost exceeds ``--max-cost`` (nothing was sent)."""


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float


#: Built-in prices, USD per 1M tokens (longest name prefix wins: dated snapshots match).
BUILTIN_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5": Price(1.25, 10.00),
    "o4-mini": Price(1.10, 4.40),
    "o3": Price(2.00, 8.00),
    "gpt-3.5-turbo": Price(0.50, 1.50),
}
#: Providers that bill nothing (the model runs on this machine).
FREE_PROVIDERS = ("local", "fake")


def load_prices(env: Mapping[str, str] | None = None) -> dict[str, Price]:
    """The built-in table with ``BRIEFING_PRICES`` (file or JSON text) applied on top."""
    env = os.environ if env is None else env
    prices = dict(BUILTIN_PRICES)
    raw = env.get("BRIEFING_PRICES", "").strip()
    if not raw:
        return prices
    text = raw
    if not raw.startswith("{"):
        try:
            text = Path(raw).expanduser().read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"BRIEFING_PRICES: cannot read {raw}: {e.strerror or e}") from e
    try:
        table = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"BRIEFING_PRICES is not valid JSON: {e.msg} (line {e.lineno}).") from e
    if not isinstance(table, dict):
        raise ConfigError('BRIEFING_PRICES must be a JSON object: {"model": {"input": ...}}.')
    for model, entry in table.items():
        prices[str(model)] = _price(str(model), entry)
    return prices


def _price(model: str, entry: object) -> Price:
    try:
        if isinstance(entry, dict):
            return Price(float(entry["input"]), float(entry["output"]))
        if isinstance(entry, list | tuple) and len(entry) == 2:
            return Price(float(entry[0]), float(entry[1]))
    except (KeyError, TypeError, ValueError):
        pass
    raise ConfigError(
        f"BRIEFING_PRICES: the price of {model!r} must be "
        '{"input": USD per 1M tokens, "output": USD per 1M tokens}.'
    )


def price_for(provider: str, model: str, prices: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model`` (free for in-process models; None when unknown)."""
    if provider in FREE_PROVIDERS:
        return Price(0.0, 0.0)
    table = load_prices() if prices is None else prices
    if model in table:
        return table[model]
    name = model.lower().rsplit("/", 1)[-1]
    for prefix in sorted(table, key=len, reverse=True):
        if name.startswith(prefix.lower()):
            return table[prefix]
    return None


def cost_usd(usage: Usage, price: Price | None) -> float | None:
    """Dollars ``usage`` costs at ``price`` (None when the price is unknown)."""
    if price is None:
        return None
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6


def run_report(
    summaries: Sequence[ArticleSummary],
    *,
    provider: str,
    model: str,
    seconds: float | None = None,
    concurrency: int = 1,
    prices: Mapping[str, Price] | None = None,
    total: Usage | None = None,
) -> RunReport:
    """The report of a finished run: calls, cache hits, tokens, estimated cost.
    ``total``: the run's whole usage when it made calls besides the summaries' (the
    synthesis); default the summaries' own."""
    usage = total if total is not None else sum((s.usage for s in summaries), Usage())
    return RunReport(
        articles=len(summaries),
        calls=usage.calls,
        cache_hits=sum(1 for s in summaries if s.cached),
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cost_usd=cost_usd(usage, price_for(provider, model, prices)),
        seconds=round(seconds, 3) if seconds is not None else None,
        concurrency=concurrency,
    )


def format_report(report: RunReport) -> str:
    """One line: "200 articles: 203 calls, 0 cache hits, 201234+40321 tokens, ~$0.054, 7.1 s"."""
    cost = "cost unknown" if report.cost_usd is None else f"~${report.cost_usd:.4f}"
    line = (
        f"{report.articles} articles: {report.calls} calls, {report.cache_hits} cache hits, "
        f"{report.prompt_tokens}+{report.completion_tokens} tokens, {cost}"
    )
    if report.seconds is not None:
        line += f", {report.seconds:.1f} s"
    batch = report.batch
    if batch is not None:
        billed = "cost unknown" if batch.cost_usd is None else f"~${batch.cost_usd:.4f}"
        live = "" if batch.live_cost_usd is None else f" (live ~${batch.live_cost_usd:.4f})"
        n = len(batch.batches)
        line += f"; batch: {batch.requests} requests in {n} batch{'es' * (n != 1)}, {billed}{live}"
        if batch.live_calls:
            line += f", {batch.live_calls} follow-ups live"
        if batch.failed:
            line += f", {batch.failed} failed"
    judge = report.judge
    if judge is not None:
        cost = "cost unknown" if judge.cost_usd is None else f"~${judge.cost_usd:.4f}"
        line += (
            f"; judge {judge.model}: {judge.calls} calls, {judge.prompt_tokens}+"
            f"{judge.completion_tokens} tokens, {cost}, {judge.rejected} claims rejected, "
            f"{judge.overturned} kept"
        )
        if judge.unjudged:
            line += f", {judge.unjudged} articles not judged"
    return line


@dataclass(frozen=True)
class Estimate:
    """What a run should cost, counted before sending anything."""

    usage: Usage
    #: articles the cache already holds (they cost nothing)
    cached: int
    cost_usd: float | None


def estimate_run(
    summarizer: Summarizer,
    articles: Iterable[Article],
    *,
    cache: SummaryCache | None = None,
    prices: Mapping[str, Price] | None = None,
) -> Estimate:
    """Calls and tokens the articles not in ``cache`` should take, and their price."""
    usage = Usage()
    cached = 0
    for article in articles:
        if cache is not None and summarizer.cache_key(article) in cache:
            cached += 1
            continue
        usage += summarizer.estimate(article)
    llm = summarizer.llm
    return Estimate(usage, cached, cost_usd(usage, price_for(llm.provider, llm.model, prices)))


def check_budget(estimate: Estimate, max_cost: float, *, model: str) -> None:
    """Raise ``BudgetError`` when ``estimate`` exceeds ``max_cost`` dollars (or its
    price is unknown, so it cannot be checked)."""
    u = estimate.usage
    if estimate.cost_usd is None:
        raise BudgetError(
            f"--max-cost ${max_cost:g} cannot be checked: no price known for model {model!r}. "
            'Add it to BRIEFING_PRICES, e.g. {"' + model + '": {"input": 0.15, "output": 0.6}} '
            "(USD per 1M tokens)."
        )
    if estimate.cost_usd > max_cost:
        raise BudgetError(
            f"Not starting: this run is estimated at ${estimate.cost_usd:.4f} "
            f"({u.calls} calls, about {u.prompt_tokens} prompt + {u.completion_tokens} output "
            f"tokens; {estimate.cached} articles cached), over --max-cost ${max_cost:g}. "
            "Raise --max-cost, or summarize fewer articles."
        )
