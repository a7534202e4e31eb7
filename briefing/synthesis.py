"""Per-region synthesis: one "what it means" paragraph, written by the model and grounded.

The model sees only the region's **verified** summaries (``content`` after grounding:
headline, summary and key points of every source of every story; summaries that never
went through grounding are left out), through ``prompts/synthesize.system.j2`` and
``prompts/synthesize.user.j2``, and must reply ``{"paragraph": "..."}``
(:class:`SynthesisOutput`, at most :data:`MAX_CHARS` characters; one repair is asked
for when the reply is not that, through ``briefing.structured`` like every other model call).

The paragraph is then checked like any claim (``briefing.grounding``): the evidence is
the sentences of those verified summaries, and each sentence of the paragraph must

* reach ``SUPPORT_THRESHOLD`` (0.6) support from its two best evidence sentences,
* contain only numbers and names the evidence contains,
* add no negation its evidence lacks, and not look like an instruction.

A sentence that only repeats one of the summaries' sentences (word overlap of
``REPEAT_THRESHOLD``, 0.8, or more) is dropped too: the reader finds it in the story
right below, and a "what it means" that says it again means nothing more.
Unsupported sentences are dropped. If no sentence survives the paragraph is omitted
(no extractive stand-in: the stories right below it already say what the summaries
say). A provider error or a reply still invalid after the repair also omits it, and the
section says why (``Section.synthesis_error``; the run counts it as partial): the
brief is still written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from briefing.errors import ProviderError, SummaryValidationError
from briefing.extractive import words
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
from briefing.llm.base import LLM, Completion, Message
from briefing.models import ArticleSummary, Briefing, Region, Section, Sentence, Story, Usage
from briefing.prompts import Prompts
from briefing.sentences import sentence_texts
from briefing.structured import Plan, ask, drive, parse_model

__all__ = [
    "MAX_CHARS",
    "TEMPLATES",
    "SentenceCheck",
    "SynthesisOutput",
    "SynthesisResult",
    "check_paragraph",
    "synthesis_plan",
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
    lines = [_word_set(sentence.text) for sentence in source.sentences.values()]
    checks = []
    for text in sentence_texts(paragraph):
        if _plain(text) in headlines or len(text.split()) < 6:
            check = SentenceCheck(text, False, 0.0, "not a sentence: a headline or a fragment")
        else:
            check = check_sentence(text, source)
            if check.supported and _repeats(_word_set(text), lines):
                check = SentenceCheck(text, False, check.score, "repeats a summary's sentence")
        checks.append(check)
    kept = " ".join(c.text for c in checks if c.supported)
    return (kept or None), checks


#: word overlap (Jaccard) from which a paragraph's sentence only repeats one of the
#: summaries' sentences: the reader finds it in the story right below
REPEAT_THRESHOLD = 0.8


def _word_set(text: str) -> set[str]:
    return {w.casefold() for w in words(text)}


def _repeats(sentence: set[str], lines: Sequence[set[str]]) -> bool:
    """True when ``sentence`` is (nearly) one of ``lines`` word for word: the small
    local model's "what it means" was a summary sentence with one word changed."""
    return bool(sentence) and any(
        len(sentence & line) >= REPEAT_THRESHOLD * len(sentence | line) for line in lines
    )


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


def has_material(stories: Sequence[Story]) -> bool:
    """True when the stories hold a verified summary to write a synthesis from (else
    no call is made: nothing is missing)."""
    return any(verified(s) for story in stories for s in story.summaries)


def estimate(llm: LLM, region: Region, stories: Sequence[Story], prompts: Prompts) -> Usage:
    """What one region's synthesis should cost, counted before sending (for
    ``--max-cost``): the prompt with the tokenizer, the answer as half its cap."""
    messages = _messages(prompts, region, stories, "English")
    prompt = llm.count_message_tokens(messages) + llm.billed_schema_tokens(_SCHEMA)
    return Usage(calls=1, prompt_tokens=prompt, completion_tokens=MAX_TOKENS // 2)


_SCHEMA = SynthesisOutput.model_json_schema()


def synthesis_plan(
    llm: LLM,
    region: Region,
    stories: Sequence[Story],
    *,
    prompts: Prompts,
    language: str = "English",
    repair_attempts: int = 1,
    cache: SummaryCache | None = None,
) -> Plan[SynthesisResult]:
    """The steps of one region's synthesis (``briefing.structured``): the cached answer
    if the same request was answered before (checked again like a new one), else one
    call plus a repair; only the paragraph's supported sentences are kept. A provider
    error propagates from the driver (the caller records it)."""
    if not has_material(stories):
        return SynthesisResult(region, None)
    messages = _messages(prompts, region, stories, language)
    key = None
    if cache is not None:
        from briefing.cache import text_key

        key = text_key(
            "synthesis",
            provider=llm.provider,
            model=llm.model,
            endpoint=llm.endpoint,
            messages=messages,
        )
        stored = cache.get_text(key)
        if stored is not None:
            paragraph, checks = check_paragraph(stored, stories)
            return SynthesisResult(region, paragraph, checks, Usage())
    try:
        asked = yield from ask(
            prompts,
            messages,
            SynthesisOutput,
            schema=_SCHEMA,
            schema_name="synthesis",
            max_tokens=MAX_TOKENS,
            repair_attempts=repair_attempts,
        )
    except SummaryValidationError as e:
        return SynthesisResult(region, None, usage=e.usage or Usage(), error=str(e))
    if cache is not None and key is not None:
        cache.put_text(key, "synthesis", asked.output.paragraph)
    paragraph, checks = check_paragraph(asked.output.paragraph, stories)
    return SynthesisResult(region, paragraph, checks, asked.usage)


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
    """Ask for the region's paragraph and keep only its supported sentences (see
    ``synthesis_plan``); a provider error becomes the result's ``error``."""
    plan = synthesis_plan(
        llm,
        region,
        stories,
        prompts=prompts or Prompts(),
        language=language,
        repair_attempts=repair_attempts,
        cache=cache,
    )
    try:
        return drive(llm, plan)
    except ProviderError as e:
        log.warning("no synthesis for %s: %s", region.value, e)
        return SynthesisResult(region, None, error=str(e))


def apply(briefing: Briefing, section: Section, result: SynthesisResult) -> None:
    """Put ``result`` into ``section`` and its cost into ``briefing.usage``."""
    section.synthesis = result.paragraph
    section.synthesis_error = result.error
    briefing.usage = briefing.usage + result.usage


def synthesize_sections(
    briefing: Briefing,
    llm: LLM,
    *,
    prompts: Prompts | None = None,
    should_stop: Callable[[], bool] | None = None,
    cache: SummaryCache | None = None,
) -> list[SynthesisResult]:
    """Fill ``Section.synthesis`` of every section of ``briefing`` (in place), one
    region after another; the calls' usage is added to ``briefing.usage`` and the
    prompts' version recorded. (``briefing.runner`` runs them concurrently, under the
    run's limits.)

    ``should_stop`` is asked before each section (e.g. the run's deadline has passed):
    when it says so, the remaining sections get no synthesis and say why."""
    prompts = prompts or Prompts()
    results: list[SynthesisResult] = []
    section: Section
    for section in briefing.sections:
        if should_stop is not None and should_stop():
            result = SynthesisResult(section.region, None, error="not written: the run stopped")
        else:
            result = synthesize_region(
                llm,
                section.region,
                section.stories,
                prompts=prompts,
                language=briefing.language,
                cache=cache,
            )
        apply(briefing, section, result)
        results.append(result)
    briefing.synthesis_prompt_version = prompts.combined_version(TEMPLATES)
    return results
