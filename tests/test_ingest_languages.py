"""News in other scripts: Japanese, Chinese, Korean, Thai, Arabic, Hebrew and Russian
articles are kept (not taken for site furniture), split into the right sentences, and
tagged with their language; and the later stages (de-duplication, extractive ranking,
grounding, chunking) compare Chinese, Japanese and Thai by character bigrams
(``briefing.words``), not by whole clauses."""

# ruff: noqa: RUF001  (the scripts under test)
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.chunking import PER_SENTENCE_OVERHEAD, chunk_sentences
from briefing.cli import cli
from briefing.extractive import (
    HEADLINE_MAX,
    extract,
    extractive_output,
    headline_from,
    rank_sentences,
)
from briefing.grounding import Source, check_text, ground
from briefing.ingest import DEFAULT_THRESHOLD, dedupe, load_articles, similarity
from briefing.ingest.language import detect_language
from briefing.models import (
    Article,
    ArticleSummary,
    KeyPoint,
    Provenance,
    Region,
    Sentence,
    SummaryOutput,
)
from briefing.scripts import dominant_script, word_count
from briefing.sentences import sentence_texts, split_sentences
from briefing.stories import STORY_THRESHOLD, features
from briefing.stories import similarity as story_similarity

JA = [
    "日本銀行は１日、金融政策決定会合を開き、政策金利を０．５％から０．７５％に引き上げることを決めた。",
    "利上げは今年３月以来となる。",
    "植田和男総裁は記者会見で「物価目標の実現が見通せる状況になった。」と述べた。",
    "市場では年内の利上げを予想する声が多かった一方、住宅ローン金利の上昇を懸念する声も出ている！",
    "政府は今回の決定をどう受け止めるのか？",
]
ZH = [
    "国务院总理今天在北京主持召开国务院常务会议，研究部署进一步稳定经济的措施。",
    "会议指出，要加大宏观政策调控力度，扩大国内需求！",
    "专家认为，随着各项政策落地见效，经济有望在明年上半年企稳回升。",
    "“我们有信心实现全年目标。”国家发改委发言人表示。",
]
KO = [
    "정부는 5일 국무회의를 열고 총 21조 원 규모의 경제 대책을 확정했다.",
    "이번 대책에는 소상공인 지원과 전기요금 인하가 포함됐다.",
    "야당은 재정 건전성을 해칠 수 있다며 반발했다.",
    "전문가들은 효과가 얼마나 지속될지 지켜봐야 한다고 말했다.",
]
TH = [
    "นายกรัฐมนตรีแถลงข่าวที่ทำเนียบรัฐบาลเมื่อวันจันทร์ว่ารัฐบาลจะออกมาตรการใหม่",
    "เพื่อช่วยเหลือเกษตรกรที่ได้รับผลกระทบจากน้ำท่วมในภาคเหนือและภาคอีสาน",
    "คณะรัฐมนตรีอนุมัติงบประมาณ 5,000 ล้านบาทสำหรับโครงการนี้แล้วเมื่อสัปดาห์ที่ผ่านมา",
]
AR = [
    "أعلنت الحكومة العراقية يوم الاثنين عن خطة جديدة لدعم الاقتصاد بقيمة مليار دولار.",
    "وقال وزير المالية إن الخطة ستشمل قروضا ميسرة للشركات الصغيرة.",
    "هل ستنجح الخطة في خفض البطالة؟",
    "يأمل المسؤولون أن تظهر النتائج الأولى قبل نهاية العام.",
]
HE = [
    "הממשלה אישרה הלילה את תקציב המדינה לשנת 2027 לאחר דיון ממושך.",
    "שר האוצר אמר כי מדובר בתקציב אחראי שיסייע לצמיחה.",
    "האופוזיציה תקפה את ההחלטה וטענה כי היא פוגעת במעמד הביניים.",
]
RU = [
    "Президент России заявил в понедельник, что переговоры о поставках газа продолжатся.",
    "В 1991 г. Советский Союз распался, напомнил он журналистам.",
    "Бюджет программы составит 5 млн. рублей, т.е. больше прежнего.",
    "Однако эксперты сомневаются в её эффективности.",
]
TITLES = {
    "ja": "日銀、追加利上げを決定　物価上昇の継続受け",
    "zh": "国务院部署稳经济新措施",
    "ko": "정부, 21조 원 규모 경제 대책 확정",
    "th": "รัฐบาลออกมาตรการช่วยเหลือเกษตรกรน้ำท่วม",
    "ar": "الحكومة العراقية تعلن خطة لدعم الاقتصاد",
    "he": "הממשלה אישרה את תקציב המדינה",
    "ru": "Переговоры о поставках газа продолжатся",
}
CASES = {"ja": JA, "zh": ZH, "ko": KO, "th": TH, "ar": AR, "he": HE, "ru": RU}
#: how each script separates sentences inside a paragraph
JOIN = {"ja": "", "zh": ""}


def article_text(language: str) -> str:
    sentences = CASES[language]
    half = len(sentences) // 2
    join = JOIN.get(language, " ")
    return f"{TITLES[language]}\n\n{join.join(sentences[:half])}\n\n{join.join(sentences[half:])}\n"


@pytest.mark.parametrize("language", sorted(CASES))
def test_sentences_split_in_every_script(language: str) -> None:
    sentences = CASES[language]
    assert sentence_texts(JOIN.get(language, " ").join(sentences)) == sentences


@pytest.mark.parametrize("language", sorted(CASES))
def test_articles_in_every_script_are_kept_split_and_tagged(tmp_path: Path, language: str) -> None:
    path = tmp_path / f"{language}.txt"
    path.write_text(article_text(language), encoding="utf-8")
    [article] = load_articles([path])
    assert article.title == " ".join(TITLES[language].split())
    assert [s.text for s in article.sentences] == CASES[language]
    assert article.language == language


def test_a_directory_of_articles_in_six_scripts_keeps_every_one(tmp_path: Path) -> None:
    for language in CASES:
        (tmp_path / f"{language}.txt").write_text(article_text(language), encoding="utf-8")
    articles = load_articles([tmp_path])
    assert sorted(a.language or "" for a in articles) == sorted(CASES)


def test_briefing_extract_keeps_a_japanese_story(tmp_path: Path) -> None:
    path = tmp_path / "nikkei.txt"
    path.write_text(article_text("ja"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(path), "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["title"] == TITLES["ja"].replace("\u3000", " ")
    assert row["language"] == "ja"
    assert "植田和男総裁" in row["text"]


def test_word_counts_use_characters_where_there_are_no_spaces() -> None:
    assert word_count("The talks resume on Monday") == 5
    assert word_count("利上げは今年３月以来となる。") == 7  # 13 CJK characters, 2 a word
    assert word_count("Toyota の新型 EV") == 4  # two Latin words and 3 CJK characters
    assert 10 <= word_count(TH[0]) <= 25
    assert dominant_script(JA[0]) == "kana" and dominant_script(ZH[0]) == "han"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The government said on Monday that the talks would resume in Geneva.", "en"),
        ("Le gouvernement a annoncé lundi que les négociations reprendraient à Genève.", "fr"),
        (" ".join(RU), "ru"),
        (" ".join(AR), "ar"),
        ("".join(ZH), "zh"),
        ("".join(JA), "ja"),
        (" ".join(KO), "ko"),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_a_brief_detects_languages_without_the_model(tmp_path: Path) -> None:
    """The model (1-1.5 s to load) runs for `extract`, not for a brief, which does not
    use the articles' languages yet: there, only script and function words decide."""
    import subprocess
    import sys

    page = tmp_path / "id.txt"
    page.write_text(
        "Banjir melanda Jakarta\n\nBanjir besar melanda beberapa wilayah di Jakarta pada "
        "hari Minggu, kata pejabat setempat. Ribuan warga terpaksa mengungsi ke tempat "
        "yang lebih aman. Pemerintah kota menyiapkan dapur umum dan perahu karet untuk "
        "membantu warga yang terjebak banjir.\n",
        encoding="utf-8",
    )
    program = (
        "import sys\n"
        "from briefing.runner import load\n"
        f"[a] = load([{str(page)!r}], language_model=False).articles\n"
        "assert a.language is None, a.language\n"
        "assert 'py3langid' not in sys.modules\n"
        f"[b] = load([{str(page)!r}]).articles\n"
        "assert b.language == 'id', b.language\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


# -- later stages: word units (briefing.words) in scripts without spaces ---------------

#: A Japanese wire story, a second outlet's copy of it (small edits in most sentences:
#: a new lead, 語った for 述べた, a figure changed, the last sentence left out, a credit
#: line added) and a different story on the same topic. Compared by whole clauses (the
#: old "words") the copy scored 0.08 (the Chinese one 0.14): every edited clause was a
#: new word; by bigrams 0.64.
BOJ = [
    "日本銀行は１日、金融政策決定会合を開き、政策金利を０．５％から０．７５％に引き上げることを決めた。",
    "利上げは今年３月以来となる。",
    "植田和男総裁は記者会見で「物価目標の実現が見通せる状況になった。」と述べた。",
    "消費者物価指数は２年以上にわたって日銀が目標とする２％を上回っている。",
    "今年の春闘では平均５．２％の賃上げが実現し、賃金と物価の好循環が強まっているとの判断が背景にある。",
    "市場では年内の利上げを予想する声が多かった一方、住宅ローン金利の上昇を懸念する声も出ている。",
    "決定を受けて東京外国為替市場では円相場が一時１ドル＝１４５円台まで上昇した。",
    "日経平均株価は前日比で４００円あまり値下がりして取引を終えた。",
    "政府関係者は「日銀の判断を尊重する」と話している。",
    "次回の会合は１２月に開かれる予定だ。",
]
BOJ_COPY = [
    "日銀は１日に開いた金融政策決定会合で、政策金利を０．５％から０．７５％に引き上げることを決めた。",
    "利上げは今年３月以来。",
    "植田和男総裁は会見で「物価目標の実現が見通せる状況になった。」と語った。",
    "消費者物価指数は２年以上にわたり日銀が目標とする２％を上回っている。",
    BOJ[4],
    "市場では年内の利上げを予想する声が多かった一方、住宅ローン金利の上昇を懸念する声も出ていた。",
    BOJ[6],
    "日経平均株価は前日比で４２０円あまり値下がりして取引を終えた。",
    "政府関係者は「日銀の判断を尊重する」と話した。",
    "（共同通信）",
]
PACKAGE = [
    "政府は２１日の臨時閣議で、物価高に対応するための総合経済対策を決定した。",
    "財政支出は２１兆円規模で、電気・ガス料金の補助や低所得世帯への給付金が柱となる。",
    "首相は「国民の暮らしを守るため、あらゆる手段を講じる。」と強調した。",
    "対策の財源の多くは国債の追加発行で賄われる見通しだ。",
    "野党は「選挙目当てのばらまきだ」と批判している。",
    "エコノミストの間では、物価上昇を一段と押し上げるおそれがあるとの指摘もある。",
    "政府は補正予算案を今月中に国会に提出する方針だ。",
    "日本銀行の金融政策への影響も注目されている。",
]
GDP = [
    "国家统计局15日发布数据显示，今年前三季度国内生产总值同比增长4.8%。",
    "其中，第三季度经济增长4.6%，增速比第二季度有所放缓。",
    "国家统计局发言人在新闻发布会上表示，国民经济运行总体平稳、稳中有进。",
    "前三季度，全国居民人均可支配收入实际增长4.9%，与经济增长基本同步。",
    "社会消费品零售总额同比增长3.3%，其中服务零售额增长较快。",
    "分析人士认为，房地产市场持续低迷仍是拖累经济的主要因素。",
    "随着一揽子增量政策陆续出台，市场信心有所回升。",
    "多家国际机构预计，中国全年经济增长有望达到5%左右的预期目标。",
]
GDP_COPY = [
    "国家统计局周二公布的数据显示，今年前三季度国内生产总值同比增长4.8%。",
    "其中，三季度经济增长4.6%，增速比二季度有所放缓。",
    "国家统计局新闻发言人在发布会上表示，国民经济运行总体平稳、稳中有进。",
    *GDP[3:5],
    "分析人士指出，房地产市场持续低迷仍是拖累经济的主要因素。",
    GDP[6],
    "多家国际机构预计，中国全年经济增长有望实现5%左右的预期目标。",
]


def _article(title: str, sentences: list[str], source: str) -> Article:
    return Article(title=title, text="".join(sentences), source=source)


def test_dedupe_merges_a_japanese_copy_and_keeps_another_story_apart() -> None:
    original = _article("日銀、追加利上げを決定", BOJ, "kyodo.txt")
    copy = _article("日銀が利上げ決定", BOJ_COPY, "jiji.txt")
    other = _article("政府、総合経済対策を決定", PACKAGE, "nhk.txt")
    assert similarity(original.text, copy.text) >= DEFAULT_THRESHOLD
    assert similarity(original.text, other.text) < 0.05
    kept = dedupe([original, copy, other])
    assert [a.source for a in kept] == ["kyodo.txt", "nhk.txt"]
    assert [ref.source for ref in kept[0].also_in] == ["jiji.txt"]


def test_dedupe_merges_a_chinese_copy() -> None:
    original = _article("前三季度GDP增长4.8%", GDP, "xinhua.txt")
    copy = _article("中国前三季度经济增长4.8%", GDP_COPY, "chinanews.txt")
    assert similarity(original.text, copy.text) >= DEFAULT_THRESHOLD
    assert len(dedupe([original, copy, _article("x", ZH, "zh.txt")])) == 2


def test_extractive_ranking_of_a_japanese_article_picks_distinct_central_sentences() -> None:
    text = "".join([*BOJ, "日銀は１日、政策金利を０．５％から０．７５％に引き上げることを決めた。"])
    sentences = split_sentences(text)
    assert len(sentences) == 11
    picked = extract(sentences, "日銀、追加利上げを決定", n=3)
    ids = [s.id for s in picked]
    assert len(ids) == 3 and ids == sorted(ids)
    assert ids[0] == 1  # the lead: central, on the title's subject
    assert 11 not in ids  # the restated lead is redundant with it
    ranked = rank_sentences(sentences, "日銀、追加利上げを決定")
    assert len(ranked) == 11  # every sentence has enough units to rank (none did before)


def test_extractive_output_of_a_chinese_article_and_its_headline_cap() -> None:
    long_lead = "，".join(s.rstrip("。") for s in GDP[:4]) + "。"  # 134 characters
    sentences = split_sentences("".join([long_lead, *GDP[4:]]))
    article = Article(title="", text="", sentences=sentences)
    out = extractive_output(article, sentences)
    assert out is not None
    assert len(out.headline) <= HEADLINE_MAX and out.headline.endswith("\u2026")
    assert len(out.headline) > HEADLINE_MAX - 10  # cut at a character, not at a word
    assert long_lead.startswith(out.headline[:-1])
    assert out.summary and all(k.text in [s.text for s in sentences] for k in out.key_points)
    texts = [out.summary, *(k.text for k in out.key_points)]
    assert len(set(texts)) == len(texts)
    spaced = headline_from("日銀、追加利上げを決定\u3000" + "".join(BOJ[:3]), [])
    assert len(spaced) <= HEADLINE_MAX and len(spaced) > 100


def _source(language: str) -> Source:
    text = "".join(CASES[language]) if language in JOIN else " ".join(CASES[language])
    return Source.of(Article(title=TITLES[language], text=text), split_sentences(text))


GROUNDING = {
    "ja": [
        (1, JA[0], True),
        (1, "日本銀行は政策金利を０．５％から０．７５％に引き上げることを決めた。", True),
        (1, "日銀は１日の金融政策決定会合で、政策金利を０．７５％に引き上げると決めた。", True),
        (1, "日本銀行は１日、政策金利を０．５％から１．２５％に引き上げることを決めた。", False),
        (3, "黒田東彦総裁は記者会見で「物価目標の実現が見通せる状況になった。」と述べた。", False),
        (1, "日本銀行は１日、政策金利を引き下げることを決めた。", False),
    ],
    "zh": [
        (1, ZH[0], True),
        (1, "国务院总理在北京主持召开常务会议，研究进一步稳定经济的措施。", True),
        (1, "国务院总理今天在上海主持召开国务院常务会议，研究部署进一步稳定经济的措施。", False),
        (3, "专家认为，经济有望在明年上半年企稳回升。", True),
        (3, "专家认为，经济有望在2027年上半年企稳回升。", False),
    ],
    "th": [
        (3, TH[2], True),
        (3, "คณะรัฐมนตรีอนุมัติงบประมาณ 5,000 ล้านบาทสำหรับโครงการนี้แล้ว", True),
        (3, "คณะรัฐมนตรีอนุมัติงบประมาณ 8,000 ล้านบาทสำหรับโครงการนี้แล้ว", False),
        (1, "รัฐมนตรีกลาโหมแถลงข่าวที่ทำเนียบรัฐบาลเมื่อวันจันทร์ว่ารัฐบาลจะออกมาตรการใหม่", False),
    ],
}


@pytest.mark.parametrize(
    ("language", "case"),
    [(lang, i) for lang, cases in GROUNDING.items() for i in range(len(cases))],
)
def test_grounding_of_key_points_without_spaces(language: str, case: int) -> None:
    """Copies and light paraphrases of the cited sentence hold; a changed figure, name,
    place or direction ("引き下げ", a cut, for "引き上げ", a rise) does not."""
    sid, text, supported = GROUNDING[language][case]
    ok, score, reason, ids = check_text(text, _source(language), [sid])
    assert ok is supported, reason
    assert ids == [sid] and score is not None
    if not supported:
        assert "number not in the source" in reason or "words not in the source" in reason


def test_ground_keeps_a_faithful_japanese_summary_and_drops_invented_points() -> None:
    text = "".join(JA)
    article = Article(title=TITLES["ja"], text=text, sentences=split_sentences(text))
    content = SummaryOutput(
        headline="日銀が政策金利を０．７５％に引き上げ",
        summary=JA[0],
        key_points=[
            KeyPoint(text="利上げは今年３月以来となる。", sentence_ids=[2]),
            KeyPoint(
                text="植田総裁は物価目標の実現が見通せる状況になったと述べた。", sentence_ids=[3]
            ),
            KeyPoint(text="日銀は国債の買い入れを停止することも決めた。", sentence_ids=[1]),
        ],
        region=Region.ASIA_PACIFIC,
        countries=[],
        people=[],
        organizations=[],
        quotes=[],
        figures=[],
        topic="economy",
        importance=3,
    )
    summary = ArticleSummary(
        article_id=article.id,
        title=article.title,
        source="nikkei.txt",
        status="ok",
        content=content,
        provenance=Provenance(provider="fake", model="fake-model", prompt_version="t"),
    )
    result = ground(summary, article)
    assert result.content is not None and result.status == "ok"
    assert result.content.summary == JA[0]
    assert [k.sentence_ids for k in result.content.key_points] == [[2], [3]]


def test_chunking_a_long_japanese_article_at_sentence_boundaries() -> None:
    sentences = [
        Sentence(id=i, text=BOJ[i % len(BOJ)]) for i in range(1, 3001)
    ]  # 3,000 sentences, about 110,000 characters
    budget = 2000

    def count(text: str) -> int:  # about one token per character, as for Japanese
        return len(text)

    start = time.perf_counter()
    chunks = chunk_sentences(sentences, budget, count)
    elapsed = time.perf_counter() - start
    assert [s for chunk in chunks for s in chunk] == sentences  # whole sentences, in order
    sizes = [sum(count(s.text) + PER_SENTENCE_OVERHEAD for s in chunk) for chunk in chunks]
    assert all(size <= budget for size in sizes)
    assert all(size > budget - 100 for size in sizes[:-1])  # packed, not one sentence each
    assert elapsed < 0.5

    # one sentence over the budget: cut after its clauses, joined without spaces
    long = Sentence(id=7, text="、".join(BOJ).replace("。", "") + "。")
    pieces = [s for chunk in chunk_sentences([long], 120, count) for s in chunk]
    assert "".join(s.text for s in pieces) == long.text
    assert all(count(s.text) + PER_SENTENCE_OVERHEAD <= 120 for s in pieces)
    assert {s.id for s in pieces} == {7}
    assert all(s.text.endswith(("、", "。")) for s in pieces)


EXTRACT_CASES = ("ja", "zh", "ko", "ar", "ru", "th")


def test_briefing_extract_json_lists_every_articles_sentences(tmp_path: Path) -> None:
    for language in EXTRACT_CASES:
        (tmp_path / f"{language}.txt").write_text(article_text(language), encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_language = {row["language"]: row for row in rows}
    assert sorted(by_language) == sorted(EXTRACT_CASES) and len(rows) == len(EXTRACT_CASES)
    for language in EXTRACT_CASES:
        row = by_language[language]
        assert Path(row["source"]).name == f"{language}.txt"
        expected = [{"id": i, "text": text} for i, text in enumerate(CASES[language], 1)]
        assert row["sentences"] == expected


def test_story_similarity_of_japanese_summaries() -> None:
    """Two summaries of the rate rise (one rewritten in other words) are one story (0.4 >=
    STORY_THRESHOLD); the rate rise and the economic package are not (0.04)."""
    rewrite = (
        "日銀の植田総裁は１日の会見で、政策金利を０．７５％に引き上げたと説明し、"
        "物価目標の実現が見通せる状況になったと述べた。"
    )
    texts = ["".join(BOJ[:4]), rewrite, "".join(PACKAGE[:4])]
    rate, rewritten, package = features([(t, frozenset(), frozenset()) for t in texts])
    assert story_similarity(rate, rewritten) >= STORY_THRESHOLD
    assert story_similarity(rate, package) < 0.1
