"""What the bot remembers about itself between runs (e.g. the last synced command tree)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.sql import Sql
from storage.timestamps import to_db


class BotStateStore:
    """A small key-value table; one transaction per call."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        rows = await self.db.fetch_all("SELECT value FROM bot_state WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, *, now: datetime | None = None) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, value, to_db(now or datetime.now(UTC))),
            )
