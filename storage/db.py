"""One aiosqlite connection: its transactions and its versioned schema, nothing else.

The schema lives in `migrations/NNNN_name.sql`; each file runs once, in order, inside one
transaction, and `PRAGMA user_version` records the last one applied. The stores (polls,
subscriptions, chat settings, bot state, market cache) are small classes over the same
connection, each in its own module, each implementing its Protocol in storage/contracts.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(Exception):
    """The database file cannot be used (corrupt, not a database, or newer than this code)."""


class StorageBusy(Exception):
    """Another process held the write lock past the busy timeout; nothing was written."""


class StorageFull(Exception):
    """The disk (or the database's size limit) is full; the transaction was rolled back."""


def typed_error(error: sqlite3.Error) -> Exception:
    """StorageBusy or StorageFull for the faults a user can be told about; else `error`."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(str(error))
    if primary == sqlite3.SQLITE_FULL:
        return StorageFull(str(error))
    return error


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with the package, in version order."""
    found: list[Migration] = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return tuple(found)


class Database:
    """The bot's SQLite database. `lock` serialises transactions on the one connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error; one at a time.

        A write lock held elsewhere past the busy timeout raises StorageBusy, a full disk
        StorageFull: both leave nothing written, and the connection ready for the next one.
        """
        async with self.lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise typed_error(error) from error
            try:
                yield self.connection
                # Inside the try: a COMMIT that fails (disk full) leaves the transaction
                # open, and the next BEGIN on this connection would fail too.
                await self.connection.commit()
            except BaseException as error:
                await self.connection.rollback()
                if isinstance(error, sqlite3.Error):
                    typed = typed_error(error)
                    if typed is not error:
                        raise typed from error
                raise

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read transaction that never sees another transaction half written.

        Every store shares the one connection, so a read outside the lock would run inside
        whatever transaction is open at that moment and could see its uncommitted rows.
        """
        async with self.lock:
            await self.connection.execute("BEGIN")
            try:
                yield self.connection
            finally:
                await self.connection.execute("COMMIT")

    async def fetch(self, sql: str, parameters: Sequence[object] = ()) -> list[Sequence[Any]]:
        """Every row of one read statement: its own transaction, one trip to the thread.

        Stepped to the end on aiosqlite's thread in one go, so no other transaction on the
        connection can begin half way through it.
        """
        return [tuple(row) for row in await self.connection.execute_fetchall(sql, parameters)]

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, target: int | None = None) -> int:
        """Apply every migration newer than the database, up to `target`; returns the version."""
        current = await self.schema_version()
        known = migrations()
        if current > len(known):
            raise DatabaseError(
                f"the database is at schema version {current}, newer than this dsbot "
                f"({len(known)}); upgrade dsbot"
            )
        for migration in known:
            if migration.version <= current or (target is not None and migration.version > target):
                continue
            log.info("applying migration %s", migration.name)
            # executescript commits first, so the script carries its own BEGIN/COMMIT.
            await self.connection.executescript(
                f"BEGIN;\n{migration.sql}\nPRAGMA user_version = {migration.version};\nCOMMIT;"
            )
            current = migration.version
        return current


async def _check_integrity(connection: aiosqlite.Connection) -> None:
    """Refuse a damaged file at start-up rather than apologising for every later command.

    A page damaged inside one table otherwise goes unnoticed until a command reads it.
    quick_check reads every page once (milliseconds for a bot's database) and writes nothing.
    """
    rows = list(await connection.execute_fetchall("PRAGMA quick_check(1)"))
    if not rows or rows[0][0] != "ok":
        found = " ".join(str(rows[0][0]).split()) if rows else "no answer"
        raise sqlite3.DatabaseError(f"database disk image is malformed ({found})")


@asynccontextmanager
async def open_database(path: str | Path, *, migrate: bool = True) -> AsyncIterator[Database]:
    """Open (creating if needed) and migrate the database; `":memory:"` for tests."""
    pending = aiosqlite.connect(str(path), isolation_level=None)
    try:
        connection = await pending
    except sqlite3.Error as error:
        # aiosqlite queues its worker thread's stop but does not wait for it: the worker
        # would then answer into a closed event loop ("Event loop is closed" from a thread).
        worker = getattr(pending, "_thread", None)
        if isinstance(worker, threading.Thread):
            await asyncio.to_thread(worker.join)
        raise DatabaseError(f"cannot open the database {path}: {error}") from error
    try:
        try:
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                # Before anything that could write to the file (the journal mode).
                await _check_integrity(connection)
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = FULL")
            database = Database(connection)
            if migrate:
                await database.migrate()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(f"the database {path} cannot be used: {error}") from error
        yield database
    finally:
        await connection.close()
