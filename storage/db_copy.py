"""`dsbot db copy`: every row of one database into an empty one, either backend either way.

Both sides are migrated to the current schema first, so the copy is column for column. The
target is written in one transaction and checked (row counts per table) before it commits:
it holds the whole copy or nothing of it. A target that already holds data is refused,
never merged into. "Data" is any row the migrations themselves did not write: a freshly
migrated database holds the DeepSeek poll (id 1) and its four options, so a target holding
exactly those rows is empty; those seed rows are replaced by the source's own (which carry
that poll's votes). A bot started once on the target has written its voter secret to
bot_state, so that target holds data and is refused.

The votes are keyed hashes under the installation's secret (storage/poll_privacy.py), which
lives in bot_state: it is copied with everything else, so every stored vote keeps its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.backends import open_sql, sqlite_path
from storage.sql import DatabaseError, Dialect, Row, Sql, Tx, placeholder_list
from storage.urls import ServerUrl, database_location

# Every table of the schema, each after the tables its foreign keys point at: the one list
# of what a copy carries. A table missing here stops the copy (see `_check_tables`).
TABLES: tuple[str, ...] = (
    "polls",
    "poll_options",
    "poll_votes",
    "poll_presses",
    "poll_announcements",
    "poll_copies",
    "chat_settings",
    "recap_subscriptions",
    "recap_requests",
    "bot_state",
    "market_closes",
    "market_spans",
    "market_latest",
    "market_unknown",
    "market_charts",
    "telegram_updates",
    "tally_refreshes",
    "telegram_flood",
)
# PostgreSQL's schema version table; SQLite keeps the version in PRAGMA user_version.
_BOOKKEEPING = {"dsbot_schema_version"}


class CopyRefused(Exception):
    """Nothing was copied: the target holds data, or is the source itself."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    source: str
    target: str
    version: int
    rows: dict[str, int]


def _location(value: str | Path | ServerUrl) -> Path | ServerUrl:
    if isinstance(value, str) and not isinstance(database_location(value), ServerUrl):
        return Path(sqlite_path(value))
    return database_location(value)


async def _tables(db: Sql, tx: Tx) -> set[str]:
    if db.dialect == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = (
            "SELECT table_name::text FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    return {str(row[0]) for row in await tx.fetch_all(sql)} - _BOOKKEEPING


async def _columns(dialect: Dialect, tx: Tx, table: str) -> list[str]:
    if dialect == "sqlite":
        sql = "SELECT name FROM pragma_table_info(?) ORDER BY cid"
    else:
        sql = (
            "SELECT column_name::text FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name::text = ? "
            "ORDER BY ordinal_position"
        )
    return [str(row[0]) for row in await tx.fetch_all(sql, (table,))]


async def _check_tables(db: Sql, tx: Tx, where: str) -> None:
    unknown = (await _tables(db, tx)) ^ set(TABLES)
    if unknown:
        raise DatabaseError(
            f"the {where} database's tables differ from what db copy knows "
            f"({', '.join(sorted(unknown))}); nothing was copied"
        )


async def _rows(tx: Tx, table: str, columns: list[str]) -> list[Row]:
    return await tx.fetch_all(f"SELECT {', '.join(columns)} FROM {table}")


Seeds = dict[str, tuple[list[str], set[tuple[object, ...]]]]


async def seed_rows() -> Seeds:
    """What migrating an empty database writes: per table, its columns and those rows."""
    async with open_sql(":memory:") as scratch, scratch.snapshot() as tx:
        seeds: Seeds = {}
        for table in TABLES:
            columns = await _columns("sqlite", tx, table)
            seeds[table] = (columns, {tuple(row) for row in await _rows(tx, table, columns)})
        return seeds


async def _held_data(tx: Tx) -> dict[str, int]:
    """The tables of the target holding rows the migrations did not write, and how many."""
    held: dict[str, int] = {}
    for table, (columns, seeded) in (await seed_rows()).items():
        if extra := {tuple(row) for row in await _rows(tx, table, columns)} - seeded:
            held[table] = len(extra)
    return held


async def _reset_identities(tx: Tx) -> None:
    """Explicit ids leave PostgreSQL's identity sequences behind: the next poll would get
    id 2 and collide. Each sequence is moved past its table's highest id."""
    identities = await tx.fetch_all(
        "SELECT table_name::text, column_name::text FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    for table, column in identities:
        await tx.fetch_one(
            f"SELECT setval(pg_get_serial_sequence(?, ?), coalesce(max({column}), 0) + 1, false) "
            f"FROM {table}",
            (table, column),
        )


def _refusal(target: Path | ServerUrl, held: dict[str, int]) -> CopyRefused:
    tables = ", ".join(f"{table} {count}" for table, count in held.items())
    return CopyRefused(
        f"the target {target} already holds data (rows in {tables}); db copy writes only "
        "into an empty database and never merges: nothing was copied"
    )


async def copy_database(
    source: str | Path | ServerUrl, target: str | Path | ServerUrl
) -> CopyResult:
    """Copy every row of `source` into the empty database `target`, in one transaction."""
    origin_at, target_at = _location(source), _location(target)
    if isinstance(origin_at, Path) and not origin_at.is_file():
        # Opening it would create an empty database and copy that.
        raise DatabaseError(f"there is no database at {origin_at} (the copy's source)")
    same_file = (
        isinstance(origin_at, Path)
        and isinstance(target_at, Path)
        and (target_at.exists() and origin_at.resolve() == target_at.resolve())
    )
    if same_file or origin_at == target_at:
        raise CopyRefused(f"the target {target_at} is the source itself; nothing was copied")
    counts: dict[str, int] = {}
    async with open_sql(origin_at) as origin, open_sql(target_at) as destination:
        version = await destination.schema_version()
        async with origin.snapshot() as reading, destination.transaction() as writing:
            await _check_tables(origin, reading, "source")
            await _check_tables(destination, writing, "target")
            if held := await _held_data(writing):
                raise _refusal(target_at, held)
            # Only the migrations' seed rows are there; the source carries its own of them.
            for table in reversed(TABLES):
                await writing.execute(f"DELETE FROM {table}")
            for table in TABLES:
                columns = await _columns(origin.dialect, reading, table)
                rows = await _rows(reading, table, columns)
                if rows:
                    marks = placeholder_list(len(columns))
                    await writing.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                    )
                counts[table] = len(rows)
            if destination.dialect == "postgresql":
                await _reset_identities(writing)
            for table, expected in counts.items():
                found = await writing.fetch_one(f"SELECT count(*) FROM {table}")
                if found is None or int(found[0]) != expected:
                    raise DatabaseError(
                        f"the target's {table} holds {found and found[0]} rows after the copy, "
                        f"not {expected}; rolled back, nothing was copied"
                    )
    return CopyResult(str(origin_at), str(target_at), version, counts)


async def upgrade_database(database: str | Path | ServerUrl) -> tuple[int, int]:
    """Apply the pending migrations only: the schema version before and after."""
    async with open_sql(_location(database), migrate=False) as db:
        before = await db.schema_version()
        return before, await db.migrate()
