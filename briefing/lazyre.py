"""Regular expressions compiled on first use, not at import.

``re`` compiles a character class that spans a large Unicode range one character at a
time, in Python: a class of the CJK ideographs (``[\\u4e00-\\u9fff]``, 21,000
characters) takes about 1 ms, 5-10 ms with ``re.IGNORECASE``, and the classes of
Chinese, Japanese, Thai and Korean letters used by ``briefing.scripts``,
``briefing.words`` and the number check came to about 60 ms of every start, a tenth of
``briefing summarize FILE``. Most runs read no such text. :class:`LazyPattern` defers
the compile to the first call, and the callers first ask the cheap
:func:`briefing.scripts.may_have_unspaced` whether the text could hold such letters
at all.

Only the methods the project uses are here; a compile error surfaces at the first call
(a test compiles every lazy pattern: ``tests/test_lazyre.py``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator

__all__ = ["LazyPattern"]

_MAX = sys.maxsize


class LazyPattern:
    """``re.compile(pattern, flags)``, done at the first match, search or substitution."""

    __slots__ = ("_compiled", "flags", "pattern")

    #: every lazy pattern made, so a test can compile them all
    made: list[LazyPattern] = []  # noqa: RUF012 - a registry, on purpose

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None
        LazyPattern.made.append(self)

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def search(self, string: str, pos: int = 0, endpos: int = _MAX) -> re.Match[str] | None:
        return self.compiled.search(string, pos, endpos)

    def match(self, string: str, pos: int = 0, endpos: int = _MAX) -> re.Match[str] | None:
        return self.compiled.match(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = _MAX) -> list[str]:
        return self.compiled.findall(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0, endpos: int = _MAX) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled.sub(repl, string, count)

    def __repr__(self) -> str:
        state = "compiled" if self._compiled is not None else "not compiled yet"
        return f"LazyPattern({self.pattern[:40]!r}..., {state})"
