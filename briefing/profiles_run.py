"""Many profiles in one run (``briefing brief --all-profiles``): every profile's brief
from one shared ingest, one cache and one summarizing pass, so an article that three
profiles read is summarized once — in one batch with ``--batch``, or one live pool.

Profiles are grouped by what a summary depends on besides the article (the model, its
server, the prompts and the brief's language); for each group the union of its
profiles' articles is summarized and grounded once, into the shared cache. Then each
profile's brief is built as a one-profile run would build it (its regions, time zone,
title, editions, synthesis), finding every summary in the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from briefing.errors import ConfigError

if TYPE_CHECKING:
    from briefing.models import Article
    from briefing.request import BriefRequest
    from briefing.runner import BriefRun, Loaded

log = logging.getLogger(__name__)


@dataclass
class ProfileBrief:
    request: BriefRequest
    run: BriefRun


def _group_key(request: BriefRequest) -> tuple[object, ...]:
    """What a summary depends on besides the article."""
    return (request.model, request.language)


def brief_all(
    requests: Sequence[BriefRequest],
    *,
    on_batch_progress: Callable[[str], None] | None = None,
    on_loaded: Callable[[str, Loaded], None] | None = None,
    keep_editions: bool = True,
) -> list[ProfileBrief]:
    """Each request's brief, the articles they share summarized once (``keep_editions``
    False: compared with the editions, not kept as ones, as for a dry run)."""
    from briefing.runner import Loaded, Runner

    if not requests:
        raise ConfigError("No profiles in the config file: add [profiles.NAME] tables.")
    cache_dirs = {r.run.cache_dir for r in requests}
    if len(cache_dirs) > 1:
        raise ConfigError("--all-profiles shares one cache: the profiles name different ones.")
    groups: dict[tuple[object, ...], list[BriefRequest]] = {}
    for request in requests:
        groups.setdefault(_group_key(request), []).append(request)
    loaded: dict[int, Loaded] = {}
    # one ingest: each profile's inputs (a file read by two profiles is parsed once,
    # the second time from the cache's parsed inputs)
    for request in requests:
        with Runner(request) as runner:
            loaded[id(request)] = runner.load()
        if on_loaded is not None:
            on_loaded(request.profile or "default", loaded[id(request)])
    results: list[ProfileBrief] = []
    for members in groups.values():
        union: dict[str, Article] = {}
        for request in members:
            union.update((a.id, a) for a in loaded[id(request)].articles)
        first = members[0]
        # one summarizing pass over the group's articles (one batch, or one live pool)
        shared = replace(first, inputs=(), synthesize=False, editions=False)
        with Runner(shared) as runner:
            runner.on_batch_progress = on_batch_progress
            runner.summaries(Loaded(list(union.values())))
            llm = runner.detach_llm()
        try:
            for request in members:
                with Runner(request, llm=llm) as runner:
                    runner.on_batch_progress = on_batch_progress
                    runner.keep_edition = keep_editions
                    run = runner.brief(loaded[id(request)])
                results.append(ProfileBrief(request, run))
        finally:
            llm.close()
    order = {id(r): i for i, r in enumerate(requests)}
    results.sort(key=lambda b: order[id(b.request)])
    return results
