"""The PostgreSQL backend of storage/sql.py: an asyncpg pool, its transactions and schema.

Imported only when DSBOT_DATABASE is a postgresql:// URL, so the SQLite path never loads
asyncpg. Every connection fault (a server restarting, a dropped socket, a refused connect)
becomes StorageUnavailable; the pool replaces a dead connection on the next acquire, so work
resumes by itself once the server is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from storage.sql import (
    DatabaseError,
    Dialect,
    Row,
    StorageBusy,
    StorageError,
    StorageFull,
    StorageUnavailable,
    pending,
    placeholders_for,
)
from storage.urls import ServerUrl, redact

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection = PoolConnectionProxy[Any]

log = logging.getLogger(__name__)
_Result = TypeVar("_Result")

# Seconds to wait for a connection; a server that is down refuses at once on the same host.
CONNECT_TIMEOUT = 5.0
# Seconds one statement may run (a lock held by another process included).
COMMAND_TIMEOUT = 30.0
POOL_MIN, POOL_MAX = 1, 10
# pg_advisory_lock key held while migrating: "dsbt" in ASCII.
MIGRATION_LOCK = 0x64736274
VERSION_TABLE = "dsbot_schema_version"

# SQLSTATE classes and codes a user hears about; anything else is a bug to be logged.
_UNAVAILABLE_CLASSES = ("08",)
_UNAVAILABLE_CODES = ("57P01", "57P02", "57P03", "53300")
_BUSY_CODES = ("55P03", "40001", "40P01", "57014")
_FULL_CODES = ("53100", "53200")


def typed_error(error: BaseException) -> BaseException:
    """The neutral storage error for a driver or socket fault; else `error` itself."""
    if isinstance(error, StorageError):
        return error
    code = getattr(error, "sqlstate", None)
    if isinstance(code, str):
        if code.startswith(_UNAVAILABLE_CLASSES) or code in _UNAVAILABLE_CODES:
            return StorageUnavailable(f"the database server is unavailable ({code})")
        if code in _BUSY_CODES:
            return StorageBusy(f"the database is busy ({code})")
        if code in _FULL_CODES:
            return StorageFull(f"the database server is out of space ({code})")
        return error
    if isinstance(error, OSError | TimeoutError | asyncpg.InterfaceError):
        return StorageUnavailable(f"the database server is unavailable ({type(error).__name__})")
    return error


def _raise_typed(error: BaseException) -> None:
    typed = typed_error(error)
    if typed is not error:
        raise typed from error


class PostgresTx:
    """The neutral Tx over one pooled connection inside a transaction already begun."""

    __slots__ = ("connection",)

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, parameters: Sequence[object] = ()) -> int:
        status = await self.connection.execute(placeholders_for("postgresql", sql), *parameters)
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        await self.connection.executemany(placeholders_for("postgresql", sql), list(rows))

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        rows = await self.connection.fetch(placeholders_for("postgresql", sql), *parameters)
        return [tuple(row) for row in rows]

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> Row | None:
        row = await self.connection.fetchrow(placeholders_for("postgresql", sql), *parameters)
        return None if row is None else tuple(row)

    async def serialise(self, *keys: str) -> None:
        if keys:
            await self.connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) "
                "FROM (SELECT DISTINCT unnest($1::text[]) AS k ORDER BY 1) AS sorted",
                list(keys),
            )


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database; each transaction takes one."""

    dialect: Dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool[Any], url: ServerUrl) -> None:
        self.pool = pool
        self.url = url

    @asynccontextmanager
    async def _begun(self, **options: Any) -> AsyncIterator[PostgresTx]:
        # A connection that died while idle in the pool (the server restarted) fails at
        # BEGIN, before anything was sent: one fresh try then goes to the server that is back.
        for attempt in (1, 2):
            try:
                connection = await self.pool.acquire(timeout=CONNECT_TIMEOUT)
            except BaseException as error:
                _raise_typed(error)
                raise
            transaction = connection.transaction(**options)
            try:
                await transaction.start()
            except BaseException as error:
                await self._give_back(connection)
                if attempt == 1 and isinstance(typed_error(error), StorageUnavailable):
                    continue
                _raise_typed(error)
                raise
            break
        try:
            try:
                yield PostgresTx(connection)
            except BaseException:
                with suppress(Exception):
                    await transaction.rollback()
                raise
            await transaction.commit()
        except BaseException as error:
            _raise_typed(error)
            raise
        finally:
            await self._give_back(connection)

    async def _give_back(self, connection: Connection) -> None:
        with suppress(Exception):
            await self.pool.release(connection)

    def transaction(self) -> AbstractAsyncContextManager[PostgresTx]:
        """A READ COMMITTED write transaction; writers of the same rows take turns through
        row locks and Tx.serialise."""
        return self._begun()

    def snapshot(self) -> AbstractAsyncContextManager[PostgresTx]:
        """A read-only REPEATABLE READ transaction: every statement sees one moment."""
        return self._begun(isolation="repeatable_read", readonly=True)

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """One statement in autocommit: one round trip (a read sent twice changes nothing, so
        a connection found dead is replaced and the read sent again, once)."""
        for attempt in (1, 2):
            try:
                async with self.pool.acquire(timeout=CONNECT_TIMEOUT) as connection:
                    return await PostgresTx(connection).fetch_all(sql, parameters)
            except BaseException as error:
                if attempt == 1 and isinstance(typed_error(error), StorageUnavailable):
                    continue
                _raise_typed(error)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def execute_alone(self, sql: str, parameters: Sequence[object] = ()) -> int:
        """One write in autocommit: one round trip instead of BEGIN, the write and COMMIT."""
        return await self._alone(lambda tx: tx.execute(sql, parameters))

    async def fetch_alone(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """One write with RETURNING in autocommit: one round trip, never sent twice."""
        return await self._alone(lambda tx: tx.fetch_all(sql, parameters))

    async def _alone(self, run: Callable[[PostgresTx], Awaitable[_Result]]) -> _Result:
        try:
            async with self.pool.acquire(timeout=CONNECT_TIMEOUT) as connection:
                return await run(PostgresTx(connection))
        except BaseException as error:
            _raise_typed(error)
            raise

    async def schema_version(self) -> int:
        async with self._begun(readonly=True) as tx:
            exists = await tx.fetch_one("SELECT to_regclass(?)::text", (VERSION_TABLE,))
            if exists is None or exists[0] is None:
                return 0
            row = await tx.fetch_one(f"SELECT max(version) FROM {VERSION_TABLE}")
            return int(row[0]) if row and row[0] is not None else 0

    async def migrate(self, target: int | None = None) -> int:
        """Apply the pending migrations under an advisory lock: processes starting together
        wait for the first, then find nothing left to do."""
        async with self.pool.acquire(timeout=CONNECT_TIMEOUT) as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await connection.execute(
                    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER PRIMARY KEY, "
                    "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                current = await self.schema_version()
                for migration in pending(current, target):
                    log.info("applying migration %s", migration.name)
                    async with connection.transaction():
                        for statement in migration.statements(self.dialect):
                            await connection.execute(statement)
                        await connection.execute(
                            f"INSERT INTO {VERSION_TABLE} (version) VALUES ($1)",
                            migration.version,
                        )
                    current = migration.version
                return current
            finally:
                try:
                    await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
                except BaseException:
                    # Still holding the lock, it must not go back to the pool.
                    connection.terminate()
                    raise


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What a connection goes back to the pool with: as it is, saving asyncpg's reset query (a
    round trip on every transaction). dsbot leaves no session state behind: its locks are
    transaction-scoped but the migration lock, which `migrate` releases or ends the
    connection over; no LISTEN, cursor or SET. asyncpg still rolls back an open transaction
    before calling this."""


def pool_options(url: str) -> tuple[str, int, int]:
    """The URL for asyncpg and the pool's sizes, from `?pool_min=N&pool_max=M` if given."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    sizes = {"pool_min": POOL_MIN, "pool_max": POOL_MAX}
    kept = []
    for name, value in query:
        if name in sizes:
            if not value.isdigit() or int(value) < 1:
                raise DatabaseError(f"{name} must be a whole number of at least 1 in {redact(url)}")
            sizes[name] = int(value)
        else:
            kept.append((name, value))
    if sizes["pool_min"] > sizes["pool_max"]:
        raise DatabaseError(f"pool_min is more than pool_max in {redact(url)}")
    dsn = urlunsplit(parts._replace(query=urlencode(kept)))
    return dsn, sizes["pool_min"], sizes["pool_max"]


@asynccontextmanager
async def open_postgres(url: ServerUrl, *, migrate: bool = True) -> AsyncIterator[PostgresDatabase]:
    """Connect a pool to the server `url` names and migrate its database."""
    dsn, smallest, largest = pool_options(url.secret())
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=smallest,
            max_size=largest,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
            reset=_keep_session,
        )
    except Exception as error:
        # asyncpg's messages name the host and user, never the password; the URL is redacted.
        raise DatabaseError(f"cannot connect to the database {url}: {error}") from error
    try:
        database = PostgresDatabase(pool, url)
        if migrate:
            try:
                await database.migrate()
            except (asyncpg.PostgresError, OSError) as error:
                raise DatabaseError(f"cannot migrate the database {url}: {error}") from error
        yield database
    finally:
        try:
            # A graceful close waits for connections in use; a server gone away must not
            # hold the bot's shutdown.
            await asyncio.wait_for(pool.close(), CONNECT_TIMEOUT)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pool.terminate()
