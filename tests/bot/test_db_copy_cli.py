"""`dsbot db copy SOURCE TARGET` and `dsbot db upgrade`, run as the real command line."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg

from storage.backends import open_stores
from storage.db import migrations, open_database
from storage.db_copy import TABLES
from storage.flood_limits import Rate
from storage.market_cache import CachedLatest
from storage.poll_copies import PollCopy
from storage.subscriptions import Schedule
from tests.conftest import dsbot_environment

NOW = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
# Rows the source below holds, per table (the DeepSeek poll and its 4 options included).
SOURCE_ROWS = {
    "polls": 2,
    "poll_options": 7,
    "poll_votes": 3,
    "poll_presses": 3,
    "poll_announcements": 1,
    "poll_copies": 1,
    "chat_settings": 1,
    "recap_subscriptions": 1,
    "recap_requests": 1,
    "bot_state": 2,
    "market_closes": 2,
    "market_spans": 1,
    "market_latest": 1,
    "market_unknown": 1,
    "market_charts": 1,
    "telegram_updates": 1,
    "tally_refreshes": 1,
    "telegram_flood": 2,
}


def dsbot_db(folder: Path, *arguments: str, database: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", *arguments],
        capture_output=True,
        text=True,
        env=dsbot_environment(DSBOT_DATABASE=database or str(folder / "unused.sqlite3")),
        cwd=folder,
        timeout=120,
    )


async def community(path: Path) -> None:
    """A database a community has used: a row in every table."""
    async with open_stores(path) as stores:
        polls = stores.polls
        poll = await polls.create(
            platform="telegram",
            chat_id="-1001",
            question="Lunch?",
            options=["Noodles", "Rice", "Soup"],
            multi=False,
            closes_at=None,
            created_by="7",
            now=NOW,
            public=True,
        )
        for user, option, delivery in (("7", 0, "d1"), ("8", 1, "d2"), ("9", 2, "d3")):
            await polls.press(
                poll.id,
                platform="telegram",
                chat_id="-1001",
                user_id=user,
                option=option,
                now=NOW,
                delivery_id=delivery,
                user_name=f"user {user}",
            )
        await polls.claim_announcement(poll.id, "telegram", "-1001", NOW)
        await stores.poll_copies.add(PollCopy(poll.id, "telegram", "-1001", "17", "zh"), NOW)
        await stores.chat_settings.set_lang("telegram", "-1001", "zh")
        schedule = Schedule(time(16, 15), ZoneInfo("America/New_York"))
        await stores.subscriptions.subscribe("telegram", "-1001", schedule, "zh", "7", NOW)
        await stores.subscriptions.claim("telegram", "-1001", date(2025, 1, 27))
        await stores.subscriptions.admit_request("telegram", "-1001", NOW, timedelta(minutes=5))
        await stores.bot_state.put("discord.command_tree_hash", "abc123", now=NOW)
        cache = stores.market_cache
        closes = [(date(2025, 1, 24), 142.62), (date(2025, 1, 27), 118.42)]
        await cache.store_closes("NVDA", date(2025, 1, 24), date(2025, 1, 28), closes, NOW)
        await cache.store_latest("NVDA", CachedLatest(118.42, NOW, NOW))
        await cache.store_unknown("NOPE", NOW)
        await cache.store_chart("nvda-2025-01", b"\x89PNG\r\n\x1a\n-chart", NOW)
        await stores.update_claims.claim(912345678, NOW)
        await stores.refresh_leases.take("telegram:-1001:17", "worker-1", 1737990000000, 30_000)
        await stores.flood_limits.reserve(
            {"all": Rate.per(30, 1), "chat:-1001": Rate.per(20, 60)}, 1737990000000
        )


def sqlite_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with closing(sqlite3.connect(path)) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in TABLES
        }


async def postgresql_tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    connection = await asyncpg.connect(url)
    try:
        return {
            table: sorted(
                (tuple(row) for row in await connection.fetch(f"SELECT * FROM {table}")), key=repr
            )
            for table in TABLES
        }
    finally:
        await connection.close()


def printed_counts(stdout: str) -> dict[str, int]:
    lines = [line.split(": ") for line in stdout.splitlines() if line.endswith(" rows")]
    return {table: int(count.removesuffix(" rows")) for table, count in lines}


async def test_db_copy_carries_every_row_from_sqlite_to_postgresql_and_on_to_a_second_sqlite(
    tmp_path: Path, pg_url: str
) -> None:
    await community(tmp_path / "source.sqlite3")

    there = dsbot_db(tmp_path, "copy", str(tmp_path / "source.sqlite3"), pg_url)
    back = dsbot_db(tmp_path, "copy", pg_url, str(tmp_path / "again.sqlite3"))

    assert there.returncode == 0, there.stderr
    assert back.returncode == 0, back.stderr
    assert printed_counts(there.stdout) == SOURCE_ROWS
    assert printed_counts(back.stdout) == SOURCE_ROWS
    source = sqlite_tables(tmp_path / "source.sqlite3")
    assert await postgresql_tables(pg_url) == source
    assert sqlite_tables(tmp_path / "again.sqlite3") == source
    assert "s3cret" not in there.stdout + there.stderr + back.stdout + back.stderr


async def test_votes_copied_to_postgresql_keep_their_keys_so_they_can_be_changed_and_withdrawn(
    tmp_path: Path, pg_url: str
) -> None:
    await community(tmp_path / "source.sqlite3")

    copied = dsbot_db(tmp_path, "copy", str(tmp_path / "source.sqlite3"), pg_url)

    assert copied.returncode == 0, copied.stderr
    async with open_stores(pg_url) as stores:
        later = NOW + timedelta(minutes=1)
        press = partial(stores.polls.press, 2, platform="telegram", chat_id="-1001", now=later)
        changed = await press(user_id="8", option=2)
        withdrawn = await press(user_id="7", option=0)
        redelivered = await press(user_id="9", option=2, delivery_id="d3")
        assert (changed.choices, changed.tally.counts) == (frozenset({2}), (1, 0, 2))
        assert (withdrawn.choices, withdrawn.tally.counts) == (frozenset(), (0, 0, 2))
        assert (redelivered.changed, redelivered.tally.voters) == (False, 2)
        # The identity sequence was moved past the copied ids: the next poll is 3.
        poll = await stores.polls.create(
            platform="discord",
            chat_id="42",
            question="Tea?",
            options=["Yes", "No"],
            multi=False,
            closes_at=None,
            created_by="1",
            now=later,
        )
        assert poll.id == 3


async def test_db_copy_refuses_a_target_holding_data_and_leaves_it_as_it_was(
    tmp_path: Path, pg_url: str
) -> None:
    await community(tmp_path / "source.sqlite3")
    async with open_stores(pg_url) as stores:
        await stores.chat_settings.set_lang("discord", "42", "en")
    before = await postgresql_tables(pg_url)

    refused = dsbot_db(tmp_path, "copy", str(tmp_path / "source.sqlite3"), pg_url)

    assert refused.returncode == 1
    assert refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith("dsbot: the target postgresql://dsbot:***@127.0.0.1:")
    assert "already holds data (rows in chat_settings 1, bot_state 1)" in line
    assert "nothing was copied" in line
    assert await postgresql_tables(pg_url) == before


def test_db_copy_refuses_a_sqlite_target_holding_data(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "source.sqlite3")):
        pass
    dsbot_db(tmp_path, "upgrade", database=str(tmp_path / "target.sqlite3"))
    with closing(sqlite3.connect(tmp_path / "target.sqlite3")) as connection, connection:
        connection.execute("INSERT INTO bot_state VALUES ('mine', 'kept', '2025-01-27')")

    refused = dsbot_db(tmp_path, "copy", str(tmp_path / "source.sqlite3"), "target.sqlite3")

    assert refused.returncode == 1
    assert "already holds data (rows in bot_state 1)" in refused.stderr
    assert sqlite_tables(tmp_path / "target.sqlite3")["bot_state"] == [
        ("mine", "kept", "2025-01-27")
    ]


async def test_db_upgrade_applies_the_pending_migrations_and_prints_the_version(
    tmp_path: Path, pg_url: str
) -> None:
    async with open_database(tmp_path / "old.sqlite3", migrate=False) as db:
        await db.migrate(target=3)

    latest = len(migrations())  # one version per migration file
    sqlite = dsbot_db(tmp_path, "upgrade", database=str(tmp_path / "old.sqlite3"))
    server = dsbot_db(tmp_path, "upgrade", database=pg_url)

    assert sqlite.returncode == 0, sqlite.stderr
    assert sqlite.stdout == f"{tmp_path / 'old.sqlite3'}: schema version {latest} (was 3)\n"
    with closing(sqlite3.connect(tmp_path / "old.sqlite3")) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (latest,)
    assert server.returncode == 0, server.stderr
    assert server.stdout.endswith(f": schema version {latest} (was 0)\n")
    assert "s3cret" not in server.stdout
