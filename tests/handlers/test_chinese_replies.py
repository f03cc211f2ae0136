"""Chinese replies are Chinese throughout: list punctuation, language names, their own wording."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.dispatch import dispatch, refusal
from handlers.arguments import parse_text
from handlers.commands import Choice, Command, Form, Param
from handlers.i18n import catalogue
from handlers.model import Reply, Services, UserError
from handlers.settings import settings
from tests.conftest import make_request

MOD = {"chat_kind": "group", "is_admin": True, "platform": "telegram", "chat_id": "-100"}
_HAN = r"[\u3400-\u9fff]"
# ASCII list or clause punctuation that touches a Chinese character: "R1; V3" in a Chinese
# sentence, "模型, 价格", "价格: 1 元", "完成." are English punctuation left in Chinese text.
_ASCII_SEPARATOR = re.compile(rf"{_HAN}[;,:] |[;,] {_HAN}|{_HAN}[;,.!?](?:\s|$)|{_HAN}\(|\){_HAN}")
# Codes shown where a reader expects a word: "语言：zh", "lang=en".
_LEFTOVER_CODE = re.compile(r"(?:语言|language|lang)\s*[：:=]\s*(?:en|zh)\b", re.IGNORECASE)


async def ask(services: Services, line: str, **fields: Any) -> Reply:
    return await dispatch(make_request(line, **fields), services)


def test_no_chinese_catalogue_entry_uses_ascii_separators_or_leftover_codes() -> None:
    wrong = {
        key: value
        for key, value in catalogue("zh").items()
        if _ASCII_SEPARATOR.search(value) or _LEFTOVER_CODE.search(value)
    }

    assert wrong == {}


def test_the_separator_check_catches_english_punctuation_in_chinese() -> None:
    for bad in ("R1; V3 模型; 价格", "模型, 价格", "价格: 1 元", "已完成.", "中文(zh)"):
        assert _ASCII_SEPARATOR.search(bad), bad
    for good in ("R1、V3", "价格：1 元", "已完成。", "/settings tz Asia/Shanghai", "UTC+8"):
        assert not _ASCII_SEPARATOR.search(good), good


async def test_a_vote_for_several_choices_lists_them_with_chinese_punctuation(
    services: Services,
) -> None:
    reply = await ask(services, "/poll new 哪个？ | R1 | V3 | Janus --multi", **MOD)
    poll_id = int(reply.refresh_action.split(":")[1])

    voted = await ask(services, f"/poll vote #{poll_id} 1 2", **MOD, locale="zh-CN", user_id="li")
    english = await ask(services, f"/poll vote #{poll_id} 1 3", **MOD, locale="en", user_id="jo")

    assert voted.notice == f"你在投票 #{poll_id} 中的选择：R1、V3。"
    assert english.notice == f"Your choices in poll #{poll_id}: R1; Janus."


@pytest.mark.parametrize(
    ("lang", "withdrawn", "no_vote"),
    [
        ("zh", "你已撤回在投票 #1 中的选择。", "你在投票 #1 中没有可撤回的投票。"),
        ("en", "You have no vote in poll #1 now.", "You had no vote in poll #1 to withdraw."),
    ],
)
async def test_withdrawing_without_a_vote_says_there_was_none_to_withdraw(
    services: Services, lang: str, withdrawn: str, no_vote: str
) -> None:
    await ask(services, "/poll vote 1", user_id="alice")

    first = await ask(services, "/poll withdraw", user_id="alice", locale=lang)
    again = await ask(services, "/poll withdraw", user_id="alice", locale=lang)
    never = await ask(services, "/poll withdraw", user_id="bob", locale=lang)

    assert (first.notice, again.notice, never.notice) == (withdrawn, no_vote, no_vote)


async def test_settings_shows_a_chosen_language_by_name_in_that_language(
    services: Services,
) -> None:
    await ask(services, "/settings lang zh")
    await ask(services, "/settings tz Asia/Shanghai")
    chinese = await ask(services, "/settings")
    await ask(services, "/settings lang en")
    english = await ask(services, "/settings")

    assert chinese.plain_text().splitlines()[1] == "语言：中文。时区：Asia/Shanghai（UTC+08:00）。"
    assert english.plain_text().splitlines()[1] == (
        "Language: English. Time zone: Asia/Shanghai (UTC+08:00)."
    )


@pytest.mark.parametrize(
    ("lang", "wording"),
    [
        ("zh", "“maybe”不是可选项之一：en、zh、auto。"),
        ("en", '"maybe" is not one of: en, zh, auto.'),
    ],
)
def test_a_refused_choice_lists_the_choices_in_the_readers_punctuation(
    lang: str, wording: str
) -> None:
    choice = Param(
        "lang",
        "choice",
        "discord.opt_lang",
        keywords=("lang",),
        choices=(Choice("en", ""), Choice("zh", ""), Choice("auto", "")),
    )
    command = Command(
        "demo",
        "settings.summary",
        forms=(Form("show", settings, "settings.usage", params=(choice,)),),
    )

    with pytest.raises(UserError) as refused:
        parse_text(command, "lang maybe")

    assert refusal(lang, refused.value).plain_text() == wording  # type: ignore[arg-type]
