"""The SQLite backend of storage/sql.py: one aiosqlite connection, its transactions and schema.

The schema is the shared history in `migrations/NNNN_name.sql`; each file runs once, in
order, in one write transaction, and `PRAGMA user_version` records the last one applied.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.sql import (
    DatabaseError,
    Dialect,
    Row,
    StorageBusy,
    StorageFull,
    StorageUnavailable,
    migrations,
    pending,
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000

__all__ = [
    "BUSY_TIMEOUT_MS",
    "Database",
    "DatabaseError",
    "StorageBusy",
    "StorageFull",
    "StorageUnavailable",
    "migrations",
    "open_database",
    "typed_error",
]


def typed_error(error: sqlite3.Error) -> Exception:
    """StorageBusy, StorageFull or StorageUnavailable for the faults a user can be told
    about; else `error`."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StorageBusy(str(error))
    if primary == sqlite3.SQLITE_FULL:
        return StorageFull(str(error))
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN):
        # The file's disk went away (an unmounted volume, a network share down).
        return StorageUnavailable(str(error))
    return error


class SqliteTx:
    """The neutral Tx over the one aiosqlite connection, inside a transaction already begun."""

    __slots__ = ("connection",)

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, parameters: Sequence[object] = ()) -> int:
        cursor = await self.connection.execute(sql, parameters)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self.connection.executemany(sql, rows)

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        return [tuple(row) for row in await self.connection.execute_fetchall(sql, parameters)]

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> Row | None:
        rows = await self.fetch_all(sql, parameters)
        return rows[0] if rows else None

    async def serialise(self, *keys: str) -> None:
        # BEGIN IMMEDIATE took the database's one write lock already.
        return None


class Database:
    """The bot's SQLite database. `lock` serialises transactions on the one connection."""

    dialect: Dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.lock = asyncio.Lock()
        self._tx = SqliteTx(connection)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
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
                yield self._tx
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
    async def snapshot(self) -> AsyncIterator[SqliteTx]:
        """A read transaction that never sees another transaction half written.

        Every store shares the one connection, so a read outside the lock would run inside
        whatever transaction is open at that moment and could see its uncommitted rows.
        """
        async with self.lock:
            await self.connection.execute("BEGIN")
            try:
                yield self._tx
            finally:
                await self.connection.execute("COMMIT")

    async def execute_alone(self, sql: str, parameters: Sequence[object] = ()) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, parameters)

    async def fetch_alone(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        async with self.transaction() as tx:
            return await tx.fetch_all(sql, parameters)

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """Every row of one read statement: its own transaction, one trip to the thread.

        Stepped to the end on aiosqlite's thread in one go, so no other transaction on the
        connection can begin half way through it.
        """
        try:
            return [tuple(row) for row in await self.connection.execute_fetchall(sql, parameters)]
        except sqlite3.Error as error:
            typed = typed_error(error)
            if typed is error:
                raise
            raise typed from error

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, target: int | None = None) -> int:
        """Apply every migration newer than the database, up to `target`; returns the version.

        Each one runs under the write lock and checks the version again inside it, so
        processes starting together on one file apply each migration once.
        """
        current = await self.schema_version()
        for migration in pending(current, target):
            async with self.transaction() as tx:
                current = await self.schema_version()
                if current >= migration.version:
                    continue
                log.info("applying migration %s", migration.name)
                for statement in migration.statements(self.dialect):
                    await tx.execute(statement)
                await tx.execute(f"PRAGMA user_version = {migration.version}")
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
    pending_connection = aiosqlite.connect(str(path), isolation_level=None)
    try:
        connection = await pending_connection
    except sqlite3.Error as error:
        # aiosqlite queues its worker thread's stop but does not wait for it: the worker
        # would then answer into a closed event loop ("Event loop is closed" from a thread).
        worker = getattr(pending_connection, "_thread", None)
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
