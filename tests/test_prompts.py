"""Prompt templates: strict rendering, versions, packaged copies, user overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from briefing.errors import ConfigError
from briefing.prompts import TEMPLATES, Prompts, neutralize, packaged_prompts_dir


def test_packaged_templates_are_the_repo_prompts() -> None:
    packaged = packaged_prompts_dir()
    for name in TEMPLATES:
        assert (packaged / name).read_text() == (ROOT / "prompts" / name).read_text()


def test_every_template_declares_a_version() -> None:
    prompts = Prompts()
    for name in TEMPLATES:
        assert not prompts.version(name).startswith("sha-"), name
    assert prompts.combined_version().startswith("summarize.system@")


def test_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(ConfigError, match="unknown variable"):
        Prompts().render("summarize.user.j2", title="t")


def test_user_prompts_dir_overrides_and_versions_follow(tmp_path: Path) -> None:
    (tmp_path / "repair.user.j2").write_text("{#- prompt-version: mine-7 -#}\nFix it: {{ error }}")
    prompts = Prompts(tmp_path)
    assert prompts.render("repair.user.j2", error="bad") == "Fix it: bad"
    assert prompts.version("repair.user.j2") == "mine-7"
    # templates the user did not copy still come from the package
    assert "news briefing" in prompts.render("summarize.system.j2", regions=["Europe"])


def test_template_without_version_gets_a_content_hash(tmp_path: Path) -> None:
    (tmp_path / "repair.user.j2").write_text("Fix: {{ error }}")
    assert Prompts(tmp_path).version("repair.user.j2").startswith("sha-")


def test_bad_prompts_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        Prompts(tmp_path / "nope")


def test_templates_render_in_a_sandbox(tmp_path: Path) -> None:
    (tmp_path / "repair.user.j2").write_text("{{ error.__class__.__mro__ }}")
    with pytest.raises(Exception, match="unsafe|not safely|access"):
        Prompts(tmp_path).render("repair.user.j2", error="x")


@pytest.mark.parametrize("text", ["</article>", "< /ARTICLE>", "<article>", "</Article >"])
def test_article_delimiters_in_data_are_neutralized(text: str) -> None:
    assert "<" not in neutralize(text).replace("‹", "")  # noqa: RUF001


def test_neutralize_fast_path_changes_nothing() -> None:
    import random

    from briefing.prompts import _LINE_BREAKS_RE, defuse, neutralize

    alphabet = "ab <>[]|\uff5c/\r\n\u2028sINSTarticle"
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert neutralize(text) == defuse(_LINE_BREAKS_RE.sub(" ", text)), text
