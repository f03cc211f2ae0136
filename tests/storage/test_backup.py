"""Restoring a backup the way docs/self-hosting.md says gives the bot back what it had."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storage.backends import open_stores
from storage.backup import BackupRefused, backup_database
from storage.db import DatabaseError

# What a process killed after a commit leaves behind: its write still only in the -wal file.
CRASHED_WRITER = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode = WAL")
connection.execute("UPDATE chat_settings SET lang = 'en' WHERE chat_id = 'chat-1'")
connection.execute("INSERT INTO bot_state (key, value, updated_at) VALUES ('late', 'x', 'now')")
os._exit(0)
"""


def restore(backup: Path, database: Path) -> None:
    """docs/self-hosting.md, "Backup and restore": with the bot stopped, drop the old
    database's -wal and -shm files (they belong to the old file and would be replayed onto
    the restored one), then copy the backup into place."""
    for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, database)


async def test_a_restored_backup_gives_the_stores_back_what_they_held_when_it_was_taken(
    tmp_path: Path,
) -> None:
    database = tmp_path / "dsbot.sqlite3"
    async with open_stores(database) as stores:
        await stores.chat_settings.set_lang("telegram", "chat-1", "zh")
        await stores.bot_state.put("discord.command_tree_hash", "abc123")
        backup_database(database, tmp_path / "backup.sqlite3")  # while the bot has it open
        await stores.chat_settings.set_lang("telegram", "chat-2", "zh")
    subprocess.run([sys.executable, "-c", CRASHED_WRITER, str(database)], check=True, timeout=60)
    assert Path(f"{database}-wal").stat().st_size > 0  # the unclean stop the restore must undo

    restore(tmp_path / "backup.sqlite3", database)

    async with open_stores(database) as stores:
        assert (await stores.chat_settings.get("telegram", "chat-1")).lang == "zh"
        assert (await stores.chat_settings.get("telegram", "chat-2")).lang is None
        assert await stores.bot_state.get("discord.command_tree_hash") == "abc123"
        assert await stores.bot_state.get("late") is None


async def test_a_backup_is_one_file_with_no_journal_beside_it(tmp_path: Path) -> None:
    database = tmp_path / "dsbot.sqlite3"
    async with open_stores(database) as stores:
        await stores.bot_state.put("k", "v")
        (tmp_path / "backups").mkdir()
        done = backup_database(database, tmp_path / "backups" / "b.sqlite3")

    assert sorted(path.name for path in (tmp_path / "backups").iterdir()) == ["b.sqlite3"]
    assert done.size == (tmp_path / "backups" / "b.sqlite3").stat().st_size


async def test_the_database_itself_is_never_the_backup_target(tmp_path: Path) -> None:
    database = tmp_path / "dsbot.sqlite3"
    async with open_stores(database):
        pass

    with pytest.raises(BackupRefused, match="is the database itself"):
        backup_database(database, database, overwrite=True)


def test_an_in_memory_database_cannot_be_backed_up(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="in-memory"):
        backup_database(":memory:", tmp_path / "b.sqlite3")
