"""The chat settings' contract: a chat's own language and zone, unset until chosen.

Written against the store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

import pytest

from storage.backends import Stores, open_stores
from storage.chat_settings import ChatSettings, ChatSettingsStore


@pytest.fixture
def store(stores: Stores) -> ChatSettingsStore:
    return stores.chat_settings


async def test_a_chat_that_chose_nothing_has_neither_language_nor_zone(
    store: ChatSettingsStore,
) -> None:
    assert await store.get("telegram", "-100") == ChatSettings(lang=None, tz=None)


async def test_the_language_and_the_zone_are_chosen_independently(
    store: ChatSettingsStore,
) -> None:
    await store.set_lang("telegram", "-100", "zh")
    await store.set_tz("telegram", "-100", "Asia/Shanghai")
    await store.set_lang("telegram", "-100", "en")

    assert await store.get("telegram", "-100") == ChatSettings(lang="en", tz="Asia/Shanghai")


async def test_setting_none_goes_back_to_the_default(store: ChatSettingsStore) -> None:
    await store.set_lang("discord", "7", "zh")
    await store.set_tz("discord", "7", "Asia/Tokyo")

    await store.set_tz("discord", "7", None)

    assert await store.get("discord", "7") == ChatSettings(lang="zh", tz=None)


async def test_the_same_chat_id_on_another_platform_is_another_chat(
    store: ChatSettingsStore,
) -> None:
    await store.set_lang("telegram", "42", "zh")

    assert (await store.get("discord", "42")).lang is None
    assert (await store.get("telegram", "43")).lang is None


async def test_reopening_keeps_chat_settings(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        await stores.chat_settings.set_tz("telegram", "-100", "Asia/Shanghai")

    async with open_stores(store_url) as stores:
        assert (await stores.chat_settings.get("telegram", "-100")).tz == "Asia/Shanghai"
