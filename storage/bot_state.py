"""What the bot remembers about itself between runs (e.g. the last synced command tree)."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.db import Database


class BotState:
    """A small key-value table over the shared connection; one transaction per write."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        async with self.db.connection.execute(
            "SELECT value FROM bot_state WHERE key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else None

    async def put(self, key: str, value: str, *, now: datetime | None = None) -> None:
        stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, value, stamp),
            )
