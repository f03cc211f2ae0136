"""The SQLite poll store's own ways: group commit, durable acks, upgrades, shared connection.

What every poll store must do is in tests/storage/contracts/test_poll_store_contract.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.chat_settings import ChatSettingsStore
from storage.db import Database, migrations, open_database
from storage.polls import (
    DEEPSEEK_POLL_ID,
    PRESS_MEMORY,
    PollStore,
)
from tests.storage.poll_helpers import HOUR, NOW, make_poll, press
from tests.storage.vote_keys import documented_key


@pytest.fixture
async def store() -> AsyncIterator[PollStore]:
    async with open_database(":memory:") as db:
        yield PollStore(db)


async def test_concurrent_votes_are_committed_together_in_few_transactions(
    store: PollStore,
) -> None:
    poll_id = await make_poll(store)

    outcomes = await asyncio.gather(
        *(press(store, poll_id, f"u{number}", number % 3) for number in range(300))
    )

    assert all(len(choices) == 1 for choices in outcomes)
    assert store.batched_votes == 300
    assert store.batches < 10
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].counts == (100, 100, 100)


async def test_a_vote_is_committed_before_it_is_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with open_database(path) as db:
        store = PollStore(db)
        poll_id = await make_poll(store)

        async def vote_and_look(user: str) -> int:
            await press(store, poll_id, user, 0)
            # A second connection sees only committed data.
            with sqlite3.connect(path) as other:
                (secret,) = other.execute(
                    "SELECT value FROM bot_state WHERE key = 'poll_voter_secret'"
                ).fetchone()
                key = documented_key(bytes.fromhex(secret), poll_id, "telegram", user)
                row = other.execute(
                    "SELECT COUNT(*) FROM poll_votes WHERE poll_id = ? AND user_id = ?",
                    (poll_id, key),
                ).fetchone()
            return int(row[0])

        seen = await asyncio.gather(*(vote_and_look(f"u{number}") for number in range(20)))

    assert seen == [1] * 20


async def test_a_database_of_the_previous_schema_upgrades_with_its_votes_keyed_not_by_user_id(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    async with open_database(path, migrate=False) as db:
        assert await db.migrate(target=4) == 4
        # What the previous release stored: raw user ids.
        await db.connection.executescript(
            "INSERT INTO polls (id, platform, chat_id, question, created_at) "
            "VALUES (2, 'telegram', 'chat-1', 'Which?', '2026-11-30T15:00:00+00:00');"
            "INSERT INTO poll_options (poll_id, idx, label) VALUES (2, 0, 'A'), (2, 1, 'B');"
            "INSERT INTO poll_votes (poll_id, platform, user_id, choices, voted_at) VALUES "
            "(1, 'telegram', '4242', 1, '2026-11-30T15:00:00+00:00'),"
            "(1, 'discord', '777000111', 4, '2026-11-30T15:00:00+00:00'),"
            "(1, 'console', 'alice', 4, '2026-11-30T15:00:00+00:00'),"
            "(2, 'telegram', '4242', 2, '2026-11-30T15:00:00+00:00');"
        )

    async with open_database(path) as db:
        assert await db.schema_version() == len(migrations())
        store = PollStore(db)
        await store.prepare(NOW)
        deepseek = await store.get_with_tally(DEEPSEEK_POLL_ID)
        mine = await store.get_with_tally(2)
        stored_ids = {
            str(row[0])
            for row in await db.connection.execute_fetchall("SELECT user_id FROM poll_votes")
        }
        # The same people, still one vote each: pressing their option again withdraws it.
        withdrawn = await store.press(
            DEEPSEEK_POLL_ID, platform="telegram", chat_id="c", user_id="4242", option=0, now=NOW
        )
        changed = await store.set_choices(
            2, platform="telegram", chat_id="chat-1", user_id="4242", options={0}, now=NOW
        )

    assert deepseek is not None and deepseek[1].counts == (1, 0, 2, 0)
    assert mine is not None and mine[1].counts == (0, 1)
    assert not stored_ids & {"4242", "777000111", "alice"}
    assert all(len(key) == 64 for key in stored_ids)
    assert withdrawn.choices == frozenset() and withdrawn.tally.counts == (0, 0, 2, 0)
    assert changed.choices == {0} and changed.tally.counts == (1, 0)


async def test_votes_interleave_safely_with_other_features_transactions(
    store: PollStore,
) -> None:
    db: Database = store.db
    poll_id = await make_poll(store)

    async def other_feature(chat: str) -> None:
        async with db.transaction() as connection:
            await connection.execute(
                "INSERT INTO chat_settings (platform, chat_id, tz) VALUES ('telegram', ?, 'UTC')",
                (chat,),
            )
            await asyncio.sleep(0)

    await asyncio.gather(other_feature("x"), press(store, poll_id, "u1", 0), other_feature("y"))

    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].counts == (1, 0, 0)
    assert (await ChatSettingsStore(db).get("telegram", "y")).tz == "UTC"


async def test_delivery_ids_are_forgotten_once_no_platform_would_redeliver_them(
    store: PollStore,
) -> None:
    poll_id = await make_poll(store)
    await press(store, poll_id, "u1", 1, delivery="cbq-1")
    later = NOW + PRESS_MEMORY + HOUR

    # Any vote after that long prunes old delivery ids in its own transaction.
    await store.press(
        poll_id, platform="telegram", chat_id="chat-1", user_id="u2", option=0, now=later
    )

    async with store.db.connection.execute("SELECT delivery_id FROM poll_presses") as cursor:
        assert await cursor.fetchall() == []
