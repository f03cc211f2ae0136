"""The SQLite store: pragmas, forward migrations, and refusing a database it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import DatabaseError, migrations, open_database


async def test_a_new_database_is_migrated_to_the_latest_version(tmp_path: Path) -> None:
    async with open_database(tmp_path / "bot.sqlite3") as db:
        assert await db.schema_version() == len(migrations())
        async with db.connection.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone()) == ("wal",)
        async with db.connection.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone()) == (1,)


async def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    garbage = b"this is not sqlite" * 100
    path.write_bytes(garbage)

    with pytest.raises(DatabaseError):
        async with open_database(path):
            pass

    assert path.read_bytes() == garbage


async def test_a_database_from_a_newer_dsbot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with open_database(path) as db:
        await db.connection.execute(f"PRAGMA user_version = {len(migrations()) + 1}")

    with pytest.raises(DatabaseError, match="newer than this dsbot"):
        async with open_database(path):
            pass


def test_migrations_are_numbered_without_gaps() -> None:
    assert [migration.version for migration in migrations()] == list(
        range(1, len(migrations()) + 1)
    )
