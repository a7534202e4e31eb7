"""Every recorded cassette is free of secrets and replayable offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SECRET_HEADERS

CASSETTES = sorted((ROOT / "cassettes").rglob("*.yaml"))
KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+", re.IGNORECASE)


def test_there_are_cassettes() -> None:
    assert CASSETTES, "no cassettes recorded: run `make cassettes`"


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_cassette_holds_no_secrets(path: Path) -> None:
    text = path.read_text()
    assert not KEY_PATTERN.search(text)
    data = yaml.safe_load(text)
    for interaction in data["interactions"]:
        for part in ("request", "response"):
            headers = {h.lower() for h in interaction[part].get("headers", {})}
            assert not headers & set(SECRET_HEADERS), (path.name, part, headers)
            assert not any(h.startswith("x-stainless") for h in headers)
        assert interaction["request"]["uri"].startswith("http://127.0.0.1:")
