"""The shared vocabulary: plain pydantic models passed from one pipeline stage to the next.

sources -> ``Article`` -> (chunks) -> ``SummaryOutput`` (what the model writes)
-> ``ArticleSummary`` (output + provenance) -> ``Briefing`` (sections by region).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

#: Bump when the shape of :class:`SummaryOutput` changes (recorded with each summary,
#: part of cache keys).
SCHEMA_VERSION = "1"


class Region(StrEnum):
    """The fixed regional taxonomy of the brief (section order is this order)."""

    MIDDLE_EAST = "Middle East & North Africa"
    EUROPE = "Europe"
    AFRICA = "Sub-Saharan Africa"
    ASIA_PACIFIC = "Asia-Pacific"
    AMERICAS = "Americas"
    GLOBAL = "Global"


# --------------------------------------------------------------------------- articles


class Sentence(BaseModel):
    """One sentence of an article body; ``id`` is 1-based and what summaries cite."""

    model_config = ConfigDict(frozen=True)

    id: int
    text: str


class SourceRef(BaseModel):
    """Where (a copy of) an article was published."""

    outlet: str | None = None
    url: str | None = None
    source: str | None = None


class Article(BaseModel):
    """One clean news article, ready to summarize."""

    id: str = ""
    title: str
    text: str
    outlet: str | None = None
    url: str | None = None
    published: dt.datetime | None = None
    byline: str | None = None
    language: str | None = None
    source: str = "-"  #: the input path or URL the article came from
    sentences: list[Sentence] = Field(default_factory=list)
    #: other places the same story appeared (filled by de-duplication)
    also_in: list[SourceRef] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            self.id = "a" + self.content_hash[:10]

    @property
    def content_hash(self) -> str:
        """Hash of what the model sees: changes whenever the summary could change."""
        return hashlib.sha256(f"{self.title}\n\n{self.text}".encode()).hexdigest()


# --------------------------------------------------------------------------- model output
# Length caps appear in the JSON schema (the local provider turns them into a grammar
# so a small model cannot loop forever); validation truncates instead of failing so a
# large model that writes a little more is not punished.


def _cap(max_length: int) -> dict[str, Any]:
    return {"maxLength": max_length}


ShortText = Annotated[str, Field(json_schema_extra=_cap(80))]


class KeyPoint(BaseModel):
    """A claim from the article with the ids of the sentences it rests on."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(json_schema_extra=_cap(220))]
    sentence_ids: Annotated[
        list[int], Field(json_schema_extra={"maxItems": 3}, description="ids of source sentences")
    ]


class Quote(BaseModel):
    """A verbatim quote and who said it."""

    model_config = ConfigDict(extra="forbid")

    speaker: ShortText
    text: Annotated[str, Field(json_schema_extra=_cap(300))]


class Figure(BaseModel):
    """A number, date, count or amount, with the sentence it came from."""

    model_config = ConfigDict(extra="forbid")

    value: Annotated[str, Field(json_schema_extra=_cap(40))]
    what: Annotated[str, Field(json_schema_extra=_cap(100))]
    sentence_id: int


_LIST_CAPS = {
    "key_points": 5,
    "countries": 6,
    "people": 6,
    "organizations": 6,
    "quotes": 3,
    "figures": 5,
}


class SummaryOutput(BaseModel):
    """What the model must return for one article (its JSON schema is the response format)."""

    model_config = ConfigDict(extra="forbid")

    headline: Annotated[str, Field(json_schema_extra=_cap(120))]
    summary: Annotated[
        str, Field(json_schema_extra=_cap(600), description="2 to 4 sentences, neutral")
    ]
    key_points: Annotated[list[KeyPoint], Field(json_schema_extra={"maxItems": 5})]
    region: Region
    countries: Annotated[list[ShortText], Field(json_schema_extra={"maxItems": 6})]
    people: Annotated[list[ShortText], Field(json_schema_extra={"maxItems": 6})]
    organizations: Annotated[list[ShortText], Field(json_schema_extra={"maxItems": 6})]
    quotes: Annotated[list[Quote], Field(json_schema_extra={"maxItems": 3})]
    figures: Annotated[list[Figure], Field(json_schema_extra={"maxItems": 5})]
    topic: ShortText
    importance: Annotated[int, Field(ge=1, le=5, description="1 minor ... 5 major world news")]

    @field_validator(*_LIST_CAPS)
    @classmethod
    def _truncate_lists(cls, value: list[Any], info: Any) -> list[Any]:
        return value[: _LIST_CAPS[info.field_name]]

    @field_validator("headline", "summary", "topic")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("headline")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("headline must not be empty")
        return value


# --------------------------------------------------------------------------- summaries


class Usage(BaseModel):
    """Token counts of one or more model calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class JudgeReport(BaseModel):
    """What the judge of ``--verify-with`` did and cost (priced at its own model)."""

    model: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    #: articles it gave verdicts on; claims it rejected that the lexical checks passed,
    #: and claims it kept that they doubted (paraphrase)
    judged: int = 0
    rejected: int = 0
    overturned: int = 0
    #: articles left with the lexical checks only (its failures, the run's limits)
    unjudged: int = 0


class BatchSummary(BaseModel):
    """The Batch API part of a run (``--batch``): its requests, what it billed at the
    batch discount and what the same requests cost live."""

    batches: list[str] = Field(default_factory=list)
    requests: int = 0
    #: requests uploaded by this run (the rest were in batches an earlier run submitted)
    uploaded: int = 0
    failed: int = 0
    #: follow-up calls made live (repairs, parts of long articles, --fallback live)
    live_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    live_cost_usd: float | None = None


class RunReport(BaseModel):
    """What one run cost: model calls, cache hits, tokens, estimated dollars, seconds
    (built by :func:`briefing.usage.run_report`)."""

    articles: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: estimated from the price table; ``None`` when the model's price is unknown
    cost_usd: float | None = None
    seconds: float | None = None
    concurrency: int = 1
    #: the judge's share (``--verify-with``), not in the figures above
    judge: JudgeReport | None = None
    #: the Batch API's share (``--batch``): in the figures above, ``cost_usd`` at its price
    batch: BatchSummary | None = None


class Provenance(BaseModel):
    """Who wrote a summary, with which prompts and schema."""

    provider: str
    model: str
    prompt_version: str
    schema_version: str = SCHEMA_VERSION


#: "extractive": the model's output failed or could not be verified, so the headline,
#: summary and key points were taken from the article itself (see ``briefing.grounding``).
#: "partial": some parts of a long article could not be summarized; the summary covers
#: the rest and ``error`` says which parts are missing and why.
SummaryStatus = Literal["ok", "repaired", "partial", "failed", "extractive"]

# --------------------------------------------------------------------------- grounding

ClaimKind = Literal[
    "headline", "summary", "key_point", "quote", "figure",
    "country", "person", "organization", "region", "topic",
]  # fmt: skip
#: kept: verified, shown as fact; dropped: not shown; flagged: shown marked unverified;
#: replaced: swapped for source text (a headline for the title); corrected: region fixed.
ClaimAction = Literal["kept", "dropped", "flagged", "replaced", "corrected"]
UnsupportedPolicy = Literal["drop", "flag"]


class ClaimCheck(BaseModel):
    """The verification of one claim of a summary against its source article."""

    kind: ClaimKind
    text: str
    supported: bool
    #: the support score (0..1) where one applies (headline, summary, key points)
    score: float | None = None
    reason: str = ""
    action: ClaimAction
    #: the source sentences the claim was checked against (or cites)
    sentence_ids: list[int] = Field(default_factory=list)
    #: an exact check failed (a number, name or quote not in the source, a negation or
    #: hedge dropped, instruction-like text): no second opinion overrules it
    exact: bool = False


class GroundingReport(BaseModel):
    """What grounding checked in one summary and what it did with each claim."""

    checked: int = 0
    supported: int = 0
    dropped: int = 0
    flagged: int = 0
    #: headlines replaced by the title and regions corrected
    replaced: int = 0
    #: the headline, summary and key points were taken from the source
    extractive: bool = False
    extractive_reason: str | None = None
    unsupported: UnsupportedPolicy = "drop"
    threshold: float = 0.0
    claims: list[ClaimCheck] = Field(default_factory=list)


class Location(BaseModel):
    """Where a run of a document's sentences is: from sentence ``first`` on, under the
    heading ``heading`` ("Page 4", "Findings"); made by ``briefing.citations``."""

    model_config = ConfigDict(frozen=True)

    first: int
    heading: str


class ArticleSummary(BaseModel):
    """One article's summary, or the record of why it could not be summarized."""

    article_id: str
    title: str
    outlet: str | None = None
    url: str | None = None
    source: str = "-"
    published: dt.datetime | None = None
    status: SummaryStatus
    #: the model's validated output; ``None`` when ``status == "failed"``
    content: SummaryOutput | None = None
    error: str | None = None
    chunks: int = 1
    provenance: Provenance
    usage: Usage = Field(default_factory=Usage)
    #: taken from the run cache: no model call was made for it in this run
    cached: bool = False
    #: set by ``briefing.grounding.ground``: what was verified, dropped, flagged
    grounding: GroundingReport | None = None
    #: claims that failed verification kept for display marked "unverified" (flag mode);
    #: ``content`` itself only holds verified claims once grounded
    flagged: list[ClaimCheck] = Field(default_factory=list)
    #: the article's language (a BCP 47 primary tag) where ingest knew it
    language: str | None = None
    #: the document's pages or sections by sentence (``briefing.citations``); empty for
    #: an article without them
    locations: list[Location] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _without_unknowns(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """``language`` and ``locations`` only where known: a summary without them
        serializes as it did before they existed (caches, stored editions, digests)."""
        data: dict[str, Any] = handler(self)
        if data.get("language") is None:
            data.pop("language", None)
        if not data.get("locations"):
            data.pop("locations", None)
        return data

    @property
    def ok(self) -> bool:
        return self.content is not None


#: How a story stands against earlier editions (``briefing.continuity``): never seen,
#: seen with new verified facts, seen with nothing new.
ContinuityStatus = Literal["new", "update", "repeat"]
#: What a brief does with its repeats: leave them out, list them in one line each under
#: "Still developing", or keep them in full (marked).
RepeatsMode = Literal["omit", "list", "full"]


class TimelineEntry(BaseModel):
    """An earlier edition's telling of a developing story."""

    date: dt.date
    headline: str
    #: the latest publication time its sources gave (``None``: none gave one; never a
    #: time made up)
    published: dt.datetime | None = None


class Story(BaseModel):
    """One event, told by one or more articles (``summaries``: its sources, lead first).

    Built by ``briefing.stories.group_stories``; ``headline``, ``region``, ``importance``
    and ``countries`` are the story's own (see ``briefing.compose``)."""

    id: str
    headline: str
    region: Region
    importance: int = 0
    summaries: list[ArticleSummary]
    countries: list[str] = Field(default_factory=list)
    topic: str = ""
    #: the latest publication time among its sources
    published: dt.datetime | None = None
    #: set by ``briefing.continuity`` (``None``: not compared with earlier editions)
    continuity: ContinuityStatus | None = None
    #: the latest earlier edition that had this story
    previous_date: dt.date | None = None
    #: its verified key points that no earlier edition had (what an update leads with)
    new_points: list[KeyPoint] = Field(default_factory=list)
    #: earlier editions' tellings, oldest first (a story seen in two or more of them)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    #: the id the story had in the first edition that had it (the same every day)
    thread: str | None = None

    @property
    def lead(self) -> ArticleSummary:
        """The source whose summary the brief shows."""
        return self.summaries[0]

    @property
    def n_sources(self) -> int:
        return len(self.summaries)

    @classmethod
    def of(cls, summary: ArticleSummary, region: Region | None = None) -> Story:
        """A one-source story (its region: ``region``, else the summary's, else Global)."""
        content = summary.content
        return cls(
            id="s" + summary.article_id.removeprefix("a"),
            headline=content.headline if content else summary.title,
            region=region or (content.region if content else Region.GLOBAL),
            importance=content.importance if content else 0,
            summaries=[summary],
            countries=list(content.countries) if content else [],
            topic=content.topic if content else "",
            published=summary.published,
        )


class Section(BaseModel):
    """One region's part of the brief: its stories, most important first, and a short
    synthesis paragraph ("what it means", checked against the stories' summaries).

    ``Section(region=..., summaries=[...])`` still works: each summary becomes a story."""

    region: Region
    stories: list[Story] = Field(default_factory=list)
    synthesis: str | None = None
    #: why the synthesis asked for is missing (the model failed, the deadline or the
    #: budget stopped it); ``None`` when it was written or not asked for
    synthesis_error: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _summaries_to_stories(cls, data: Any) -> Any:
        if isinstance(data, dict) and "summaries" in data:
            data = dict(data)
            summaries = data.pop("summaries")
            if not data.get("stories"):
                region = data.get("region")
                data["stories"] = [
                    Story.of(ArticleSummary.model_validate(s), Region(region) if region else None)
                    for s in summaries
                ]
        return data

    @property
    def summaries(self) -> list[ArticleSummary]:
        """Every source of every story, in story order (not serialized: the stories
        hold them)."""
        return [summary for story in self.stories for summary in story.summaries]


class ContinuityReport(BaseModel):
    """How a brief's stories stand against the earlier editions it was compared with."""

    new: int = 0
    updates: int = 0
    repeats: int = 0
    repeats_mode: RepeatsMode = "list"
    #: the dates of the earlier editions compared with (newest first)
    compared: list[dt.date] = Field(default_factory=list)

    @property
    def line(self) -> str:
        """``5 new, 2 updates, 3 still developing`` (repeats left out: ``3 repeats left out``)."""
        parts = [f"{self.new} new", f"{self.updates} update" + ("" if self.updates == 1 else "s")]
        if self.repeats_mode == "omit":
            noun = "repeat" if self.repeats == 1 else "repeats"
            parts.append(f"{self.repeats} {noun} left out")
        else:
            parts.append(f"{self.repeats} still developing")
        return ", ".join(parts)


class Briefing(BaseModel):
    """A whole edition: sections by region plus what could not be summarized."""

    title: str = "Morning brief"
    date: dt.date
    generated_at: dt.datetime
    provider: str
    model: str
    prompt_version: str
    sections: list[Section]
    failed: list[ArticleSummary] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    #: calls, cache hits, tokens and estimated cost of the run that made this edition
    run: RunReport | None = None
    #: the lead section: the day's most important stories (they also stay in their section)
    top_stories: list[Story] = Field(default_factory=list)
    #: IANA zone the dates and times of the brief are shown in
    timezone: str = "UTC"
    #: the language the brief is written in
    language: str = "English"
    #: version of the synthesis prompts (``None``: no synthesis was asked for)
    synthesis_prompt_version: str | None = None
    #: stories seen before with nothing new, one line each under "Still developing"
    #: (``--repeats list``; they are in no section)
    developing: list[Story] = Field(default_factory=list)
    #: new / updates / repeats against earlier editions (``None``: not compared)
    continuity: ContinuityReport | None = None

    @property
    def story_count(self) -> int:
        return sum(len(s.stories) for s in self.sections)
