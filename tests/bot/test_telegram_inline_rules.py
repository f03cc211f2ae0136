"""The fake Bot API refuses the inline-mode answers Telegram refuses, as a plain telegram.Bot
sees it (rules in tests/fakes/telegram_inline.py, from core.telegram.org/bots/api)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeBotApi


@pytest.fixture
async def bot(telegram_fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(telegram_fake.token, base_url=telegram_fake.base_url) as bot:
        yield bot


def card(result_id: str, text: str = "hello", data: str | None = None) -> InlineQueryResultArticle:
    markup = (
        InlineKeyboardMarkup([[InlineKeyboardButton("1", callback_data=data)]]) if data else None
    )
    return InlineQueryResultArticle(
        result_id,
        "title",
        InputTextMessageContent(text, parse_mode=ParseMode.HTML),
        reply_markup=markup,
    )


async def test_fifty_results_are_taken_and_fifty_one_refused(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    fifty, fifty_one = telegram_fake.inline_query("a"), telegram_fake.inline_query("b")

    assert await bot.answer_inline_query(fifty, [card(str(n)) for n in range(50)]) is True
    with pytest.raises(BadRequest, match=r"(?i)RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(fifty_one, [card(str(n)) for n in range(51)])


@pytest.mark.parametrize(
    ("results", "refusal"),
    [
        ([card("same"), card("same")], "RESULT_ID_DUPLICATE"),
        ([card("x" * 65)], "RESULT_ID_INVALID"),
        ([card("ok", "<b>unclosed")], "can't parse entities"),
        ([card("ok", "x" * 4097)], "MESSAGE_TOO_LONG"),
        ([card("ok", "<b> </b>")], "MESSAGE_EMPTY"),
        ([card("ok", data="d" * 65)], "BUTTON_DATA_INVALID"),
    ],
)
async def test_an_answer_breaking_a_rule_is_refused(
    telegram_fake: FakeBotApi, bot: Bot, results: list[InlineQueryResultArticle], refusal: str
) -> None:
    query = telegram_fake.inline_query("q")

    with pytest.raises(BadRequest, match=f"(?i){refusal}"):
        await bot.answer_inline_query(query, results)


async def test_a_result_id_of_64_bytes_and_4096_characters_of_text_are_taken(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    query = telegram_fake.inline_query("q")

    assert await bot.answer_inline_query(query, [card("é" * 32, "&lt;" + "x" * 4095)]) is True


async def test_a_query_is_answered_once(telegram_fake: FakeBotApi, bot: Bot) -> None:
    query = telegram_fake.inline_query("q")
    await bot.answer_inline_query(query, [card("1")])

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query(query, [card("1")])


async def test_an_inline_message_is_edited_by_its_id_and_the_answer_is_true(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    query = telegram_fake.inline_query("")
    await bot.answer_inline_query(query, [card("poll:1", "<b>Poll</b>", data="poll:1:0")])
    message = telegram_fake.choose(query, "poll:1")

    edited = await bot.edit_message_text(
        "<b>Poll</b> 1 vote", inline_message_id=message.inline_message_id, parse_mode="HTML"
    )

    assert edited is True
    assert message.plain == "Poll 1 vote"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text(
            "<b>Poll</b> 1 vote", inline_message_id=message.inline_message_id, parse_mode="HTML"
        )


async def test_an_edit_of_an_inline_message_that_is_gone_is_refused(
    telegram_fake: FakeBotApi, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_ID_INVALID"):
        await bot.edit_message_text("x", inline_message_id="AgAAA-never-sent")
