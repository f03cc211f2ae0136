"""SQLite faults: another process holding the write lock, a full disk, a damaged file at start-up.

The lock is held by a real second process (`BEGIN IMMEDIATE` in a child Python), the way a
backup or an operator's sqlite3 shell would hold it. The bot's busy timeout is shortened
from 5 s to a fraction of a second on its connection so the tests stay fast; the mechanism
(SQLite waiting, then SQLITE_BUSY) is the production one. A full disk is simulated with
`PRAGMA max_page_count` on the bot's connection: SQLite then fails a write that needs a new
page with SQLITE_FULL, exactly the error a full file system gives it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.dispatch import dispatch
from bot.services import build_services
from handlers.i18n import text
from handlers.model import Reply, Request, Services
from storage.chat_settings import ChatSettingsStore
from storage.db import Database, StorageFull, open_database
from storage.facts import Facts
from storage.polls import DEEPSEEK_POLL_ID, PollStore
from tests.conftest import NOW, dsbot_environment, offline_settings, sqlite_database
from tests.storage.vote_keys import votes_by_user

ROOT = Path(__file__).resolve().parents[2]
# The lock holder: takes the write lock, says so, and keeps it until told (a line on stdin).
HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute(
    "INSERT INTO chat_settings (platform, chat_id, lang) VALUES ('console', 'holder', 'en')"
)
print("locked", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
print("released", flush=True)
"""
SHORT_BUSY_MS = 400


@pytest.fixture
async def file_services(facts: Facts, tmp_path: Path) -> AsyncIterator[Services]:
    settings = offline_settings(tmp_path / "bot.sqlite3")
    async with build_services(settings, facts=facts, clock=lambda: NOW) as built:
        yield built


@pytest.fixture
def database(file_services: Services) -> Database:
    return sqlite_database(file_services)


class LockHolder:
    """A second process holding the database's write lock until `release()`."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def take(cls, path: Path) -> LockHolder:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLDER,
            str(path),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        assert line == b"locked\n"
        return cls(process)

    async def release(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.process.returncode is None:
            self.process.stdin.write(b"go\n")
            await self.process.stdin.drain()
            assert await asyncio.wait_for(self.process.stdout.readline(), 10) == b"released\n"
            await self.process.wait()


def vote(user: str, option: int = 0, *, locale: str = "en", delivery: str = "") -> Request:
    return Request(
        platform="telegram",
        user_id=user,
        chat_id="-100",
        chat_kind="group",
        locale=locale,
        action=f"poll:{DEEPSEEK_POLL_ID}:{option}",
        delivery_id=delivery or f"{user}/{option}",
    )


async def stored_votes(db: Database, *users: str) -> dict[str, int]:
    """The DeepSeek poll's stored votes, under the names of `users` where they are theirs."""
    return await votes_by_user(db.connection, DEEPSEEK_POLL_ID, "telegram", users)


async def integrity(db: Database) -> str:
    rows = list(await db.connection.execute_fetchall("PRAGMA integrity_check"))
    return str(rows[0][0])


# -- a write lock held by another process ---------------------------------------------------


class StatementLog:
    """Every statement the bot's connection starts, in order, as SQLite's trace hook sees it.

    The hook runs on aiosqlite's thread when a statement begins, before SQLite waits for a lock,
    so a statement stuck behind another process is in the log while it waits.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    def record(self, statement: str) -> None:
        self.seen.append(statement)
        self._loop.call_soon_threadsafe(self._changed.set)

    async def wait_for(self, statement: str, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while statement not in self.seen:
                self._changed.clear()
                await self._changed.wait()


def vote_rows_written(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("INSERT INTO poll_votes")]


async def test_a_vote_during_a_short_lock_waits_for_it_and_is_saved_once_the_other_process_lets_go(
    file_services: Services, database: Database, tmp_path: Path
) -> None:
    await database.connection.execute(f"PRAGMA busy_timeout = {SHORT_BUSY_MS * 5}")
    statements = StatementLog()
    await database.connection.set_trace_callback(statements.record)
    holder = await LockHolder.take(tmp_path / "bot.sqlite3")

    voting = asyncio.create_task(dispatch(vote("ada"), file_services))
    await statements.wait_for("BEGIN IMMEDIATE")
    # The other process still holds the lock: nothing after BEGIN can have run yet.
    while_locked = list(statements.seen)
    await holder.release()
    reply = await voting

    assert vote_rows_written(while_locked) == []
    assert not reply.is_error, reply.plain_text()
    assert len(vote_rows_written(statements.seen)) == 1
    assert await stored_votes(database, "ada") == {"ada": 1}
    assert (await ChatSettingsStore(database).get("console", "holder")).lang == "en"


@pytest.mark.parametrize(
    "request_",
    [
        vote("bo", locale="zh-CN"),
        Request(
            platform="telegram",
            user_id="bo",
            chat_id="bo",
            command="settings",
            text="tz Asia/Shanghai",
            locale="zh-CN",
        ),
    ],
    ids=["vote", "settings"],
)
async def test_during_a_long_lock_the_user_is_told_the_database_is_busy_in_their_language(
    file_services: Services, database: Database, tmp_path: Path, request_: Request
) -> None:
    await database.connection.execute(f"PRAGMA busy_timeout = {SHORT_BUSY_MS}")
    holder = await LockHolder.take(tmp_path / "bot.sqlite3")
    try:
        started = time.monotonic()
        refused = await dispatch(request_, file_services)
        waited = time.monotonic() - started
    finally:
        await holder.release()

    assert refused.is_error and refused.ephemeral
    assert refused.plain_text() == text("zh", "core.busy")
    assert refused.plain_text() != text("zh", "core.sorry")
    assert SHORT_BUSY_MS / 1000 * 0.9 <= waited < 3
    assert await stored_votes(database) == {}
    assert (await ChatSettingsStore(database).get("telegram", "bo")).tz is None
    assert await integrity(database) == "ok"
    # The lock is gone: the same request now goes through on the same connection.
    accepted = await dispatch(request_, file_services)
    assert not accepted.is_error, accepted.plain_text()


async def test_a_burst_of_votes_during_a_long_lock_is_refused_in_one_busy_wait_not_one_each(
    file_services: Services, database: Database, tmp_path: Path
) -> None:
    await database.connection.execute(f"PRAGMA busy_timeout = {SHORT_BUSY_MS}")
    holder = await LockHolder.take(tmp_path / "bot.sqlite3")
    try:
        started = time.monotonic()
        replies = await asyncio.gather(
            *(dispatch(vote(f"user{n}"), file_services) for n in range(20))
        )
        waited = time.monotonic() - started
    finally:
        await holder.release()

    assert {reply.plain_text() for reply in replies} == {text("en", "core.busy")}
    # The first vote waits alone; the other 19 form one batch that waits once more.
    assert waited < 4 * SHORT_BUSY_MS / 1000
    assert await stored_votes(database) == {}
    again = await asyncio.gather(*(dispatch(vote(f"user{n}"), file_services) for n in range(20)))
    assert not any(reply.is_error for reply in again)
    assert len(await stored_votes(database)) == 20


# -- a full disk --------------------------------------------------------------------------


async def fill_until_refused(services: Services, limit: int = 2000) -> tuple[list[str], Reply]:
    """Vote as new users until a vote is refused; the users whose votes were accepted."""
    accepted: list[str] = []
    for number in range(limit):
        user = f"voter-{number:05d}-" + "x" * 40  # long ids fill pages sooner
        reply = await dispatch(vote(user, number % 4, locale="zh-CN"), services)
        if reply.is_error:
            return accepted, reply
        accepted.append(user)
    raise AssertionError(f"{limit} votes fitted: the size limit was not reached")


async def test_a_full_disk_refuses_the_vote_clearly_keeps_every_earlier_one_and_recovers(
    file_services: Services, database: Database
) -> None:
    (pages,) = next(iter(await database.connection.execute_fetchall("PRAGMA page_count")))
    await database.connection.execute(f"PRAGMA max_page_count = {int(pages) + 2}")

    accepted, refused = await fill_until_refused(file_services)

    assert refused.plain_text() == text("zh", "core.storage_full")
    assert refused.ephemeral
    assert accepted, "not one vote fitted before the disk was full"
    assert set(await stored_votes(database, *accepted)) == set(accepted)
    assert await integrity(database) == "ok"
    settings = Request(
        platform="console", user_id="u", chat_id="c", command="settings", text="lang zh"
    )
    # Space comes back: the refused voter and everyone else can vote again.
    await database.connection.execute("PRAGMA max_page_count = 1073741823")
    late = await dispatch(vote("latecomer", 2), file_services)
    changed = await dispatch(settings, file_services)
    assert not late.is_error and not changed.is_error
    assert len(await stored_votes(database)) == len(accepted) + 1
    assert await integrity(database) == "ok"


async def test_a_write_refused_for_a_full_disk_leaves_the_connection_usable(
    database: Database,
) -> None:
    (pages,) = next(iter(await database.connection.execute_fetchall("PRAGMA page_count")))
    await database.connection.execute(f"PRAGMA max_page_count = {int(pages)}")

    with pytest.raises(StorageFull):
        async with database.transaction() as connection:
            await connection.execute(
                "INSERT INTO market_charts (key, png, created_at) VALUES ('k', ?, 'now')",
                (b"\x00" * 200_000,),
            )
    await database.connection.execute("PRAGMA max_page_count = 1073741823")
    await ChatSettingsStore(database).set_lang("console", "c", "zh")

    assert (await ChatSettingsStore(database).get("console", "c")).lang == "zh"
    assert await database.connection.execute_fetchall("SELECT key FROM market_charts") == []


# -- a damaged file at start-up -------------------------------------------------------------


def run_dsbot_ask(database: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = dsbot_environment()
    environment.update(
        {
            "DSBOT_DATABASE": str(database),
            "DSBOT_MARKET": "offline",
            "PYTHONPATH": str(ROOT),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/help"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
    )


async def real_database(path: Path) -> int:
    """A database with a poll and votes in it, closed cleanly; its page size."""
    async with open_database(path) as db:
        polls = PollStore(db)
        await asyncio.gather(
            *(
                polls.press(
                    DEEPSEEK_POLL_ID,
                    platform="telegram",
                    chat_id="-100",
                    user_id=f"user-{user}",
                    option=user % 4,
                    now=NOW,
                )
                for user in range(300)
            )
        )
        rows = list(await db.connection.execute_fetchall("PRAGMA page_size"))
        await db.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return int(rows[0][0])


async def test_a_truncated_database_stops_start_up_with_a_clear_message_and_is_left_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    page = await real_database(path)
    damaged = path.read_bytes()[: page * 3 + 100]
    path.write_bytes(damaged)

    result = run_dsbot_ask(path, tmp_path)

    assert result.returncode == 4, result.stdout + result.stderr
    assert "cannot be used" in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == damaged


async def test_one_damaged_table_page_is_caught_at_start_up_not_at_the_first_vote(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    page = await real_database(path)
    async with open_database(path) as db:
        rows = await db.connection.execute_fetchall(
            "SELECT rootpage FROM sqlite_master WHERE name = 'poll_votes'"
        )
    root = int(next(iter(rows))[0])
    data = bytearray(path.read_bytes())
    start = (root - 1) * page
    data[start : start + page] = bytes((n * 37 + 11) % 256 for n in range(page))
    path.write_bytes(bytes(data))

    result = run_dsbot_ask(path, tmp_path)

    assert result.returncode == 4, result.stdout + result.stderr
    assert "malformed" in result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == bytes(data)
    assert not (tmp_path / "bot.sqlite3-wal").exists() or (
        (tmp_path / "bot.sqlite3-wal").stat().st_size == 0
    )
