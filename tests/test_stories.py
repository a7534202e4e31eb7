"""Stories: the same event from two outlets is one story; different events stay apart."""

from __future__ import annotations

from seed_brief import seed_summaries

from briefing.models import ArticleSummary
from briefing.stories import STORY_THRESHOLD, group_stories, similarity_matrix, story_id


def rewrite(summary: ArticleSummary, *, outlet: str, article_id: str) -> ArticleSummary:
    """The Iraq story as a second outlet would write it: same facts, other words."""
    assert summary.content is not None
    content = summary.content.model_copy(
        update={
            "headline": "Iraq fears being dragged into the Israel-Iran war",
            "summary": (
                "Analyst Sajad Jiyad said there is a sizable risk of a spillover escalation in"
                " Iraq, an ally of Iran and a partner of the United States. Pro-Iran armed"
                " groups in Iraq could target US troops if Washington backs Israel's strikes,"
                " he warned."
            ),
            "key_points": summary.content.key_points[:1],
        }
    )
    return summary.model_copy(
        update={"content": content, "outlet": outlet, "article_id": article_id}
    )


def test_threshold_is_documented() -> None:
    import briefing.stories

    assert STORY_THRESHOLD == 0.3
    assert "STORY_THRESHOLD = 0.3" in (briefing.stories.__doc__ or "")


def test_different_events_on_the_same_day_stay_apart() -> None:
    summaries = seed_summaries()
    sims = similarity_matrix(summaries)
    off_diagonal = [sims[i][j] for i in range(4) for j in range(4) if i != j]
    assert max(off_diagonal) < 0.1  # two Iraq stories, an Israel/Iran analysis, Kosovo
    groups = group_stories(summaries)
    assert len(groups) == 4 and all(len(g) == 1 for g in groups)


def test_same_event_from_two_outlets_is_one_story() -> None:
    summaries = seed_summaries()
    second = rewrite(summaries[0], outlet="Reuters", article_id="a_reuters")
    sims = similarity_matrix([summaries[0], second])
    assert sims[0][1] >= STORY_THRESHOLD + 0.05  # 0.38 alone, 0.44 among the day
    groups = group_stories([*summaries, second])
    assert len(groups) == 4
    [iraq] = [g for g in groups if len(g) == 2]
    assert {s.outlet for s in iraq} == {"AFP", "Reuters"}
    assert iraq[0].article_id == summaries[0].article_id  # the most important leads


def test_disjoint_countries_never_merge() -> None:
    summaries = seed_summaries()
    second = rewrite(summaries[0], outlet="Reuters", article_id="a_reuters")
    assert second.content is not None
    second.content.countries = ["Kosovo"]
    assert similarity_matrix([summaries[0], second])[0][1] == 0.0


def test_grouping_is_deterministic_and_ids_are_stable() -> None:
    summaries = seed_summaries()
    first = [[s.article_id for s in g] for g in group_stories(summaries)]
    again = [[s.article_id for s in g] for g in group_stories(list(reversed(summaries)))]
    assert sorted(first) == sorted(again)
    assert story_id(summaries[:2]) == story_id(summaries[1::-1])


def test_failed_summaries_are_not_stories() -> None:
    summaries = seed_summaries()
    summaries[1] = summaries[1].model_copy(update={"content": None, "status": "failed"})
    assert sum(len(g) for g in group_stories(summaries)) == 3
