"""What the bot remembers about itself between runs (e.g. the last synced command tree)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.db import Database
from storage.timestamps import to_db


class SqliteBotState:
    """A small key-value table over the shared connection; one transaction per call."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        rows = await self.db.fetch("SELECT value FROM bot_state WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, *, now: datetime | None = None) -> None:
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, value, to_db(now or datetime.now(UTC))),
            )
