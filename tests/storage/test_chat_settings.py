"""The SQLite chat settings' own ways: a read is reused for a short while, a write is seen at once.

What every chat settings store must do is in tests/storage/contracts/test_chat_settings_contract.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from storage.chat_settings import ChatSettings, ChatSettingsStore
from storage.db import Database, open_database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with open_database(":memory:") as database:
        yield database


async def written_elsewhere(db: Database, chat_id: str, lang: str) -> None:
    """A change the store did not make itself, as another process sharing the file would."""
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO chat_settings (platform, chat_id, lang) VALUES ('discord', ?, ?) "
            "ON CONFLICT (platform, chat_id) DO UPDATE SET lang = excluded.lang",
            (chat_id, lang),
        )


async def test_a_change_made_elsewhere_is_seen_once_the_remembered_read_expires(
    db: Database,
) -> None:
    clock = Clock()
    store = ChatSettingsStore(db, max_age=2.0, clock=clock)
    assert await store.get("discord", "7") == ChatSettings()

    await written_elsewhere(db, "7", "zh")
    clock.now += 1.9
    still = await store.get("discord", "7")
    clock.now += 0.2
    later = await store.get("discord", "7")

    assert still == ChatSettings()
    assert later == ChatSettings(lang="zh")


async def test_the_stores_own_write_is_seen_at_once(db: Database) -> None:
    store = ChatSettingsStore(db, max_age=60.0, clock=Clock())
    assert await store.get("discord", "7") == ChatSettings()

    await store.set_lang("discord", "7", "zh")
    after_lang = await store.get("discord", "7")
    await store.set_tz("discord", "7", "Asia/Shanghai")
    after_tz = await store.get("discord", "7")

    assert after_lang == ChatSettings(lang="zh")
    assert after_tz == ChatSettings(lang="zh", tz="Asia/Shanghai")


async def test_concurrent_reads_of_one_chat_share_one_statement(db: Database) -> None:
    store = ChatSettingsStore(db, clock=Clock())
    await written_elsewhere(db, "7", "zh")
    statements: list[str] = []
    await db.connection.set_trace_callback(statements.append)

    found = await asyncio.gather(*(store.get("discord", "7") for _ in range(50)))

    assert found == [ChatSettings(lang="zh")] * 50
    assert len([s for s in statements if s.startswith("SELECT lang, tz")]) == 1


async def test_reads_of_many_new_chats_at_once_share_one_statement(db: Database) -> None:
    store = ChatSettingsStore(db, clock=Clock())
    await written_elsewhere(db, "7", "zh")
    statements: list[str] = []
    await db.connection.set_trace_callback(statements.append)

    found = await asyncio.gather(*(store.get("discord", str(chat)) for chat in range(1, 101)))
    again = await store.get("discord", "7")

    assert found[6] == again == ChatSettings(lang="zh")
    assert found[:6] + found[7:] == [ChatSettings()] * 99
    assert len([s for s in statements if s.startswith("SELECT lang, tz")]) == 1


async def test_a_write_made_while_a_read_is_in_flight_is_seen_by_the_next_read(
    db: Database,
) -> None:
    store = ChatSettingsStore(db, max_age=60.0, clock=Clock())
    reading = asyncio.ensure_future(store.get("discord", "7"))
    # Until the read's statement is queued on aiosqlite's thread, ahead of the write's.
    for _ in range(3):
        await asyncio.sleep(0)

    await store.set_lang("discord", "7", "zh")
    overlapped = await reading

    assert overlapped == ChatSettings()
    assert await store.get("discord", "7") == ChatSettings(lang="zh")
