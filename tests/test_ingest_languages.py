"""News in other scripts: Japanese, Chinese, Korean, Thai, Arabic, Hebrew and Russian
articles are kept (not taken for site furniture), split into the right sentences, and
tagged with their language."""

# ruff: noqa: RUF001  (the scripts under test)
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefing.cli import cli
from briefing.ingest import load_articles
from briefing.ingest.language import detect_language
from briefing.scripts import dominant_script, word_count
from briefing.sentences import sentence_texts

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
