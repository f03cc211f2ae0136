"""The text catalogue: every user-facing sentence, in English and Simplified Chinese.

Messages live in `locales/<lang>/<topic>.toml` so that each command keeps its own words
beside the others' without one file growing without end. A key is `<topic>.<name>`, and
values are `str.format` templates. The standard library's tomllib does the parsing; a
translation framework would add nothing that a key lookup and `str.format` do not already
cover for two languages without plural forms that differ.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from handlers.model import LANGS, Lang
from handlers.user_text import without_controls


@cache
def catalogue(lang: Lang) -> dict[str, str]:
    """Every message of one language, keyed `<topic>.<name>`."""
    messages: dict[str, str] = {}
    folder = resources.files("handlers") / "locales" / lang
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".toml"):
            continue
        topic = entry.name.removesuffix(".toml")
        for name, value in tomllib.loads(entry.read_text(encoding="utf-8")).items():
            if not isinstance(value, str):
                raise ValueError(f"{lang}/{entry.name}: {name} must be a string")
            messages[f"{topic}.{name}"] = value
    return messages


def text(lang: Lang, key: str, /, **params: Any) -> str:
    """The message `key` in `lang`, with `params` filled in (control characters dropped)."""
    template = catalogue(lang)[key]
    if not params:
        return template
    return template.format(
        **{
            name: without_controls(value) if isinstance(value, str) else value
            for name, value in params.items()
        }
    )


def texts(lang: Lang, *keys: str) -> tuple[str, ...]:
    """The messages `keys` in `lang`, in order: a table's column headers."""
    return tuple(text(lang, key) for key in keys)


def pick_lang(locale: str, default: Lang = "en") -> Lang:
    """Chinese for any zh locale (zh, zh-CN, zh_TW, zh-Hans...), English for every other one."""
    cleaned = locale.strip().lower()
    if not cleaned:
        return default
    return "zh" if cleaned.startswith("zh") else "en"


def parse_lang(value: str) -> Lang | None:
    """A language code the bot speaks, or None."""
    cleaned = value.strip().lower()
    for lang in LANGS:
        if cleaned == lang or cleaned.startswith(lang + "-") or cleaned.startswith(lang + "_"):
            return lang
    return None


def listed(lang: Lang, items: Iterable[str]) -> str:
    """Items as a list in `lang`: "NVDA, TSM" in English, "NVDA、TSM" in Chinese."""
    return text(lang, "core.list_separator").join(items)


def short_date(lang: Lang, day: date) -> str:
    """A day as the reader writes it, without the year: "24 Jan", "1月24日"."""
    return f"{day.month}月{day.day}日" if lang == "zh" else day.strftime("%-d %b")


def long_date(lang: Lang, day: date) -> str:
    """A day with its year: "24 Jan 2025", "2025年1月24日"."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%-d %b %Y")
