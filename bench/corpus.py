"""Deterministic synthetic news articles for benchmarks (seeded; realistic lengths).

Lengths follow a log-normal with a median of about 700 and a mean of about 1,000
o200k tokens, as real articles do; sentences come from news-like templates.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

PLACES = [
    ("Baghdad", "Iraq"), ("Nairobi", "Kenya"), ("Berlin", "Germany"), ("Lima", "Peru"),
    ("Jakarta", "Indonesia"), ("Warsaw", "Poland"), ("Dakar", "Senegal"), ("Manila", "Philippines"),
    ("Ankara", "Turkey"), ("Bogota", "Colombia"), ("Hanoi", "Vietnam"), ("Madrid", "Spain"),
    ("Accra", "Ghana"), ("Santiago", "Chile"), ("Seoul", "South Korea"), ("Rabat", "Morocco"),
]  # fmt: skip
PEOPLE = [
    "Amira Haddad", "John Okafor", "Lena Fischer", "Carlos Mendoza", "Siti Rahma",
    "Piotr Nowak", "Awa Diop", "Miguel Santos", "Emre Yilmaz", "Ana Restrepo",
    "Nguyen Van An", "Lucia Romero", "Kwame Mensah", "Sofia Vidal", "Kim Min-jun",
]  # fmt: skip
ORGS = [
    "the finance ministry", "the central bank", "the electoral commission", "the United Nations",
    "the World Bank", "the health ministry", "the opposition party", "the transport union",
    "the national assembly", "the Red Cross", "the energy regulator", "the supreme court",
]  # fmt: skip
TOPICS = [
    ("budget", "spending plan"), ("election", "vote"), ("drought", "water shortage"),
    ("strike", "walkout"), ("floods", "emergency"), ("trade deal", "agreement"),
    ("power cuts", "grid failure"), ("reform", "bill"), ("ceasefire", "truce"),
]  # fmt: skip
TEMPLATES = [
    "Officials in {city} said on {day} that the {topic} would affect about {n} people "
    "across {country}, according to figures released by {org}.",
    '"We are doing everything we can to limit the damage," {person} told reporters in '
    "{city}, adding that talks with {org} would continue next week.",
    "The {alt} comes after months of tension between the government and {org}, which has "
    "accused ministers of ignoring warnings issued as early as {year}.",
    "Analysts said the cost could reach {money} million dollars, roughly {pct} percent "
    "more than the estimate published by {org} in {month}.",
    "In the outskirts of {city}, residents described long queues and rising prices, with "
    "some families saying they had waited {n2} days for help.",
    "{person}, who has led {org} since {year}, said the {topic} showed how fragile the "
    "situation in {country} had become.",
    "Neighbouring governments have offered support, but diplomats in {city} cautioned that "
    "any agreement on the {alt} would take time to put into practice.",
    "The figures, which could not be independently verified, show {n} cases in {month} "
    "alone, up from {n2} a year earlier.",
    "Critics argue the measures announced on {day} do little to address the causes of the "
    "{topic}, and opposition lawmakers have called for an inquiry.",
    "Markets in {country} fell {pct} percent after the announcement before recovering "
    "part of the losses by the close of trading.",
    "{person} said the plan would be reviewed by {org} before a final vote expected in "
    "{month}.",
    "Aid workers said access to the worst-hit areas near {city} remained difficult "
    "because of damaged roads and continuing insecurity.",
]  # fmt: skip
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "April", "June", "August", "October", "November"]
MEDIAN_TOKENS = 750
SIGMA = math.sqrt(2 * math.log(1000 / 700))  # mean 1,000 for a median of 700


def _sentence(rng: random.Random, city: str, country: str, topic: tuple[str, str]) -> str:
    return rng.choice(TEMPLATES).format(
        city=city,
        country=country,
        topic=topic[0],
        alt=topic[1],
        person=rng.choice(PEOPLE),
        org=rng.choice(ORGS),
        day=rng.choice(DAYS),
        month=rng.choice(MONTHS),
        year=rng.randint(2015, 2024),
        n=f"{rng.randint(2, 900) * 1000:,}",
        n2=rng.randint(2, 40),
        money=rng.randint(5, 950),
        pct=rng.randint(2, 35),
    )


def make_articles(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` (title, body) pairs; the body's paragraphs are separated by blank lines."""
    from briefing.tokens import count_tokens

    rng = random.Random(seed)
    articles: list[tuple[str, str]] = []
    for i in range(n):
        city, country = rng.choice(PLACES)
        topic = rng.choice(TOPICS)
        target = min(4000, max(200, int(rng.lognormvariate(math.log(MEDIAN_TOKENS), SIGMA))))
        title = f"{country} {topic[0]} deepens as {city} braces for more disruption (report {i})"
        paragraphs: list[str] = []
        tokens = 0
        while tokens < target:
            paragraph = " ".join(
                _sentence(rng, city, country, topic) for _ in range(rng.randint(2, 4))
            )
            paragraphs.append(paragraph)
            tokens += count_tokens(paragraph)
        articles.append((title, "\n\n".join(paragraphs)))
    return articles


def write_articles(articles: list[tuple[str, str]], directory: Path) -> list[Path]:
    """One text file per article: the title line, a blank line, the paragraphs."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (title, body) in enumerate(articles):
        path = directory / f"{i:04d}.txt"
        path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        paths.append(path)
    return paths
