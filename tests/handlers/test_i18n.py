"""The catalogue: both languages have the same keys and every key the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from handlers.i18n import catalogue, parse_lang, pick_lang, text

ROOT = Path(__file__).resolve().parents[2]
# Catalogue keys written literally in the code: text(lang, "topic.name") or UserError("topic.name").
_KEY_IN_CODE = re.compile(r"""(?:text\([^,()]+,\s*|UserError\(\s*)["']([a-z_]+\.[a-z0-9_]+)["']""")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_english_and_chinese_have_the_same_keys() -> None:
    english, chinese = catalogue("en"), catalogue("zh")
    assert sorted(set(english) - set(chinese)) == []
    assert sorted(set(chinese) - set(english)) == []


def test_both_languages_fill_the_same_placeholders() -> None:
    english, chinese = catalogue("en"), catalogue("zh")
    differing = {
        key: (placeholders(english[key]), placeholders(chinese[key]))
        for key in english
        if placeholders(english[key]) != placeholders(chinese[key])
    }
    assert differing == {}


def test_every_literal_key_in_the_code_is_in_the_catalogue() -> None:
    used = {
        key
        for package in ("bot", "handlers")
        for path in (ROOT / package).rglob("*.py")
        for key in _KEY_IN_CODE.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "the key pattern found nothing: it is broken"
    assert sorted(used - set(catalogue("en"))) == []


def test_chinese_locales_pick_chinese_and_others_english() -> None:
    assert [pick_lang(code) for code in ("zh", "zh-CN", "zh_TW", "ZH-hant", "en", "fr", "")] == [
        "zh",
        "zh",
        "zh",
        "zh",
        "en",
        "en",
        "en",
    ]
    assert pick_lang("", default="zh") == "zh"


def test_parse_lang_accepts_codes_and_refuses_the_rest() -> None:
    assert [parse_lang(code) for code in ("en", "ZH", "zh-CN", "de", "english")] == [
        "en",
        "zh",
        "zh",
        None,
        None,
    ]


def test_text_fills_the_template_in_the_chosen_language() -> None:
    assert "/nope" in text("en", "core.unknown_command", command="nope")
    assert "我不认识命令 /nope" in text("zh", "core.unknown_command", command="nope")
