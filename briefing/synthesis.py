"""Per-region synthesis: one "what it means" paragraph, written by the model and grounded.

The model sees only the region's **verified** summaries (``content`` after grounding:
headline, summary and key points of every source of every story; summaries that never
went through grounding are left out), through ``prompts/synthesize.system.j2`` and
``prompts/synthesize.user.j2``, and must reply ``{"paragraph": "..."}``
(:class:`SynthesisOutput`, at most :data:`MAX_CHARS` characters; one repair is asked
for when the reply is not that).

The paragraph is then checked like any claim (``briefing.grounding``): the evidence is
the sentences of those verified summaries, and each sentence of the paragraph must

* reach ``SUPPORT_THRESHOLD`` (0.6) support from its two best evidence sentences,
* contain only numbers and names the evidence contains,
* add no negation its evidence lacks, and not look like an instruction.

Unsupported sentences are dropped. If no sentence survives the paragraph is omitted
(no extractive stand-in: the stories right below it already say what the summaries
say). A provider error or a reply still invalid after the repair also omits it: the
brief never fails for want of a synthesis.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from briefing.errors import ProviderError
from briefing.grounding import (
    SUPPORT_THRESHOLD,
    Source,
    best_evidence,
    is_instruction_like,
    numbers_in,
    polarity_cues,
    support_score,
    unsupported_entities,
)
from briefing.ingest.sentences import sentence_texts
from briefing.llm.base import LLM, Completion, Message
from briefing.models import ArticleSummary, Briefing, Region, Section, Sentence, Story, Usage
from briefing.prompts import Prompts, defuse
from briefing.summarize import parse_model

__all__ = [
    "MAX_CHARS",
    "TEMPLATES",
    "SentenceCheck",
    "SynthesisOutput",
    "SynthesisResult",
    "check_paragraph",
    "synthesize_region",
    "synthesize_sections",
]

if TYPE_CHECKING:
    from briefing.cache import SummaryCache

log = logging.getLogger(__name__)

#: The synthesis prompt templates (their versions go to ``Briefing.synthesis_prompt_version``).
TEMPLATES = ("synthesize.system.j2", "synthesize.user.j2")
#: Longest paragraph kept (longer replies are cut at the last sentence that fits).
MAX_CHARS = 900
MAX_TOKENS = 400


class SynthesisOutput(BaseModel):
    """What the model must return for one region."""

    model_config = ConfigDict(extra="forbid")

    paragraph: Annotated[str, Field(json_schema_extra={"maxLength": MAX_CHARS})]

    @field_validator("paragraph")
    @classmethod
    def _fit(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) <= MAX_CHARS:
            return value
        kept = ""
        for sentence in sentence_texts(value):
            if len(kept) + len(sentence) + 1 > MAX_CHARS:
                break
            kept = f"{kept} {sentence}".strip()
        return kept or value[:MAX_CHARS]


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one sentence of a paragraph."""

    text: str
    supported: bool
    score: float
    reason: str = ""


@dataclass
class SynthesisResult:
    """One region's paragraph (``None`` if nothing survived) and what was checked."""

    region: Region
    paragraph: str | None
    checks: list[SentenceCheck] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    error: str | None = None


def verified(summary: ArticleSummary) -> bool:
    """A summary the synthesis may use: it has content and went through grounding."""
    return summary.content is not None and summary.grounding is not None


def _story_lines(summary: ArticleSummary) -> list[str]:
    content = summary.content
    if content is None:
        return []
    lines = sentence_texts(content.summary) if content.summary else []
    lines += [k.text for k in content.key_points if k.text.strip()]
    return lines


def evidence(stories: Sequence[Story]) -> Source:
    """The sentences of the stories' verified summaries, as a grounding ``Source``."""
    texts: list[str] = []
    for story in stories:
        for summary in story.summaries:
            if verified(summary) and summary.content is not None:
                texts.append(summary.content.headline)
                texts.extend(_story_lines(summary))
    sentences = {i: Sentence(id=i, text=t) for i, t in enumerate(texts, 1) if t.strip()}
    return Source(title="", sentences=sentences, quarantined=set())


def check_sentence(sentence: str, source: Source) -> SentenceCheck:
    """Is ``sentence`` supported by ``source`` (support, numbers, names, negation)?"""
    if is_instruction_like(sentence):
        return SentenceCheck(sentence, False, 0.0, "looks like an instruction")
    ids = best_evidence(sentence, source)
    score = support_score(sentence, source, ids)
    if score < SUPPORT_THRESHOLD:
        return SentenceCheck(sentence, False, score, f"support {score:.2f} < {SUPPORT_THRESHOLD}")
    missing = [
        text for text, values in numbers_in(sentence, claim=True) if not values & source.numbers
    ]
    if missing:
        return SentenceCheck(sentence, False, score, f"numbers not in the summaries: {missing}")
    names = unsupported_entities(sentence, source)
    if names:
        return SentenceCheck(sentence, False, score, f"names not in the summaries: {names}")
    evidence_cues = set().union(*(polarity_cues(source.evidence[i].text) for i in ids))
    if polarity_cues(sentence) - evidence_cues:
        return SentenceCheck(sentence, False, score, "adds a negation")
    return SentenceCheck(sentence, True, score)


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def check_paragraph(
    paragraph: str, stories: Sequence[Story]
) -> tuple[str | None, list[SentenceCheck]]:
    """The paragraph's supported sentences joined (``None`` if none), and every verdict."""
    source = evidence(stories)
    headlines = {_plain(s.content.headline) for st in stories for s in st.summaries if s.content}
    checks = [
        SentenceCheck(text, False, 0.0, "not a sentence: a headline or a fragment")
        if _plain(text) in headlines or len(text.split()) < 6
        else check_sentence(text, source)
        for text in sentence_texts(paragraph)
    ]
    kept = " ".join(c.text for c in checks if c.supported)
    return (kept or None), checks


def parse_synthesis(completion: Completion) -> SynthesisOutput:
    """Validate a completion as ``SynthesisOutput``; ``ValueError`` says what is wrong."""
    return parse_model(completion, SynthesisOutput)


def _messages(
    prompts: Prompts, region: Region, stories: Sequence[Story], language: str
) -> list[Message]:
    shown = [
        {"headline": s.content.headline, "lines": _story_lines(s)}
        for story in stories
        for s in story.summaries
        if verified(s) and s.content is not None
    ]
    system = prompts.render("synthesize.system.j2", language=language)
    user = prompts.render(
        "synthesize.user.j2", region=region.value, language=language, stories=shown
    )
    return [Message("system", system), Message("user", user)]


def synthesize_region(
    llm: LLM,
    region: Region,
    stories: Sequence[Story],
    *,
    prompts: Prompts | None = None,
    language: str = "English",
    repair_attempts: int = 1,
    cache: SummaryCache | None = None,
) -> SynthesisResult:
    """Ask for the region's paragraph and keep only its supported sentences. With a
    ``cache``, the same request (same stories, prompts and model) is asked only once:
    the stored answer is checked again like a new one."""
    if not any(verified(s) for story in stories for s in story.summaries):
        return SynthesisResult(region, None, error="no verified summaries")
    prompts = prompts or Prompts()
    messages = _messages(prompts, region, stories, language)
    key = None
    if cache is not None:
        from briefing.cache import text_key

        key = text_key("synthesis", provider=llm.provider, model=llm.model, messages=messages)
        stored = cache.get_text(key)
        if stored is not None:
            paragraph, checks = check_paragraph(stored, stories)
            return SynthesisResult(region, paragraph, checks, Usage())
    schema = SynthesisOutput.model_json_schema()
    usage = Usage()
    for attempt in range(repair_attempts + 1):
        try:
            completion = llm.complete(
                messages, schema=schema, schema_name="synthesis", max_tokens=MAX_TOKENS
            )
        except ProviderError as e:
            log.warning("no synthesis for %s: %s", region.value, e)
            return SynthesisResult(region, None, usage=usage, error=str(e))
        usage += completion.usage
        try:
            output = parse_synthesis(completion)
        except ValueError as e:
            if attempt == repair_attempts:
                return SynthesisResult(region, None, usage=usage, error=str(e))
            repair = prompts.render("repair.user.j2", error=str(e))
            messages = [
                *messages,
                Message("assistant", defuse(completion.text[:4000])),
                Message("user", repair),
            ]
            continue
        if cache is not None and key is not None:
            cache.put_text(key, "synthesis", output.paragraph)
        paragraph, checks = check_paragraph(output.paragraph, stories)
        return SynthesisResult(region, paragraph, checks, usage)
    raise AssertionError("unreachable")  # pragma: no cover


def synthesize_sections(
    briefing: Briefing,
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    should_stop: Callable[[], bool] | None = None,
    cache: SummaryCache | None = None,
) -> list[SynthesisResult]:
    """Fill ``Section.synthesis`` of every section of ``briefing`` (in place); the calls'
    usage is added to ``briefing.usage`` and the prompts' version recorded.

    ``should_stop`` is asked before each section (e.g. the run's deadline has passed):
    when it says so, the remaining sections get no synthesis."""
    prompts = prompts or Prompts()
    results: list[SynthesisResult] = []
    section: Section
    for section in briefing.sections:
        if should_stop is not None and should_stop():
            log.warning("no synthesis from %s on: the run's deadline passed", section.region.value)
            break
        result = synthesize_region(
            llm,
            section.region,
            section.stories,
            prompts=prompts,
            language=briefing.language,
            cache=cache,
        )
        section.synthesis = result.paragraph
        briefing.usage = briefing.usage + result.usage
        results.append(result)
    briefing.synthesis_prompt_version = prompts.combined_version(TEMPLATES)
    return results
