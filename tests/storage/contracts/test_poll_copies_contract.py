"""The poll copies' contract: every message that shows a poll, once each, until forgotten.

Written against the poll-copies store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.backends import Stores, open_stores
from storage.poll_copies import PollCopy, PollCopyStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
DEEPSEEK = 1
GROUP = PollCopy(DEEPSEEK, "telegram", "-1001234567890", "17", "en")
INLINE = PollCopy(DEEPSEEK, "telegram", "", "AgAAAInlineMessageId-x_9", "zh-hans")
DISCORD = PollCopy(DEEPSEEK, "discord", "1100000000000000001", "1200000000000000005", "en-US")


@pytest.fixture
def store(stores: Stores) -> PollCopyStore:
    return stores.poll_copies


async def test_a_poll_never_shown_has_no_copies(store: PollCopyStore) -> None:
    assert await store.of_poll(DEEPSEEK) == []
    assert await store.chats_of_poll(DEEPSEEK) == []


async def test_every_copy_is_listed_once_oldest_first(store: PollCopyStore) -> None:
    assert await store.add(DISCORD, NOW) is True
    assert await store.add(INLINE, NOW + timedelta(seconds=1)) is True
    assert await store.add(GROUP, NOW + timedelta(seconds=2)) is True

    again = await store.add(PollCopy(DEEPSEEK, "telegram", "-1001234567890", "17", "zh"), NOW)

    assert again is False
    assert await store.of_poll(DEEPSEEK) == [DISCORD, INLINE, GROUP]


async def test_the_chats_that_showed_a_poll_leave_out_inline_messages(
    store: PollCopyStore,
) -> None:
    await store.add(GROUP, NOW)
    await store.add(PollCopy(DEEPSEEK, "telegram", "-1001234567890", "18"), NOW)
    await store.add(INLINE, NOW)
    await store.add(DISCORD, NOW + timedelta(seconds=1))

    assert await store.chats_of_poll(DEEPSEEK) == [
        ("telegram", "-1001234567890"),
        ("discord", "1100000000000000001"),
    ]


async def test_a_forgotten_copy_is_no_longer_listed(store: PollCopyStore) -> None:
    await store.add(GROUP, NOW)
    await store.add(INLINE, NOW)

    await store.forget(GROUP)

    assert await store.of_poll(DEEPSEEK) == [INLINE]


async def test_copies_survive_a_restart(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        await stores.poll_copies.add(INLINE, NOW)

    async with open_stores(store_url) as stores:
        assert await stores.poll_copies.of_poll(DEEPSEEK) == [INLINE]


async def test_the_chats_owed_a_close_announcement_are_every_chat_that_showed_the_poll(
    stores: Stores,
) -> None:
    await stores.poll_copies.add(DISCORD, NOW)
    await stores.poll_copies.add(INLINE, NOW + timedelta(seconds=1))
    await stores.poll_copies.add(GROUP, NOW + timedelta(seconds=2))
    await stores.poll_copies.add(PollCopy(DEEPSEEK, "telegram", "-1001234567890", "99"), NOW)

    chats = await stores.polls.showing_chats(DEEPSEEK)

    assert chats == [
        ("discord", "1100000000000000001"),
        ("telegram", "-1001234567890"),
    ]
