"""`dsbot db backup PATH`: a consistent copy of the live database, and one clear line if not."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from storage.db import migrations, open_database
from tests.conftest import dsbot_environment


def dsbot_db(tmp_path: Path, *arguments: str, database: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", *arguments],
        capture_output=True,
        text=True,
        env=dsbot_environment(DSBOT_DATABASE=str(database)),
        cwd=tmp_path,
        timeout=120,
    )


async def bot_database(path: Path) -> Path:
    """A database as the bot leaves it: migrated, in WAL mode."""
    async with open_database(path):
        pass
    return path


@contextmanager
def writer(database: Path, mode: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.backup_writer", str(database), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        process.kill()
        process.communicate(timeout=30)


def wait_for(process: subprocess.Popen[str], line: str) -> list[str]:
    assert process.stdout is not None
    seen: list[str] = []
    while not seen or seen[-1] != line:
        got = process.stdout.readline()
        assert got, f"the writer stopped before printing {line!r}: {seen[-3:]}"
        seen.append(got.strip())
    return seen


def probe_rows(path: Path) -> tuple[str, list[tuple[int, int]], int]:
    """(integrity_check, [(k, halves)] in k order, user_version) of a backup file."""
    with closing(sqlite3.connect(path)) as copy:
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
        pairs = copy.execute("SELECT k, count(*) FROM probe GROUP BY k ORDER BY k").fetchall()
        version = copy.execute("PRAGMA user_version").fetchone()[0]
    return integrity, pairs, version


async def test_a_backup_taken_while_another_process_writes_is_whole_and_holds_every_commit(
    tmp_path: Path,
) -> None:
    database = await bot_database(tmp_path / "bot.sqlite3")
    with writer(database, "stream") as writing:
        wait_for(writing, "committed 50")

        result = dsbot_db(tmp_path, "backup", "copy.sqlite3", database=database)

        writing.kill()
        assert writing.stdout is not None
        last = [line for line in writing.stdout.read().split("\n") if line][-1:]
    final = int(last[0].split()[1]) if last else 50

    integrity, pairs, version = probe_rows(tmp_path / "copy.sqlite3")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith(f"backed up {database} to copy.sqlite3 (")
    assert integrity == "ok"
    assert version == len(migrations())
    ks = [k for k, _ in pairs]
    # Every commit printed before the backup began is in it, and each transaction is whole.
    assert ks == list(range(1, len(ks) + 1))
    assert 50 <= len(ks) <= final + 1
    assert {halves for _, halves in pairs} == {2}


async def test_a_transaction_still_open_during_the_backup_is_left_out_of_it(
    tmp_path: Path,
) -> None:
    database = await bot_database(tmp_path / "bot.sqlite3")
    with writer(database, "hold") as writing:
        wait_for(writing, "holding")

        result = dsbot_db(tmp_path, "backup", "copy.sqlite3", database=database)

        assert writing.stdin is not None
        writing.stdin.write("commit\n")
        writing.stdin.flush()
        wait_for(writing, "committed 4")

    assert result.returncode == 0, result.stderr
    assert probe_rows(tmp_path / "copy.sqlite3")[:2] == ("ok", [(1, 2), (2, 2), (3, 2)])
    assert probe_rows(database)[1] == [(1, 2), (2, 2), (3, 2), (4, 2)]


async def test_an_existing_backup_is_not_overwritten_without_force(tmp_path: Path) -> None:
    database = await bot_database(tmp_path / "bot.sqlite3")
    (tmp_path / "copy.sqlite3").write_bytes(b"last week's backup")

    refused = dsbot_db(tmp_path, "backup", "copy.sqlite3", database=database)

    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        "dsbot: copy.sqlite3 already exists; choose another path or add --force\n"
    )
    assert (tmp_path / "copy.sqlite3").read_bytes() == b"last week's backup"


async def test_force_replaces_an_existing_backup_with_a_database(tmp_path: Path) -> None:
    database = await bot_database(tmp_path / "bot.sqlite3")
    (tmp_path / "copy.sqlite3").write_bytes(b"last week's backup")

    result = dsbot_db(tmp_path, "backup", "copy.sqlite3", "--force", database=database)

    assert result.returncode == 0, result.stderr
    with closing(sqlite3.connect(tmp_path / "copy.sqlite3")) as copy:
        assert copy.execute("PRAGMA user_version").fetchone() == (len(migrations()),)


def test_a_missing_database_exits_4_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "typo.sqlite3"

    result = dsbot_db(tmp_path, "backup", "copy.sqlite3", database=database)

    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == f"dsbot: there is no database at {database} (DSBOT_DATABASE)\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_database_exits_4_and_leaves_no_backup(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    database.write_bytes(b"this is not sqlite" * 300)

    result = dsbot_db(tmp_path, "backup", "copy.sqlite3", database=database)

    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr == (
        f"dsbot: the database {database} cannot be copied: file is not a database\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bot.sqlite3"]


async def test_a_backup_into_a_missing_directory_exits_1_in_one_line(tmp_path: Path) -> None:
    database = await bot_database(tmp_path / "bot.sqlite3")

    result = dsbot_db(tmp_path, "backup", "nowhere/copy.sqlite3", database=database)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "dsbot: cannot write the backup nowhere/copy.sqlite3: no directory nowhere\n"
    )
