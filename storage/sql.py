"""The backend-neutral SQL layer every store is written against, once, for SQLite and PostgreSQL.

Stores write SQL with `?` placeholders (or `?N` for the N-th parameter); the PostgreSQL
backend turns them into `$N` in `placeholders_for`, the one place they are translated. Where
the dialects truly differ the store asks `Sql.dialect`, or calls `Tx.serialise`, which is a
no-op on SQLite (BEGIN IMMEDIATE already serialises every writer) and a transaction-scoped
advisory lock on PostgreSQL (several processes may write at once).

Migrations are one history for both backends (storage/migrations): each file is written in
SQLite's words, and `migration_statements` rewrites the few type names that differ for
PostgreSQL. A line `--postgresql: SQL` (or `--sqlite: SQL`) is a statement of that dialect alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
Row = Sequence[Any]


class DatabaseError(Exception):
    """The database cannot be used (corrupt, not a database, unreachable at start, or newer
    than this code)."""


class StorageError(Exception):
    """A fault of the store a user can be told about; nothing of the operation was written."""


class StorageBusy(StorageError):
    """Another process held the write lock past the busy timeout; nothing was written."""


class StorageFull(StorageError):
    """The disk (or the database's size limit) is full; the transaction was rolled back."""


class StorageUnavailable(StorageError):
    """The database cannot be reached right now (a server restarting, a lost connection).

    Nothing was acknowledged: a transaction that raises this may at worst have committed
    without the caller hearing so, never the other way round.
    """


class Tx(Protocol):
    """One open transaction (or read snapshot) of either backend."""

    async def execute(self, sql: str, parameters: Sequence[object] = ()) -> int:
        """Run one statement; how many rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, parameters: Sequence[object] = ()) -> Row | None: ...

    async def serialise(self, *keys: str) -> None:
        """Hold `keys` until this transaction ends, so writers of the same keys in other
        processes take turns; taken in sorted order, so two writers never deadlock."""
        ...


class Sql(Protocol):
    """A database of either backend: its transactions, one-statement reads and migrations."""

    @property
    def dialect(self) -> Dialect: ...

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A write transaction: committed at the end, rolled back on any error."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[Tx]:
        """A read transaction that never sees another transaction half written."""
        ...

    async def fetch_all(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """Every row of one read statement, as its own transaction."""
        ...

    async def execute_alone(self, sql: str, parameters: Sequence[object] = ()) -> int:
        """One write statement as its own transaction (one round trip on PostgreSQL); how many
        rows it changed. Never sent twice: after a lost answer it may or may not have run."""
        ...

    async def fetch_alone(self, sql: str, parameters: Sequence[object] = ()) -> list[Row]:
        """One write statement with RETURNING as its own transaction, as execute_alone; the
        rows it returned."""
        ...

    async def schema_version(self) -> int: ...

    async def migrate(self, target: int | None = None) -> int: ...


# -- the SQL text, read once as tokens --------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<string>'(?:[^']|'')*')"
    r"|(?P<quoted>\"[^\"]*\")"
    r"|(?P<comment>--[^\n]*)"
    r"|(?P<placeholder>\?\d*)"
    r"|(?P<word>\w+)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def _tokens(sql: str) -> Iterable[tuple[str, str]]:
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        assert kind is not None
        yield kind, match.group()


def placeholder_list(count: int) -> str:
    """`?, ?, ...`: the parameters of an `IN (...)` list or a row of `VALUES`."""
    return ", ".join("?" * count)


@lru_cache(maxsize=512)
def placeholders_for(dialect: Dialect, sql: str) -> str:
    """`sql` with its `?` / `?N` placeholders as the dialect writes them (`$N` on PostgreSQL)."""
    if dialect == "sqlite":
        return sql
    out: list[str] = []
    counter = 0
    for kind, token in _tokens(sql):
        if kind == "placeholder":
            if len(token) > 1:
                out.append("$" + token[1:])
            else:
                counter += 1
                out.append(f"${counter}")
        else:
            out.append(token)
    return "".join(out)


# PostgreSQL's names for the SQLite types the migrations use. TEXT compares byte by byte like
# SQLite's BINARY collation, so stored instants (ISO 8601 text) keep sorting as time.
_POSTGRESQL_TYPES = {
    "INTEGER": "BIGINT",
    "REAL": "DOUBLE PRECISION",
    "BLOB": "BYTEA",
    "TEXT": 'TEXT COLLATE "C"',
}


def _glob_as_regex(pattern: str) -> str:
    body = pattern[1:-1]
    regex = "".join(".*" if c == "*" else "." if c == "?" else c for c in body)
    return f"'^{regex}$'"


def _postgresql_ddl(tokens: list[tuple[str, str]]) -> str:
    words = [(index, token.upper()) for index, (kind, token) in enumerate(tokens) if kind == "word"]
    out = [token for _, token in tokens]
    for position, (index, word) in enumerate(words):
        following = [w for _, w in words[position + 1 : position + 3]]
        if word == "INTEGER" and following == ["PRIMARY", "KEY"]:
            out[index] = "BIGINT GENERATED BY DEFAULT AS IDENTITY"
        elif word in _POSTGRESQL_TYPES:
            out[index] = _POSTGRESQL_TYPES[word]
        elif word == "WITHOUT" and following[:1] == ["ROWID"]:
            out[index] = ""
            out[words[position + 1][0]] = ""
        elif word == "GLOB":
            # GLOB 'pattern' -> ~ '^regex$' (the migrations use [..] classes, * and ?)
            after = next(i for i in range(index + 1, len(tokens)) if tokens[i][0] != "space")
            out[index] = "~"
            out[after] = _glob_as_regex(tokens[after][1])
    return "".join(out)


def migration_statements(dialect: Dialect, script: str) -> list[str]:
    """The statements of one migration file as `dialect` runs them, comments dropped."""
    own = re.compile(rf"^\s*--{dialect}:\s?(.*)$", re.MULTILINE)
    script = own.sub(r"\1", script)
    statements: list[str] = []
    current: list[tuple[str, str]] = []
    for kind, token in _tokens(script + ";"):
        if kind == "comment":
            continue
        if token == ";":
            if any(k not in ("space",) for k, _ in current):
                text = _postgresql_ddl(current) if dialect == "postgresql" else _join(current)
                statements.append(text.strip())
            current = []
        else:
            current.append((kind, token))
    return statements


def _join(tokens: list[tuple[str, str]]) -> str:
    return "".join(token for _, token in tokens)


# -- the migration files -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    """One file of storage/migrations: `NNNN_name.sql`, applied once, in version order."""

    version: int
    name: str
    sql: str

    def statements(self, dialect: Dialect) -> list[str]:
        return migration_statements(dialect, self.sql)


_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


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


def pending(current: int, target: int | None) -> list[Migration]:
    """The migrations to apply to a database at `current`, up to `target`; refuses a newer one."""
    known = migrations()
    if current > len(known):
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this dsbot "
            f"({len(known)}); upgrade dsbot"
        )
    return [
        migration
        for migration in known
        if migration.version > current and (target is None or migration.version <= target)
    ]
