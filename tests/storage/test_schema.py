"""One migration history, two schemas: SQLite and PostgreSQL end up with the same tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg

from storage.backends import open_sql
from storage.db import Database, open_database
from storage.sql import migration_statements, migrations, placeholders_for

# The declared types of the migrations and PostgreSQL's names for them, as one vocabulary.
_SQLITE_TYPES = {"INTEGER": "integer", "TEXT": "text", "REAL": "real", "BLOB": "blob"}
_POSTGRESQL_TYPES = {
    "bigint": "integer",
    "text": "text",
    "double precision": "real",
    "bytea": "blob",
}
# The version bookkeeping: SQLite keeps it in PRAGMA user_version, PostgreSQL in a table.
_BOOKKEEPING = {"dsbot_schema_version"}


def _default(value: Any) -> str | None:
    if value is None:
        return None
    return re.sub(r"::[a-z ]+$", "", str(value)).strip("'")


def _check_columns(create_sql: str, columns: set[str]) -> list[tuple[str, ...]]:
    """The columns each CHECK of a CREATE TABLE mentions (its words that name a column)."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", create_sql, re.IGNORECASE):
        depth, index = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(create_sql[index], 0)
            index += 1
        expression = re.sub(r"'[^']*'", "", create_sql[match.end() : index - 1])
        words = {word.lower() for word in re.findall(r"\w+", expression)}
        found.append(tuple(sorted(words & columns)))
    return sorted(found)


async def sqlite_schema(db: Database) -> dict[str, Any]:
    connection = db.connection
    tables = [
        str(name)
        for (name,) in await connection.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    schema: dict[str, Any] = {}
    for table in sorted(tables):
        info = list(await connection.execute_fetchall(f"PRAGMA table_info({table})"))
        columns = {
            str(name): (_SQLITE_TYPES[str(kind)], bool(notnull or pk), _default(default))
            for _, name, kind, notnull, default, pk in info
        }
        primary = tuple(str(row[1]) for row in sorted(info, key=lambda row: row[5]) if row[5])
        indexes = set()
        for _, name, unique, origin, partial in await connection.execute_fetchall(
            f"PRAGMA index_list({table})"
        ):
            if origin == "pk":
                continue
            names = await connection.execute_fetchall(f"PRAGMA index_info({name})")
            indexes.add((tuple(str(row[2]) for row in names), bool(unique), bool(partial)))
        keys = {
            (str(row[3]), str(row[2]), str(row[4]), str(row[6]).lower())
            for row in await connection.execute_fetchall(f"PRAGMA foreign_key_list({table})")
        }
        (create_sql,) = next(
            iter(
                await connection.execute_fetchall(
                    "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
                )
            )
        )
        schema[table] = {
            "columns": columns,
            "primary": primary,
            "indexes": indexes,
            "foreign": keys,
            "checks": _check_columns(str(create_sql), set(columns)),
        }
    return schema


async def postgresql_schema(url: str) -> dict[str, Any]:
    connection = await asyncpg.connect(url)
    try:
        tables = [
            str(row[0])
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
            if row[0] not in _BOOKKEEPING
        ]
        schema: dict[str, Any] = {}
        for table in sorted(tables):
            columns = {
                str(row["column_name"]): (
                    _POSTGRESQL_TYPES[str(row["data_type"])],
                    row["is_nullable"] == "NO",
                    _default(row["column_default"]),
                )
                for row in await connection.fetch(
                    "SELECT column_name, data_type, is_nullable, column_default "
                    "FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = $1",
                    table,
                )
            }
            index_rows = await connection.fetch(
                "SELECT i.indisprimary, i.indisunique, i.indpred IS NOT NULL AS partial, "
                "ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
                "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "ORDER BY k.n) AS names "
                "FROM pg_index AS i WHERE i.indrelid = $1::regclass",
                table,
            )
            primary = next(tuple(row["names"]) for row in index_rows if row["indisprimary"])
            indexes = {
                (tuple(row["names"]), bool(row["indisunique"]), bool(row["partial"]))
                for row in index_rows
                if not row["indisprimary"]
            }
            constraints = await connection.fetch(
                "SELECT c.contype::text AS contype, c.confdeltype::text AS confdeltype, "
                "c.confrelid::regclass::text AS target, "
                "ARRAY(SELECT a.attname FROM unnest(c.conkey) AS k JOIN pg_attribute AS a "
                "ON a.attrelid = c.conrelid AND a.attnum = k ORDER BY a.attname) AS names, "
                "ARRAY(SELECT a.attname FROM unnest(c.confkey) AS k JOIN pg_attribute AS a "
                "ON a.attrelid = c.confrelid AND a.attnum = k) AS targets "
                "FROM pg_constraint AS c WHERE c.conrelid = $1::regclass",
                table,
            )
            deletes = {"c": "cascade", "a": "no action", "r": "restrict", "n": "set null"}
            schema[table] = {
                "columns": columns,
                "primary": primary,
                "indexes": indexes,
                "foreign": {
                    (row["names"][0], row["target"], row["targets"][0], deletes[row["confdeltype"]])
                    for row in constraints
                    if row["contype"] == "f"
                },
                "checks": sorted(
                    tuple(row["names"]) for row in constraints if row["contype"] == "c"
                ),
            }
        return schema
    finally:
        await connection.close()


async def test_sqlite_and_postgresql_have_the_same_schema_after_every_migration(
    tmp_path: Path, pg_url: str
) -> None:
    async with open_database(tmp_path / "schema.sqlite3") as sqlite:
        on_sqlite = await sqlite_schema(sqlite)
    async with open_sql(pg_url):
        pass
    on_postgresql = await postgresql_schema(pg_url)

    assert set(on_sqlite) == {
        "bot_state",
        "chat_settings",
        "market_charts",
        "market_closes",
        "market_latest",
        "market_spans",
        "market_unknown",
        "poll_announcements",
        "poll_copies",
        "poll_options",
        "poll_presses",
        "poll_votes",
        "polls",
        "recap_requests",
        "recap_subscriptions",
        "tally_refreshes",
        "telegram_flood",
        "telegram_updates",
    }
    for table in on_sqlite:
        assert on_postgresql[table] == on_sqlite[table], table
    assert set(on_postgresql) == set(on_sqlite)


async def test_the_schema_comparison_sees_a_check_one_backend_lacks(tmp_path: Path) -> None:
    async with open_database(tmp_path / "schema.sqlite3") as sqlite:
        await sqlite.connection.execute(
            "CREATE TABLE extra (a TEXT NOT NULL CHECK (a <> ''), b INTEGER)"
        )
        schema = await sqlite_schema(sqlite)

    assert schema["extra"]["checks"] == [("a",)]
    assert schema["extra"]["columns"] == {"a": ("text", True, None), "b": ("integer", False, None)}


def test_postgresql_runs_the_migrations_with_its_own_type_names() -> None:
    first = migration_statements("postgresql", migrations()[0].sql)
    polls = next(statement for statement in first if statement.startswith("CREATE TABLE polls"))

    assert "id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" in polls
    assert 'question    TEXT COLLATE "C" NOT NULL' in polls
    assert first[-1] == (
        "SELECT setval(pg_get_serial_sequence('polls', 'id'), (SELECT max(id) FROM polls))"
    )
    assert "WITHOUT ROWID" not in " ".join(first)
    assert all(
        "setval" not in statement
        for statement in migration_statements("sqlite", migrations()[0].sql)
    )


def test_placeholders_become_numbered_on_postgresql_outside_string_literals() -> None:
    assert (
        placeholders_for("postgresql", "SELECT '?' || ? FROM t WHERE a = ? AND b = ?1")
        == "SELECT '?' || $1 FROM t WHERE a = $2 AND b = $1"
    )
    assert placeholders_for("sqlite", "SELECT ? -- ?") == "SELECT ? -- ?"
