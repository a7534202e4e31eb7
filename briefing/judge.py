"""A second opinion on a summary's claims from a capable model (``--verify-with``).

The lexical checks (``briefing.grounding``) are exact about numbers, quotes, names and
negation but weak on meaning: they drop faithful paraphrases and keep fluent additions
built from the source's own words ("strikes targeted **the oil tanker** in the South
Pars gas field"). A capable model catches both; a judge never runs by default.

**One call per article**, all its claims at once (:func:`judge_plan`, run by
:func:`judge_claims` / :func:`ajudge_claims`): the prompt (``prompts/judge.system.j2``,
``prompts/judge.user.j2``) shows the claims, each with the ids it cites, and only the
source sentences the claims cite **plus their neighbours** (``context=1``), not the
whole article. The neighbours carry what a cited sentence leans on ("he added", "the
strikes", a claim that compresses two adjacent sentences); the rest of the article
would triple the prompt for a long story and add nothing the citations point at. The
reply is one strict JSON object (:class:`JudgeOutput`), ``{"verdicts": [{"claim": 1,
"reason": "...", "verdict": "supported"}]}``; the claim numbers are an enum of the
claims asked about, so a grammar- or schema-constrained server cannot name another.
The reason comes before the verdict (a model that writes its reason first decides
better) and is capped at 15 words to keep the output small.

**An odd answer is not an error**: a verdict for a claim that was not asked about (a bad
number) is ignored, two verdicts for one claim keep the harsher, and a claim the judge
gave no verdict for keeps the lexical decision (:func:`combine`). Only an answer that is
not the JSON object at all is repaired once (``briefing.structured.ask``); still
invalid, the result says why (``JudgeResult.error``) and every claim keeps its lexical
decision, with the tokens billed counted.

**How the verdicts combine** with the lexical checks is :func:`combine` (a pure
function, table in its docstring): a claim is kept only with the judge's support and
the lexical checks' hard facts; the judge may overturn a *soft* lexical doubt (a low
word-overlap score, what paraphrase produces) but never a *hard* failure (a number,
quote or name not in the source, an added negation, instruction-like text, a citation
of a sentence that does not exist). :func:`apply_verdicts` applies that to a grounded
``ArticleSummary``: claims the lexical checks kept are dropped (or flagged) when the
judge rejects them, and claims dropped for low overlap come back when the judge
supports them. The claims with hard failures are not sent at all (they cannot be
overturned; sending them would only cost tokens).

**The embedded model is not a judge**: :func:`check_judge` refuses the bundled
SmolLM2-135M (and any model whose name says it has under a billion parameters) with a
:class:`JudgeRefused` that says what to use instead. :func:`resolve_judge` turns
``--verify-with MODEL`` or ``same`` into the judge's ``ModelSettings`` without opening
anything.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypedDict, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from briefing.errors import ConfigError, ProviderError, SummaryValidationError
from briefing.llm.base import LLM, JsonSchema, Message
from briefing.models import (
    Article,
    ArticleSummary,
    ClaimCheck,
    GroundingReport,
    KeyPoint,
    Sentence,
    Usage,
)
from briefing.prompts import Prompts
from briefing.settings import ModelSettings, choose_provider, environ
from briefing.structured import Plan, adrive, ask, drive

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from briefing.cache import SummaryCache

__all__ = [
    "JUDGED_KINDS",
    "OVERTURN_FLOOR",
    "TEMPLATES",
    "Claim",
    "Decision",
    "JudgeOptions",
    "JudgeOutput",
    "JudgeRefused",
    "JudgeResult",
    "Verdict",
    "VerdictItem",
    "adrive_judge",
    "ajudge_claims",
    "apply_verdicts",
    "check_judge",
    "combine",
    "estimate",
    "judge_claims",
    "judge_plan",
    "judge_summary_plan",
    "judgeable",
    "lexical_doubt",
    "resolve_judge",
    "shown_sentences",
    "verdict_schema",
]

log = logging.getLogger(__name__)

#: The judge's prompt templates (their versions go into cache keys through the messages).
TEMPLATES = ("judge.system.j2", "judge.user.j2")
#: What the judge may say about a claim.
VerdictLabel = Literal["supported", "unsupported", "contradicted"]
VERDICTS: tuple[str, ...] = get_args(VerdictLabel)
#: How harsh each verdict is (two verdicts for one claim keep the harsher).
_SEVERITY = {"supported": 0, "unsupported": 1, "contradicted": 2}
#: Longest reason kept (the prompt asks for at most 15 words).
REASON_CHARS = 160
#: Output tokens allowed: a little for the object, this much per claim.
_BASE_TOKENS, _TOKENS_PER_CLAIM, _MAX_TOKENS = 32, 60, 4000
#: The claims of a grounded summary the judge is asked about (quotes, figures and the
#: name lists are exact-match checks the judge could only second-guess).
JUDGED_KINDS = ("headline", "summary", "key_point")
#: The lowest lexical support score a claim the judge supports may have and still be
#: kept (see :func:`combine`). Not calibrated on data yet: no capable judge model here.
OVERTURN_FLOOR = 0.25
#: Mirrors ``briefing.grounding``: the extractive fallback takes over when no summary
#: sentence and fewer key points than this survive.
MIN_KEY_POINTS = 2


class JudgeRefused(ConfigError):
    """The model asked to judge claims is too weak to be trusted with it."""


# --------------------------------------------------------------------------- the answer


class VerdictItem(BaseModel):
    """The judge's verdict on one claim, as the model writes it."""

    model_config = ConfigDict(extra="forbid")

    #: the claim's number in the prompt (1-based)
    claim: int
    reason: Annotated[str, Field(json_schema_extra={"maxLength": REASON_CHARS})]
    verdict: VerdictLabel

    @field_validator("verdict", mode="before")
    @classmethod
    def _label(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("reason")
    @classmethod
    def _short(cls, value: str) -> str:
        return " ".join(value.split())[:REASON_CHARS]


class JudgeOutput(BaseModel):
    """What the judge must return for one article: a verdict per claim."""

    model_config = ConfigDict(extra="forbid")

    verdicts: list[VerdictItem]


_BASE_SCHEMA = JudgeOutput.model_json_schema()


def verdict_schema(n_claims: int) -> JsonSchema:
    """The JSON schema of one article's answer: ``JudgeOutput`` with the claim numbers
    limited to ``1..n_claims`` and at most ``n_claims`` verdicts."""
    import copy

    schema = copy.deepcopy(_BASE_SCHEMA)
    item = schema["$defs"]["VerdictItem"]
    item["properties"]["claim"] = {"enum": list(range(1, n_claims + 1))}
    schema["properties"]["verdicts"]["maxItems"] = n_claims
    return schema


# --------------------------------------------------------------------------- the question


@dataclass(frozen=True)
class Claim:
    """One claim to judge: its text and the ids of the source sentences it cites (or
    its best evidence; 0 is the title)."""

    text: str
    sentence_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The judge's verdict on one claim."""

    verdict: VerdictLabel
    reason: str = ""


@dataclass
class JudgeResult:
    """One article's verdicts, aligned with the claims asked about (``None``: the judge
    gave none for that claim, which keeps its lexical decision)."""

    verdicts: list[Verdict | None]
    usage: Usage = field(default_factory=Usage)
    #: the judge model (recorded with the verdicts)
    model: str = ""
    #: the source sentence ids the prompt showed
    shown: list[int] = field(default_factory=list)
    #: verdicts in the answer that named no claim asked about, or a claim twice
    ignored: int = 0
    #: why there are no verdicts (the answer stayed invalid), if so
    error: str | None = None
    cached: bool = False

    @property
    def missing(self) -> int:
        """Claims without a verdict."""
        return sum(v is None for v in self.verdicts)


def shown_sentences(
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    *,
    context: int = 1,
    exclude: Container[int] = (),
) -> list[Sentence]:
    """The source sentences the prompt shows, in order: every sentence a claim cites and
    ``context`` sentences either side of it (ids missing from ``sentences`` and ids in
    ``exclude``, e.g. instruction-like sentences, are left out)."""
    wanted: set[int] = set()
    for claim in claims:
        for sid in claim.sentence_ids:
            wanted.update(range(sid - context, sid + context + 1) if sid > 0 else (sid,))
    return [
        Sentence(id=sid, text=sentences[sid])
        for sid in sorted(wanted)
        if sid in sentences and sid not in exclude and sentences[sid].strip()
    ]


def _messages(
    prompts: Prompts, claims: Sequence[Claim], shown: Sequence[Sentence]
) -> list[Message]:
    listed = [
        {"text": c.text, "cites": ", ".join(str(i) for i in c.sentence_ids) or "none"}
        for c in claims
    ]
    system = prompts.render("judge.system.j2")
    user = prompts.render("judge.user.j2", sentences=shown, claims=listed)
    return [Message("system", system), Message("user", user)]


def _max_tokens(n_claims: int) -> int:
    return min(_MAX_TOKENS, _BASE_TOKENS + _TOKENS_PER_CLAIM * n_claims)


def read_verdicts(output: JudgeOutput, n_claims: int) -> tuple[list[Verdict | None], int]:
    """The verdicts aligned with the ``n_claims`` claims, and how many items were
    ignored: a number outside ``1..n_claims``, or a second verdict for a claim (the
    harsher of the two is kept)."""
    verdicts: list[Verdict | None] = [None] * n_claims
    ignored = 0
    for item in output.verdicts:
        if not 1 <= item.claim <= n_claims:
            ignored += 1
            continue
        had = verdicts[item.claim - 1]
        if had is not None:
            ignored += 1
            if _SEVERITY[had.verdict] >= _SEVERITY[item.verdict]:
                continue
        verdicts[item.claim - 1] = Verdict(item.verdict, item.reason)
    return verdicts, ignored


def estimate(
    llm: LLM,
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    *,
    prompts: Prompts | None = None,
    context: int = 1,
    exclude: Container[int] = (),
) -> Usage:
    """What judging ``claims`` should cost, counted before sending (for ``--max-cost``):
    the prompt with the tokenizer and the schema as billed, the answer as half its cap."""
    if not claims:
        return Usage()
    shown = shown_sentences(claims, sentences, context=context, exclude=exclude)
    messages = _messages(prompts or Prompts(), claims, shown)
    prompt = llm.count_message_tokens(messages) + llm.billed_schema_tokens(
        verdict_schema(len(claims))
    )
    return Usage(calls=1, prompt_tokens=prompt, completion_tokens=_max_tokens(len(claims)) // 2)


def judge_plan(
    llm: LLM,
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    *,
    prompts: Prompts | None = None,
    context: int = 1,
    exclude: Container[int] = (),
    repair_attempts: int = 1,
    cache: SummaryCache | None = None,
) -> Plan[JudgeResult]:
    """The steps of judging one article's ``claims`` against its ``sentences`` (id ->
    text; 0 may be the title) in one call (``briefing.structured``): the cached answer
    if the same request was answered before, else one call plus a repair. No claims: no
    call. A provider error propagates from the driver (the caller decides)."""
    if not claims:
        return JudgeResult([], model=llm.model)
    prompts = prompts or Prompts()
    shown = shown_sentences(claims, sentences, context=context, exclude=exclude)
    messages = _messages(prompts, claims, shown)
    shown_ids = [s.id for s in shown]
    key = None
    if cache is not None:
        from briefing.cache import text_key

        key = text_key(
            "judge", provider=llm.provider, model=llm.model, endpoint=llm.endpoint,
            messages=messages,
        )  # fmt: skip
        stored = cache.get_text(key)
        if stored is not None:
            output = JudgeOutput.model_validate_json(stored)
            verdicts, ignored = read_verdicts(output, len(claims))
            return JudgeResult(verdicts, Usage(), llm.model, shown_ids, ignored, cached=True)
    try:
        asked = yield from ask(
            prompts,
            messages,
            JudgeOutput,
            schema=verdict_schema(len(claims)),
            schema_name="claim_verdicts",
            max_tokens=_max_tokens(len(claims)),
            repair_attempts=repair_attempts,
        )
    except SummaryValidationError as e:
        log.warning("the judge's answer stayed invalid: %s", e)
        return JudgeResult(
            [None] * len(claims), e.usage or Usage(), llm.model, shown_ids, error=str(e)
        )
    if cache is not None and key is not None:
        cache.put_text(key, "judge", asked.output.model_dump_json())
    verdicts, ignored = read_verdicts(asked.output, len(claims))
    if ignored or None in verdicts:
        log.info(
            "judge %s: %d of %d claims without a verdict, %d verdicts ignored",
            llm.model, sum(v is None for v in verdicts), len(claims), ignored,
        )  # fmt: skip
    return JudgeResult(verdicts, asked.usage, llm.model, shown_ids, ignored)


class JudgeOptions(TypedDict, total=False):
    """The keyword options of :func:`judge_plan`, as :func:`judge_claims` and
    :func:`ajudge_claims` pass them on."""

    prompts: Prompts | None
    context: int
    exclude: Container[int]
    repair_attempts: int
    cache: SummaryCache | None


def judge_claims(
    llm: LLM,
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    **options: Unpack[JudgeOptions],
) -> JudgeResult:
    """Judge one article's ``claims`` with ``llm.complete`` (see :func:`judge_plan`); a
    provider error becomes the result's ``error`` (every claim keeps its lexical
    decision)."""
    plan = judge_plan(llm, claims, sentences, **options)
    try:
        return drive(llm, plan)
    except ProviderError as e:
        return _no_verdicts(llm, len(claims), e)


async def ajudge_claims(
    llm: LLM,
    claims: Sequence[Claim],
    sentences: Mapping[int, str],
    **options: Unpack[JudgeOptions],
) -> JudgeResult:
    """:func:`judge_claims` with ``llm.acomplete``."""
    return await adrive_judge(llm, judge_plan(llm, claims, sentences, **options), len(claims))


async def adrive_judge(llm: LLM, plan: Plan[JudgeResult], n_claims: int) -> JudgeResult:
    """Run a judge plan with ``adrive``; a provider error becomes the result's ``error``."""
    try:
        return await adrive(llm, plan)
    except ProviderError as e:
        return _no_verdicts(llm, n_claims, e)


def _no_verdicts(llm: LLM, n_claims: int, error: ProviderError) -> JudgeResult:
    log.warning("no verdicts from the judge: %s", error)
    return JudgeResult([None] * n_claims, model=llm.model, error=str(error))


# --------------------------------------------------------------------------- combining


@dataclass(frozen=True)
class Decision:
    """A claim's final verdict after the judge, and why."""

    supported: bool
    reason: str
    #: the judge changed the lexical decision
    overturned: bool = False


def combine(
    lexical_supported: bool,
    lexical_score: float | None,
    verdict: Verdict | None,
    *,
    hard: bool = False,
    floor: float = OVERTURN_FLOOR,
) -> Decision:
    """The final verdict on a claim from the lexical checks' and the judge's.

    ``hard``: the lexical checks failed the claim on a fact they check exactly (a number,
    quote or name not in the source, an added negation, instruction-like text, a cited
    sentence that does not exist), not only on a low support score (see
    :func:`lexical_doubt`).

    ========================  ==================  =============================
    lexical                   judge               final
    ========================  ==================  =============================
    any                       no verdict          the lexical decision
    hard failure              any                 unsupported (not overturned)
    passed or soft doubt      contradicted        unsupported
    passed or soft doubt      unsupported         unsupported
    passed                    supported           supported
    soft doubt, score>=floor  supported           supported (overturned)
    soft doubt, score<floor   supported           unsupported
    ========================  ==================  =============================

    Why: a claim must hold on both counts. The lexical checks are exact where a model
    is not trustworthy (a judge can misread a figure, and it reads article text that
    may carry injected instructions), so their hard failures stand whatever the judge
    says. Their support score is a word-overlap measure that paraphrase defeats and
    added words built from the source fool, which is where the judge is better: its
    doubt removes a claim the overlap passed ("the oil tanker"), and its support keeps a
    paraphrase the overlap doubted, as long as some overlap (``floor``) still ties the
    claim to the sentences a reader is pointed at.
    """
    if verdict is None:
        return Decision(lexical_supported, "")
    said = f"judge: {verdict.verdict}" + (f" ({verdict.reason})" if verdict.reason else "")
    if not lexical_supported and hard:
        return Decision(False, f"{said}; a failed exact check is not overturned")
    if verdict.verdict != "supported":
        return Decision(False, said, overturned=lexical_supported)
    if lexical_supported:
        return Decision(True, said)
    score = lexical_score or 0.0
    if score < floor:
        return Decision(False, f"{said}, but support {score:.2f} < {floor}")
    return Decision(True, f"{said}; overturns a low support score {score:.2f}", overturned=True)


def lexical_doubt(check: ClaimCheck) -> Literal["none", "soft", "hard"]:
    """How the lexical checks failed ``check``: ``"none"`` (supported), ``"hard"`` (an
    exact check failed: a number, name or quote not in the source, a dropped negation,
    instruction-like text; ``ClaimCheck.exact``) or ``"soft"`` (only the calibrated
    score or the word overlap was low: what paraphrase causes)."""
    if check.supported:
        return "none"
    return "hard" if check.exact or check.score is None else "soft"


# --------------------------------------------------------------------------- summaries


def judgeable(summary: ArticleSummary) -> list[int]:
    """Indexes into ``summary.grounding.claims`` of the claims to send to the judge:
    headline, summary sentences and key points with evidence, except those the lexical
    checks failed hard (nothing to ask: they stay unsupported). None when the summary
    was not grounded or fell back to the article's own sentences."""
    report = summary.grounding
    if report is None or report.extractive or summary.content is None:
        return []
    return [
        i
        for i, c in enumerate(report.claims)
        if c.kind in JUDGED_KINDS and c.sentence_ids and lexical_doubt(c) != "hard"
    ]


def _source(article: Article) -> tuple[dict[int, str], set[int]]:
    """Sentence texts by id (0: the title) and the instruction-like ones."""
    from briefing.grounding import is_instruction_like
    from briefing.summarize import ensure_sentences

    sentences = {0: article.title, **{s.id: s.text for s in ensure_sentences(article)}}
    return sentences, {sid for sid, text in sentences.items() if is_instruction_like(text)}


def judge_summary_plan(
    llm: LLM,
    summary: ArticleSummary,
    article: Article,
    *,
    prompts: Prompts | None = None,
    context: int = 1,
    cache: SummaryCache | None = None,
) -> Plan[JudgeResult]:
    """:func:`judge_plan` over the :func:`judgeable` claims of a grounded summary; the
    result goes to :func:`apply_verdicts` with the same summary."""
    report = summary.grounding
    chosen = [report.claims[i] for i in judgeable(summary)] if report else []
    claims = [Claim(c.text, tuple(c.sentence_ids)) for c in chosen]
    if not claims:
        return JudgeResult([], model=llm.model)
    sentences, quarantined = _source(article)
    result: JudgeResult = yield from judge_plan(
        llm, claims, sentences, prompts=prompts, context=context, exclude=quarantined,
        cache=cache,
    )  # fmt: skip
    return result


def apply_verdicts(
    summary: ArticleSummary,
    article: Article,
    result: JudgeResult,
    *,
    floor: float = OVERTURN_FLOOR,
) -> ArticleSummary:
    """``summary`` (grounded) with the judge's verdicts on its :func:`judgeable` claims
    combined into its grounding (:func:`combine`): the content rebuilt from the claims
    that now hold (a headline that fails is replaced by the article's title, as
    grounding does; others are dropped or flagged by the report's policy), the report's
    counts and ``flagged`` updated, and the extractive fallback when too little is left.
    A result with no verdicts returns ``summary`` unchanged."""
    report = summary.grounding
    indexes = judgeable(summary)
    if report is None or summary.content is None or not any(result.verdicts):
        return summary
    if len(indexes) != len(result.verdicts):
        raise ValueError(
            f"{len(result.verdicts)} verdicts for {len(indexes)} judgeable claims: "
            "judge the summary with judge_summary_plan"
        )
    claims = list(report.claims)
    for i, verdict in zip(indexes, result.verdicts, strict=True):
        check = claims[i]
        if verdict is None:
            continue
        hard = lexical_doubt(check) == "hard"
        decision = combine(check.supported, check.score, verdict, hard=hard, floor=floor)
        if decision.supported and decision.overturned:  # its reason says the old score
            reason = decision.reason
        else:
            reason = "; ".join(p for p in (check.reason, decision.reason) if p)
        if decision.supported:
            action = "kept"
        elif check.kind == "headline":
            action = "replaced"
        else:
            action = "dropped" if report.unsupported == "drop" else "flagged"
        claims[i] = check.model_copy(
            update={"supported": decision.supported, "reason": reason, "action": action}
        )
    content = summary.content
    headline = next((c for c in claims if c.kind == "headline"), None)
    kept_sentences = [c.text for c in claims if c.kind == "summary" and c.action == "kept"]
    points = [
        KeyPoint(text=c.text, sentence_ids=list(c.sentence_ids))
        for c in claims
        if c.kind == "key_point" and c.action == "kept"
    ]
    new_headline = content.headline
    if headline is not None:
        new_headline = headline.text if headline.action == "kept" else _title(article, content)
    verified = content.model_copy(
        update={"headline": new_headline, "summary": " ".join(kept_sentences), "key_points": points}
    )
    flagged = [c for c in claims if c.action == "flagged"]
    if kept_sentences or len(points) >= MIN_KEY_POINTS:
        return summary.model_copy(
            update={"content": verified, "grounding": _recount(report, claims), "flagged": flagged}
        )
    from briefing.extractive import extractive_output
    from briefing.summarize import ensure_sentences

    reason = f"after the judge, no summary sentence and {len(points)} key point" + (
        "" if len(points) == 1 else "s"
    )
    _, quarantined = _source(article)
    fallback = extractive_output(
        article, ensure_sentences(article), base=verified, exclude=quarantined
    )
    if fallback is None:
        return summary.model_copy(
            update={
                "content": None,
                "status": "failed",
                "error": reason,
                "grounding": _recount(report, claims, reason=reason),
                "flagged": flagged,
            }
        )
    return summary.model_copy(
        update={
            "content": fallback,
            "status": "extractive",
            "grounding": _recount(report, claims, extractive=True, reason=reason),
            "flagged": flagged,
        }
    )


def _title(article: Article, content: object) -> str:
    title = " ".join(article.title.split())
    return title or str(getattr(content, "headline", ""))


def _recount(
    report: GroundingReport,
    claims: list[ClaimCheck],
    *,
    extractive: bool = False,
    reason: str | None = None,
) -> GroundingReport:
    actions = [c.action for c in claims]
    return report.model_copy(
        update={
            "claims": claims,
            "checked": len(claims),
            "supported": sum(c.supported for c in claims),
            "dropped": actions.count("dropped"),
            "flagged": actions.count("flagged"),
            "replaced": actions.count("replaced") + actions.count("corrected"),
            "extractive": extractive or report.extractive,
            "extractive_reason": reason if extractive or reason else report.extractive_reason,
        }
    )


# --------------------------------------------------------------------------- which judge

#: The embedded default (``briefing.llm.local``): never a judge.
EMBEDDED_MODEL = "SmolLM2-135M-Instruct"
#: Models named with fewer parameters than this are refused as judges.
MIN_JUDGE_PARAMETERS = 1e9
_SIZE_RE = re.compile(r"(?:^|[-_:/ .])(\d+(?:\.\d+)?)([mb])(?=$|[-_:/ .])", re.IGNORECASE)

_ADVICE = (
    "--verify-with needs a capable model: {what} is not a reliable judge of claims "
    "(it cannot tell a faithful claim from an invented one). Use a bigger model, e.g. "
    "set OPENAI_API_KEY and pass --verify-with gpt-4o-mini, or set OPENAI_BASE_URL to an "
    "Ollama, vLLM or llama.cpp server and pass --verify-with MODEL (e.g. qwen2.5:7b); "
    "or leave --verify-with off to use the lexical checks alone."
)


def model_parameters(name: str) -> float | None:
    """Parameters a model's name states ("Qwen2.5-7B" -> 7e9, "SmolLM2-135M" -> 1.35e8),
    or None when it states none."""
    match = _SIZE_RE.search(Path(name).name)
    if match is None:
        return None
    value, unit = float(match.group(1)), match.group(2).lower()
    return value * (1e6 if unit == "m" else 1e9)


def _refuse_name(name: str) -> None:
    if EMBEDDED_MODEL.casefold() in name.casefold():
        raise JudgeRefused(_ADVICE.format(what=f"the embedded {EMBEDDED_MODEL} model"))
    size = model_parameters(name)
    if size is not None and size < MIN_JUDGE_PARAMETERS:
        raise JudgeRefused(_ADVICE.format(what=f"{name} ({size / 1e6:.0f}M parameters)"))


def check_judge(target: ModelSettings | LLM, env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`JudgeRefused` when ``target`` (the judge's settings, before a run,
    or the model built from them) is the embedded model or one too small to judge.

    Settings are checked without opening anything: the in-process provider with no
    model file (the bundled SmolLM2) is refused, and so is a model named as under a
    billion parameters. A server's model may be unknown until asked; check the built
    model too (its ``model`` is what the server serves)."""
    if isinstance(target, ModelSettings):
        if choose_provider(target, env) == "local":
            path = target.model_path or (
                Path(target.model) if target.model and target.model.endswith(".gguf") else None
            )
            if path is None:
                _refuse_name(EMBEDDED_MODEL)
            else:
                _refuse_name(path.stem)
            return
        if target.model:
            _refuse_name(target.model)
        return
    _refuse_name(target.model)


def resolve_judge(
    run: ModelSettings, value: str, env: Mapping[str, str] | None = None
) -> ModelSettings:
    """The judge's model settings for ``--verify-with value``: ``same`` is the run's
    own; a ``.gguf`` path is that file in process; a model name is that model on the
    run's provider and endpoint (the same server or OpenAI account). Opens nothing; call
    :func:`check_judge` on the result before the run starts."""
    value = value.strip()
    if not value:
        raise ConfigError("--verify-with needs a model name, a .gguf file or 'same'.")
    if value.casefold() == "same":
        return run
    if value.endswith(".gguf"):
        return replace(run, provider="local", model=None, model_path=Path(value).expanduser())
    if choose_provider(run, env) == "openai":
        return replace(run, model=value, model_path=None)
    # the run uses the in-process model: a named model needs a server or a key
    forced = replace(run, provider="openai", model=value, model_path=None)
    env = environ() if env is None else env
    configured = run.server_url or env.get("OPENAI_API_KEY", "").strip()
    if configured:
        return forced
    raise ConfigError(
        f"--verify-with {value} needs a server to run it: the run uses the embedded model. "
        "Set OPENAI_API_KEY (for OpenAI models) or OPENAI_BASE_URL (an Ollama, vLLM or "
        "llama.cpp server), or pass --verify-with FILE.gguf."
    )
