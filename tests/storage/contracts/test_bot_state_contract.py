"""The bot state's contract: small values by key, overwritten in place, kept across restarts.

Written against the store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.backends import Stores, open_stores
from storage.bot_state import BotStateStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(stores: Stores) -> BotStateStore:
    return stores.bot_state


async def test_a_key_never_put_has_no_value(store: BotStateStore) -> None:
    assert await store.get("discord.command_tree") is None


async def test_putting_a_key_again_replaces_its_value(store: BotStateStore) -> None:
    await store.put("discord.command_tree", "first", now=NOW)
    await store.put("discord.command_tree", "second")
    await store.put("other", "kept", now=NOW)

    assert await store.get("discord.command_tree") == "second"
    assert await store.get("other") == "kept"


async def test_the_state_survives_a_restart(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        await stores.bot_state.put("discord.command_tree", "a1b2", now=NOW)

    async with open_stores(store_url) as stores:
        assert await stores.bot_state.get("discord.command_tree") == "a1b2"
