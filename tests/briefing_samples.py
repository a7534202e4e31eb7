"""Sample Briefings for the renderer tests: realistic, multilingual, hostile and large."""

from __future__ import annotations

import datetime as dt
import itertools

from briefing.models import (
    ArticleSummary,
    Briefing,
    Figure,
    KeyPoint,
    Provenance,
    Quote,
    Region,
    Section,
    SummaryOutput,
    SummaryStatus,
    Usage,
)

UTC = dt.UTC
EDITION = dt.date(2026, 11, 24)  # a Tuesday
PROVENANCE = Provenance(provider="openai", model="gpt-4o-mini", prompt_version="summarize-v3")

ARABIC_NAME = "Sa'īd al-Ṣaḥḥāf — سعيد الصحاف"
ACCENTED = "Nishori, Priština, Đoković"
HOSTILE_TITLE = '<script>alert("x")</script> Tom & Jerry\'s "deal" <b>bold</b>'

_STORIES: list[tuple[Region, str, str, str, str, list[str], list[tuple[str, str]], list[str]]] = [
    (
        Region.MIDDLE_EAST,
        "Reuters",
        f"{ARABIC_NAME} returns to Baghdad for talks on water sharing",
        "Iraq and Turkey open talks on Tigris flows",
        "Water",
        [
            "Iraq's former information minister arrived in Baghdad on Monday for talks.",
            "Turkey agreed to release more water from its dams during the summer.",
            "Farmers in Basra report the lowest river levels in forty years.",
        ],
        [("Sa'īd al-Ṣaḥḥāf", "We have come to talk, not to threaten.")],
        ["40 years|lowest river levels since", "500 m³/s|flow Iraq requests"],
    ),
    (
        Region.EUROPE,
        "Balkan Insight",
        f"Kosovo and Serbia trade accusations after border incident near {ACCENTED}",
        "Border incident strains Kosovo–Serbia talks",  # noqa: RUF001
        "Security",
        [
            "Police in Priština said two officers were injured near the crossing at Nishori.",
            "Belgrade denied any involvement and called for an EU investigation.",
        ],
        [
            ("Vjosa Osmani", "This was a planned provocation."),
            ("Novak Đoković", "Sport unites us."),
        ],
        ["2|officers injured"],
    ),
    (
        Region.EUROPE,
        "Le Monde",
        "Élysée unveils budget plan as deficit nears 5.8% of GDP",
        "France presents a tighter budget for 2027",
        "Economy",
        [
            "The government wants to cut spending by €40bn next year.",
            "Opposition parties threatened a no-confidence vote.",
        ],
        [],
        ["5.8%|deficit as a share of GDP", "€40bn|planned spending cuts"],
    ),
    (
        Region.AFRICA,
        "Daily Nation",
        "Kenya's central bank holds rates as shilling steadies",
        "Kenya keeps its benchmark rate at 10.75%",
        "Economy",
        ["The Central Bank of Kenya kept its benchmark rate unchanged at 10.75%."],
        [],
        [],
    ),
    (
        Region.ASIA_PACIFIC,
        "Nikkei Asia",
        "Typhoon Man-yi forces evacuation of 300,000 in the Philippines",
        "Typhoon forces mass evacuations in Luzon",
        "Disaster",
        [
            "Authorities evacuated more than 300,000 people from coastal Luzon.",
            "Flights in Manila were suspended for a second day.",
            "The weather agency warned of storm surges up to three metres.",
        ],
        [("Ferdinand Marcos Jr.", "No one should be left behind.")],
        ["300,000|people evacuated", "3 m|possible storm surge"],
    ),
    (
        Region.AMERICAS,
        "Folha de S.Paulo",
        "São Paulo approves metro expansion after two-year delay",
        "São Paulo metro line 6 approved",
        "Transport",
        [
            "The state assembly approved the financing of metro line 6.",
            "The line will connect Brasilândia to the city centre by 2029.",
        ],
        [],
        ["2029|planned opening"],
    ),
    (
        Region.GLOBAL,
        "AP",
        "UN climate talks end with a deal on adaptation finance",
        "COP31 agrees on adaptation finance",
        "Climate",
        [
            "Delegates agreed to triple adaptation finance by 2030.",
            "Small island states called the deal insufficient.",
        ],
        [("Mia Mottley", "Tripling from a small base is still small.")],
        ["3×|increase in adaptation finance"],  # noqa: RUF001
    ),
]


def _summary(index: int, *, status: SummaryStatus = "ok", title_suffix: str = "") -> ArticleSummary:
    region, outlet, title, headline, topic, points, quotes, figures = _STORIES[
        index % len(_STORIES)
    ]
    n = index + 1
    content = SummaryOutput(
        headline=headline if index < len(_STORIES) else f"{headline} ({n})",
        summary=" ".join(points[:2]) + " Officials said more details would follow this week.",
        key_points=[KeyPoint(text=p, sentence_ids=[i + 1]) for i, p in enumerate(points)],
        region=region,
        countries=["Iraq", "Türkiye"] if region == Region.MIDDLE_EAST else [],
        people=[q[0] for q in quotes],
        organizations=[],
        quotes=[Quote(speaker=s, text=t) for s, t in quotes],
        figures=[
            Figure(value=f.split("|")[0], what=f.split("|")[1], sentence_id=1) for f in figures
        ],
        topic=topic,
        importance=3,
    )
    return ArticleSummary(
        article_id=f"a{n:010d}",
        title=title + title_suffix,
        outlet=outlet,
        url=f"https://news.example.com/{n}/{topic.lower()}?ref=brief&utm_source=x",
        source=f"seeds/{n:03d}.html",
        published=dt.datetime(2026, 11, 23, 6 + index % 17, 5 * (index % 12), tzinfo=UTC),
        status=status,
        content=content,
        chunks=1,
        provenance=PROVENANCE,
        usage=Usage(calls=1, prompt_tokens=900 + n, completion_tokens=250),
    )


def _failed(n: int) -> ArticleSummary:
    return ArticleSummary(
        article_id=f"f{n:010d}",
        title=f"Unreadable wire copy #{n} about ports & tariffs",
        outlet="Wire",
        url=f"https://wire.example.com/{n}",
        source=f"seeds/failed-{n}.txt",
        status="failed",
        content=None,
        error="the model's output stayed invalid after a repair (missing 'headline')",
        provenance=PROVENANCE,
    )


def _group(summaries: list[ArticleSummary]) -> list[Section]:
    sections = []
    for region in Region:
        members = [s for s in summaries if s.content and s.content.region == region]
        if members:
            sections.append(Section(region=region, summaries=members))
    return sections


def _briefing(summaries: list[ArticleSummary], failed: list[ArticleSummary]) -> Briefing:
    usage = Usage()
    for s in itertools.chain(summaries, failed):
        usage = usage + s.usage
    return Briefing(
        date=EDITION,
        generated_at=dt.datetime(2026, 11, 24, 5, 30, tzinfo=UTC),
        provider=PROVENANCE.provider,
        model=PROVENANCE.model,
        prompt_version=PROVENANCE.prompt_version,
        sections=_group(summaries),
        failed=failed,
        usage=usage,
    )


def sample_briefing() -> Briefing:
    """Seven stories over six regions (one repaired), with two failures."""
    summaries = [_summary(i) for i in range(len(_STORIES))]
    summaries[2] = _summary(2, status="repaired")
    return _briefing(summaries, [_failed(1), _failed(2)])


def hostile_briefing() -> Briefing:
    """Titles, quotes and URLs that try to break out of their markup."""
    briefing = sample_briefing()
    story = briefing.sections[0].summaries[0]
    assert story.content is not None
    story.content.headline = HOSTILE_TITLE
    story.content.summary = "A summary with <img src=x onerror=alert(1)> and a *star* & [link](x)."
    story.content.quotes = [Quote(speaker='Eve "the" <i>hacker</i>', text="</p><script>1</script>")]
    story.title = HOSTILE_TITLE
    story.url = "javascript:alert(document.cookie)"
    briefing.failed[0].title = HOSTILE_TITLE
    briefing.failed[0].error = "<script>bad()</script>"
    return briefing


def empty_briefing() -> Briefing:
    """Nothing was summarized."""
    return _briefing([], [])


def edition_briefing() -> Briefing:
    """The sample day as an edition: a story told by two outlets, top stories and a
    synthesis paragraph per region (one of them hostile)."""
    briefing = sample_briefing()
    europe = briefing.sections[1]
    kosovo = europe.stories[0]
    second = _summary(1)
    second.article_id, second.outlet = "a_second_kosovo", "Reuters"
    second.url = "https://reuters.example.com/kosovo"
    kosovo.summaries.append(second)
    for section in briefing.sections:
        section.synthesis = f"What the {section.region.value} stories add up to, in brief."
    briefing.sections[0].synthesis = '<script>alert("s")</script> & *stars* [x](y)'
    briefing.top_stories = [
        kosovo,
        briefing.sections[0].stories[0],
        briefing.sections[2].stories[0],
    ]
    return briefing


def large_briefing(n: int = 200) -> Briefing:
    """``n`` stories, some with very long titles, plus a few failures."""
    long_suffix = (
        " — and a very long continuation of the headline that keeps going with"
        " Supercalifragilisticexpialidociouslylongunbrokenwordthatmustwrapsomehow"
    )
    summaries = [_summary(i, title_suffix=long_suffix if i % 9 == 0 else "") for i in range(n)]
    for s in summaries[::9]:
        assert s.content is not None
        s.content.headline = s.content.headline + long_suffix
    briefing = _briefing(summaries, [_failed(i) for i in range(1, 4)])
    briefing.top_stories = [section.stories[0] for section in briefing.sections[:3]]
    for section in briefing.sections:
        section.synthesis = "A paragraph on what the region's many stories have in common."
    return briefing
