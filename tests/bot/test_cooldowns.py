"""Cooldowns: a flooding member gets a polite reply, others are unaffected."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.cooldowns import Cooldowns, Rate
from bot.cooldowns import guarded as behind
from handlers.model import Reply, Request, Services
from tests.conftest import make_request

Ask = Callable[[Request], Awaitable[Reply]]


def asking(services: Services, cooldowns: Cooldowns) -> Ask:
    """Requests answered the way front ends answer them: dispatch behind the cooldowns."""
    dispatcher = behind(cooldowns)
    return lambda request: dispatcher(request, services)


@pytest.fixture
def guarded(services: Services) -> Ask:
    return asking(services, Cooldowns())


MoveClock = Callable[[float], None]


@pytest.fixture
async def move_clock(monkeypatch: pytest.MonkeyPatch) -> MoveClock:
    """Holds still the event loop's clock, which the cooldowns read; move_clock(seconds) sets
    it that many seconds after the moment it was stopped."""
    loop = asyncio.get_running_loop()
    now = loop.time()
    monkeypatch.setattr(loop, "time", lambda: now)

    def move(seconds: float) -> None:
        monkeypatch.setattr(loop, "time", lambda: now + seconds)

    return move


async def use_up_a_members_ten_commands(guarded: Ask) -> None:
    """Send the ten commands a member may send in ten seconds."""
    for _ in range(10):
        await guarded(make_request("/help"))


async def test_the_eleventh_command_in_ten_seconds_gets_a_polite_refusal(
    guarded: Ask,
) -> None:
    replies = [await guarded(make_request("/help")) for _ in range(11)]

    assert not any(reply.is_error for reply in replies[:10])
    assert replies[10].is_error and replies[10].ephemeral
    assert "Please wait a few seconds" in replies[10].plain_text()


async def test_the_refusal_is_in_the_users_language(guarded: Ask) -> None:
    for _ in range(10):
        await guarded(make_request("/help", locale="zh"))

    reply = await guarded(make_request("/help", locale="zh"))

    assert "请稍等几秒" in reply.plain_text()


async def test_one_member_flooding_does_not_silence_another(guarded: Ask) -> None:
    for _ in range(15):
        await guarded(make_request("/help", user_id="flooder"))

    reply = await guarded(make_request("/help", user_id="calm"))

    assert not reply.is_error


async def test_a_whole_chat_is_limited_too(services: Services) -> None:
    guarded = asking(services, Cooldowns(per_chat=Rate(5, 10.0)))
    for number in range(5):
        await guarded(make_request("/help", user_id=f"member-{number}"))

    reply = await guarded(make_request("/help", user_id="member-6"))

    assert reply.is_error


async def test_capacity_returns_as_time_passes(guarded: Ask, move_clock: MoveClock) -> None:
    await use_up_a_members_ten_commands(guarded)
    assert (await guarded(make_request("/help"))).is_error

    move_clock(2.0)

    assert not (await guarded(make_request("/help"))).is_error


async def test_button_presses_do_not_use_up_the_chat(services: Services) -> None:
    guarded = asking(services, Cooldowns(per_chat=Rate(2, 10.0)))
    for number in range(5):
        await guarded(make_request(action="nothing:1", user_id=f"voter-{number}"))

    reply = await guarded(make_request("/help", user_id="reader"))

    assert not reply.is_error


def test_forgotten_keys_are_bounded() -> None:
    cooldowns = Cooldowns(max_keys=3)
    for number in range(10):
        cooldowns._bucket(("user", "console", str(number)), cooldowns.per_user)

    assert len(cooldowns._buckets) == 3


async def test_a_member_is_told_once_and_further_refusals_may_be_dropped(
    guarded: Ask, move_clock: MoveClock
) -> None:
    await use_up_a_members_ten_commands(guarded)

    first = await guarded(make_request("/help"))
    second = await guarded(make_request("/help"))

    assert first.is_error and not first.droppable
    assert second.is_error and second.droppable
    move_clock(10.5)
    await use_up_a_members_ten_commands(guarded)
    told_again = await guarded(make_request("/help"))
    assert told_again.is_error and not told_again.droppable


async def test_the_bots_own_refresh_passes_a_member_who_used_up_their_commands(
    guarded: Ask, services: Services
) -> None:
    await use_up_a_members_ten_commands(guarded)
    assert (await guarded(make_request("/help"))).is_error

    refresh = make_request(action="poll:1:r", internal=True)
    reply = await guarded(refresh)

    assert not reply.is_error
    assert "Will DeepSeek replace GPT?" in reply.title
