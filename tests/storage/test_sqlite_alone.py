"""The SQLite path never loads the PostgreSQL driver (it would cost start-up time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import asyncio, sys
from bot.config import Settings
from bot.services import build_services

async def main():
    settings = Settings(dsbot_database=sys.argv[1], dsbot_market="offline", _env_file=None)
    async with build_services(settings) as services:
        await services.polls.get(1)

asyncio.run(main())
print(sorted(name for name in sys.modules if name.split(".")[0] == "asyncpg"))
"""


def test_services_on_sqlite_never_import_asyncpg(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "bot.sqlite3")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
