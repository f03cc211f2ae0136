"""Telegram's inline mode through the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.telegram.frontend import TelegramFrontEnd
from tests.fakes.telegram_api import FakeBotApi

Json = dict[str, Any]
LANGUAGES = [("en", "Poll #1: Will DeepSeek replace GPT?"), ("zh", "DeepSeek 会取代 GPT 吗？")]


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    return telegram_fake


async def answer_to(fake: FakeBotApi, query: str, language_code: str = "en") -> list[Json]:
    query_id = fake.inline_query(query, language_code=language_code)
    await fake.wait_until(lambda: query_id in fake.inline_answers)
    (call,) = [c for c in fake.sent("answerInlineQuery") if c["inline_query_id"] == query_id]
    assert call["is_personal"] is True
    assert 10 <= call["cache_time"] <= 30
    return fake.inline_answers[query_id]


def message_text(result: Json) -> str:
    return str(result["input_message_content"]["message_text"])


@pytest.mark.parametrize(("language_code", "question"), LANGUAGES)
async def test_an_empty_inline_query_offers_the_deepseek_poll_with_its_vote_buttons(
    fake: FakeBotApi, telegram: TelegramFrontEnd, language_code: str, question: str
) -> None:
    results = await answer_to(fake, "", language_code)

    (poll,) = results
    assert poll["id"] == "poll:1"
    assert question in message_text(poll)
    buttons = [b["callback_data"] for row in poll["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[:2] == ["poll:1:0", "poll:1:1"]


@pytest.mark.parametrize(("language_code", "before_after"), [("en", "142.62"), ("zh", "142.62")])
async def test_a_ticker_with_a_dollar_sign_gives_its_sell_off_card(
    fake: FakeBotApi, telegram: TelegramFrontEnd, language_code: str, before_after: str
) -> None:
    results = await answer_to(fake, "$nvda", language_code)

    card = results[0]
    assert card["id"] == "stocks:NVDA"
    shown = message_text(card)
    assert "NVDA" in shown and before_after in shown and "118.42" in shown and "-16.97%" in shown


@pytest.mark.parametrize("language_code", ["en", "zh"])
async def test_a_token_count_gives_the_bill_card(
    fake: FakeBotApi, telegram: TelegramFrontEnd, language_code: str
) -> None:
    results = await answer_to(fake, "2M in 500k out", language_code)

    card = results[0]
    assert card["id"].startswith("cost:") and len(card["id"].encode()) <= 64
    # List prices per million tokens: R1 $0.55 in, $2.19 out; o1 $15 in, $60 out.
    assert "$2.20" in message_text(card) and "$60.00" in message_text(card)


@pytest.mark.parametrize(
    "query",
    [
        "<b>bold</b> & <script>",
        "@everyone @here",
        "**markup** [x](https://example.com) `code`",
        "🦄" * 3000,
        "$" + "Ａ" * 40,
        "\u202e\u200b /poll new",
    ],
)
@pytest.mark.parametrize("language_code", ["en", "zh-hans"])
async def test_hostile_inline_queries_get_valid_answers(
    fake: FakeBotApi,
    telegram: TelegramFrontEnd,
    caplog: pytest.LogCaptureFixture,
    query: str,
    language_code: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        results = await answer_to(fake, query, language_code)

    # The fake refused any answer Telegram would refuse; here it accepted one.
    assert 1 <= len(results) <= 50
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    for result in results:
        assert "<script>" not in message_text(result)


async def test_other_words_give_the_cards_of_the_commands_they_name(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    results = await answer_to(fake, "recap")

    assert [result["id"] for result in results] == ["cmd:recap"]
    assert message_text(results[0]).startswith("<b>/recap</b>")


async def test_a_chinese_user_gets_chinese_command_cards(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    results = await answer_to(fake, "settings", "zh-hans")

    assert [result["id"] for result in results] == ["cmd:settings"]
    assert "语言" in message_text(results[0])
