"""Three days of a developing story, built by the real pipeline with a faithful fake model.

Day 1: the four seed articles, Slovenia's floods, a ferry accident in Bangladesh.
Day 2: day 1's articles again, a follow-up of the floods adding facts (the death toll
rises, EU aid), and a new story (a wildfire in Chile). Day 3: day 2's, and the floods'
clean-up. The articles are in ``tests/data/editions`` (wire-style, realistic text).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from pathlib import Path

from briefing.llm.base import Message
from briefing.llm.fake import FakeLLM, faithful_reply
from briefing.regions import countries_in_text
from briefing.request import BriefRequest
from briefing.runner import BriefRun, Runner
from briefing.settings import RunSettings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "editions"
SEED = ROOT / "seeds" / "000_69d1e78211fb2cff.txt"
DAY1, DAY2, DAY3 = dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 2)
INPUTS = {
    DAY1: [SEED, DATA / "day1"],
    DAY2: [SEED, DATA / "day1", DATA / "day2"],
    DAY3: [SEED, DATA / "day1", DATA / "day2", DATA / "day3"],
}
_SENTENCE = re.compile(r"^\[\d+\] (.+)$", re.MULTILINE)
_TITLE = re.compile(r"^Title: (.+)$", re.MULTILINE)


def reply(messages: Sequence[Message]) -> str:
    """A faithful summary (the article's first sentences) naming the article's countries."""
    prompt = messages[-1].content
    data = json.loads(faithful_reply(prompt))
    title = _TITLE.search(prompt)
    text = (title.group(1) if title else "") + "\n" + " ".join(_SENTENCE.findall(prompt))
    data["countries"] = countries_in_text(text)[:6]
    return json.dumps(data)


def fake_llm(n: int = 40) -> FakeLLM:
    return FakeLLM().enqueue(*[reply] * n)


def request_for(
    tmp_path: Path,
    date: dt.date,
    inputs: Sequence[Path] | None = None,
    **fields: object,
) -> BriefRequest:
    settings = {
        "inputs": tuple(str(p) for p in (inputs if inputs is not None else INPUTS[date])),
        "date": date,
        "synthesize": False,
        "editions": True,
        "editions_db": tmp_path / "editions.sqlite3",
        "run": RunSettings(cache_dir=tmp_path / "cache"),
    }
    settings.update(fields)
    return BriefRequest(**settings)  # type: ignore[arg-type]


def run_day(tmp_path: Path, date: dt.date, **fields: object) -> BriefRun:
    """The brief of ``date`` over that day's inputs, kept in ``tmp_path``'s store."""
    with Runner(request_for(tmp_path, date, **fields), llm=fake_llm()) as runner:
        return runner.brief()
