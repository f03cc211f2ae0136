"""bot/copies.py: which messages show a poll, remembered once each."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bot.copies import CopiesRefresher
from handlers.model import Services
from storage.poll_copies import PollCopy
from storage.polls import DEEPSEEK_POLL_ID
from tests.bot.conftest import no_throttle


async def test_a_burst_of_presses_on_an_unknown_message_stores_its_copy_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored: list[PollCopy] = []
    add = services.poll_copies.add

    async def counted_add(copy: PollCopy, now: datetime) -> bool:
        stored.append(copy)
        await asyncio.sleep(0.01)  # a write that takes a while, so the presses overlap
        return await add(copy, now)

    monkeypatch.setattr(services.poll_copies, "add", counted_add)
    refresher = CopiesRefresher(services, tally=no_throttle())
    copy = PollCopy(DEEPSEEK_POLL_ID, "telegram", "-100", "7")

    await asyncio.gather(*(refresher.pressed(copy) for _ in range(50)))
    await refresher.pressed(copy)

    assert stored == [copy]
    assert await services.poll_copies.of_poll(DEEPSEEK_POLL_ID) == [copy]


async def test_a_press_that_gives_up_does_not_cancel_the_write_the_others_wait_for(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    add = services.poll_copies.add

    async def slow_add(copy: PollCopy, now: datetime) -> bool:
        await asyncio.sleep(0.05)
        return await add(copy, now)

    monkeypatch.setattr(services.poll_copies, "add", slow_add)
    refresher = CopiesRefresher(services, tally=no_throttle())
    copy = PollCopy(DEEPSEEK_POLL_ID, "telegram", "-100", "8")

    impatient = asyncio.ensure_future(refresher.pressed(copy))
    patient = asyncio.ensure_future(refresher.pressed(copy))
    await asyncio.sleep(0.01)
    impatient.cancel()
    await patient

    assert await services.poll_copies.of_poll(DEEPSEEK_POLL_ID) == [copy]
