"""Telegram misbehaving at length: 429 storms, 5xx, reset connections, a getUpdates that hangs.

The real python-telegram-bot talks to the fake Bot API on 127.0.0.1; faults are injected
there. Each test ends by counting: every command has exactly one reply in its chat, every
vote is in the database once and in the poll message, and the bot still answers afterwards.
Single faults (one 429, 500s on sendMessage, one failed getUpdates, dropped sendMessage
connections) are in test_telegram_frontend.py.
"""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest

from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.i18n import text
from handlers.model import Services
from tests.bot.conftest import StartTelegram
from tests.bot.test_telegram_frontend import (
    ADMIN,
    GROUP,
    final_rendering,
    new_group_poll,
    reply_to,
)
from tests.bot.test_telegram_frontend import FAST as FRONT_END_TIMINGS
from tests.fakes.telegram_api import Call, FakeBotApi

# The front-end suite's timings, except that a reply is retried for a minute rather than 30
# seconds before the bot gives it up: the storms here are longer than a single fault.
FAST = dataclasses.replace(FRONT_END_TIMINGS, retry_give_up_after=60)
USERS = range(2001, 2021)


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    return FAST


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    telegram_fake.owners[GROUP] = ADMIN
    return telegram_fake


def send_about_from_everyone(fake: FakeBotApi) -> None:
    for user in USERS:
        fake.send_command("/about", user_id=user)


async def assert_everyone_answered_once_and_still_answers(
    fake: FakeBotApi, telegram: TelegramFrontEnd, timeout: float = 20
) -> None:
    await fake.wait_for("sendMessage", len(USERS), timeout=timeout)
    await assert_still_answers(fake)
    await stop_when_everything_is_in_hand(fake, telegram)
    expected = text("en", "about.title")
    for user in USERS:
        messages = fake.chat_messages(user)
        assert len(messages) == 1, f"chat {user} got {len(messages)} replies"
        assert messages[0].plain.startswith(expected)


async def stop_when_everything_is_in_hand(fake: FakeBotApi, telegram: TelegramFrontEnd) -> None:
    """Stop the bot once it has every update: stopping finishes them, so nothing comes later."""
    await fake.wait_until_fetched()
    await telegram.stop()


async def assert_still_answers(fake: FakeBotApi) -> None:
    message = await reply_to(fake, "/help", user_id=9999)
    assert message.plain.startswith(text("en", "help.title"))


def assert_each_retry_waited_out_its_429(fake: FakeBotApi, method: str, seconds: float) -> None:
    """The bot sent the same chat's request again only `seconds` after the 429 said so."""
    by_chat: dict[object, list[Call]] = {}
    for call in fake.attempts(method):
        by_chat.setdefault(call.params.get("chat_id"), []).append(call)
    refusals = 0
    for calls in by_chat.values():
        calls.sort(key=lambda call: call.received)
        for refused, retry in itertools.pairwise(calls):
            if refused.status == 429:
                refusals += 1
                assert retry.received - refused.at >= seconds, (refused, retry)
                if method == "sendMessage":
                    assert retry.params["text"] == refused.params["text"]
    assert refusals, f"no {method} was refused"


async def test_a_429_storm_on_replies_delays_them_but_every_chat_gets_its_one_reply(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.inject("sendMessage", retry_after=1, times=12)

    send_about_from_everyone(fake)

    await assert_everyone_answered_once_and_still_answers(fake, telegram)
    assert_each_retry_waited_out_its_429(fake, "sendMessage", 1.0)


async def test_429s_on_every_method_for_two_seconds_are_waited_out(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    fake.inject("*", retry_after=1, seconds=2.0)

    send_about_from_everyone(fake)

    await assert_everyone_answered_once_and_still_answers(fake, telegram)
    # The polls the 429s hit first hold the commands back until the storm is over.
    assert_each_retry_waited_out_its_429(fake, "getUpdates", 1.0)


async def test_a_burst_of_slow_answers_uses_a_bounded_pool_of_connections_and_loses_none(
    fake: FakeBotApi, start_telegram: StartTelegram
) -> None:
    # No flood limit here, so only the connection pool bounds how many calls are in flight.
    tuning = dataclasses.replace(FAST, messages_per_second=10_000)
    telegram = await start_telegram(tuning=tuning)
    fake.inject("sendMessage", delay=0.3, seconds=10)
    users = range(3001, 3001 + 3 * tuning.connections)

    for user in users:
        fake.send_command("/about", user_id=user)

    await fake.wait_for("sendMessage", len(users), timeout=20)
    assert 1 < fake.most_holding["sendMessage"] <= tuning.connections
    await stop_when_everything_is_in_hand(fake, telegram)
    assert all(len(fake.chat_messages(user)) == 1 for user in users)


async def test_5xx_replies_and_reset_polls_lose_no_reply(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    # 502s first, then reset connections (faults apply in the order injected). Only two
    # failed polls: python-telegram-bot waits longer after each one (1 s, 1.5 s, ...). A
    # reset sendMessage is not retried (it may have arrived): test_telegram_frontend.py.
    fake.inject("getUpdates", status=502, times=1)
    fake.inject("getUpdates", drop=True, times=1)
    fake.inject("sendMessage", status=503, times=10)

    send_about_from_everyone(fake)

    await assert_everyone_answered_once_and_still_answers(fake, telegram)


async def test_a_get_updates_that_hangs_is_given_up_and_polling_resumes(
    fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    await assert_still_answers(fake)
    # The next long poll never answers (the fake holds it for a minute).
    fake.inject("getUpdates", delay=60, times=1)
    await fake.wait_until_holding("getUpdates")
    hung_at = time.monotonic()

    send_about_from_everyone(fake)

    # python-telegram-bot's read timeout on a long poll is the poll timeout + 5 s.
    await assert_everyone_answered_once_and_still_answers(
        fake, telegram, timeout=FAST.poll_timeout + 15
    )
    assert time.monotonic() - hung_at >= FAST.poll_timeout + 4, "the poll did not hang"


async def test_votes_during_a_429_storm_and_failing_edits_are_all_counted_and_shown(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    poll = await new_group_poll(fake, "/poll new Lunch? | Pizza | Sushi")
    (_, pizza), (_, sushi) = poll.buttons()
    fake.inject("answerCallbackQuery", retry_after=1, times=10)
    fake.inject("editMessageText", status=500, seconds=1.5)
    fake.inject("getUpdates", drop=True, times=1)

    queries = [
        fake.press(poll, pizza if user % 3 else sushi, user_id=30_000 + user) for user in range(30)
    ]
    await fake.wait_for("answerCallbackQuery", 30, timeout=20)
    await assert_still_answers(fake)
    # Stopping drains the pending redraws too.
    await stop_when_everything_is_in_hand(fake, telegram)

    assert all(fake.answered(query) for query in queries)
    poll_id = int(pizza.split(":")[1])
    found = await services.polls.get_with_tally(poll_id)
    assert found is not None
    tally = found[1]
    assert tally.voters == 30
    assert list(tally.counts[:2]) == [20, 10]
    refresh = pizza.rsplit(":", 1)[0] + ":r"
    assert poll.html == await final_rendering(services, poll, refresh)
