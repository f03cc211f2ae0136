"""Cooldowns: a flooding member gets a polite reply, others are unaffected."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest

from bot.dispatch import dispatch
from handlers.cooldowns import Cooldowns, Rate
from handlers.model import Services
from tests.conftest import make_request


@pytest.fixture
def guarded(services: Services) -> Services:
    return dataclasses.replace(services, cooldowns=Cooldowns())


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


async def use_up_a_members_ten_commands(guarded: Services) -> None:
    """Send the ten commands a member may send in ten seconds."""
    for _ in range(10):
        await dispatch(make_request("/help"), guarded)


async def test_the_eleventh_command_in_ten_seconds_gets_a_polite_refusal(
    guarded: Services,
) -> None:
    replies = [await dispatch(make_request("/help"), guarded) for _ in range(11)]

    assert not any(reply.is_error for reply in replies[:10])
    assert replies[10].is_error and replies[10].ephemeral
    assert "Please wait a few seconds" in replies[10].plain_text()


async def test_the_refusal_is_in_the_users_language(guarded: Services) -> None:
    for _ in range(10):
        await dispatch(make_request("/help", locale="zh"), guarded)

    reply = await dispatch(make_request("/help", locale="zh"), guarded)

    assert "请稍等几秒" in reply.plain_text()


async def test_one_member_flooding_does_not_silence_another(guarded: Services) -> None:
    for _ in range(15):
        await dispatch(make_request("/help", user_id="flooder"), guarded)

    reply = await dispatch(make_request("/help", user_id="calm"), guarded)

    assert not reply.is_error


async def test_a_whole_chat_is_limited_too(services: Services) -> None:
    guarded = dataclasses.replace(services, cooldowns=Cooldowns(per_chat=Rate(5, 10.0)))
    for number in range(5):
        await dispatch(make_request("/help", user_id=f"member-{number}"), guarded)

    reply = await dispatch(make_request("/help", user_id="member-6"), guarded)

    assert reply.is_error


async def test_capacity_returns_as_time_passes(guarded: Services, move_clock: MoveClock) -> None:
    await use_up_a_members_ten_commands(guarded)
    assert (await dispatch(make_request("/help"), guarded)).is_error

    move_clock(2.0)

    assert not (await dispatch(make_request("/help"), guarded)).is_error


async def test_button_presses_do_not_use_up_the_chat(services: Services) -> None:
    guarded = dataclasses.replace(services, cooldowns=Cooldowns(per_chat=Rate(2, 10.0)))
    for number in range(5):
        await dispatch(make_request(action="nothing:1", user_id=f"voter-{number}"), guarded)

    reply = await dispatch(make_request("/help", user_id="reader"), guarded)

    assert not reply.is_error


def test_forgotten_keys_are_bounded() -> None:
    cooldowns = Cooldowns(max_keys=3)
    for number in range(10):
        cooldowns._bucket(("user", "console", str(number)), cooldowns.per_user)

    assert len(cooldowns._buckets) == 3


async def test_a_member_is_told_once_and_further_refusals_may_be_dropped(
    guarded: Services, move_clock: MoveClock
) -> None:
    await use_up_a_members_ten_commands(guarded)

    first = await dispatch(make_request("/help"), guarded)
    second = await dispatch(make_request("/help"), guarded)

    assert first.is_error and not first.droppable
    assert second.is_error and second.droppable
    move_clock(10.5)
    await use_up_a_members_ten_commands(guarded)
    told_again = await dispatch(make_request("/help"), guarded)
    assert told_again.is_error and not told_again.droppable
