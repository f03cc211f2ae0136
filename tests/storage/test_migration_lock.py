"""Processes starting together on one new database migrate it once, on either backend."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from storage.backends import open_sql
from storage.sql import migrations

ROOT = Path(__file__).resolve().parents[2]
# Each child opens (and so migrates) the database once all of them are ready to.
MIGRATOR = """
import asyncio, sys
from storage.backends import open_sql

async def main():
    sys.stdin.readline()
    async with open_sql(sys.argv[1]) as db:
        print(await db.schema_version(), flush=True)

asyncio.run(main())
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_processes_starting_together_apply_each_migration_once(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:{tmp_path / 'new.sqlite3'}"
        if backend == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, url],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    # All three are started before any of them is let go.
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0, 0, 0], [err for _, err in results]
    assert [out.strip() for out, _ in results] == [str(len(migrations()))] * 3
    if backend == "postgresql":
        assert asyncio.run(_versions(url)) == list(range(1, len(migrations()) + 1))


async def _versions(url: str) -> list[int]:
    async with open_sql(url, migrate=False) as db:
        rows = await db.fetch_all("SELECT version FROM dsbot_schema_version ORDER BY version")
    return [int(row[0]) for row in rows]
