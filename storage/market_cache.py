"""The market cache in the bot's SQLite database, so fetched prices survive a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.db import Database

MAX_CHARTS = 200


@dataclass(frozen=True, slots=True)
class CachedLatest:
    price: float
    at: datetime
    fetched_at: datetime


class MarketCache:
    """Closes of closed days, the latest prices, unknown tickers and rendered charts."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def closes(self, ticker: str, start: date, end: date) -> list[tuple[date, float]] | None:
        """The closes for start <= day < end if that range was fetched completely, else None."""
        async with self.db.connection.execute(
            "SELECT 1 FROM market_spans WHERE ticker = ? AND start_day <= ? AND end_day >= ? "
            "LIMIT 1",
            (ticker, start.isoformat(), end.isoformat()),
        ) as cursor:
            if await cursor.fetchone() is None:
                return None
        async with self.db.connection.execute(
            "SELECT day, close FROM market_closes WHERE ticker = ? AND day >= ? AND day < ? "
            "ORDER BY day",
            (ticker, start.isoformat(), end.isoformat()),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(date.fromisoformat(row[0]), float(row[1])) for row in rows]

    async def store_closes(
        self,
        ticker: str,
        start: date,
        end: date,
        closes: list[tuple[date, float]],
        fetched_at: datetime,
    ) -> None:
        async with self.db.transaction() as connection:
            await connection.executemany(
                "INSERT OR REPLACE INTO market_closes (ticker, day, close) VALUES (?, ?, ?)",
                [(ticker, day.isoformat(), close) for day, close in closes],
            )
            await connection.execute(
                "INSERT OR REPLACE INTO market_spans (ticker, start_day, end_day, fetched_at) "
                "VALUES (?, ?, ?, ?)",
                (ticker, start.isoformat(), end.isoformat(), fetched_at.isoformat()),
            )

    async def latest(self, ticker: str) -> CachedLatest | None:
        async with self.db.connection.execute(
            "SELECT price, at, fetched_at FROM market_latest WHERE ticker = ?", (ticker,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return CachedLatest(
            float(row[0]), datetime.fromisoformat(row[1]), datetime.fromisoformat(row[2])
        )

    async def store_latest(self, ticker: str, latest: CachedLatest) -> None:
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO market_latest (ticker, price, at, fetched_at) "
                "VALUES (?, ?, ?, ?)",
                (ticker, latest.price, latest.at.isoformat(), latest.fetched_at.isoformat()),
            )

    async def unknown_since(self, ticker: str) -> datetime | None:
        async with self.db.connection.execute(
            "SELECT checked_at FROM market_unknown WHERE ticker = ?", (ticker,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else datetime.fromisoformat(row[0])

    async def store_unknown(self, ticker: str, checked_at: datetime) -> None:
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO market_unknown (ticker, checked_at) VALUES (?, ?)",
                (ticker, checked_at.isoformat()),
            )

    async def chart(self, key: str) -> bytes | None:
        async with self.db.connection.execute(
            "SELECT png FROM market_charts WHERE key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else bytes(row[0])

    async def store_chart(self, key: str, png: bytes, created_at: datetime) -> None:
        async with self.db.transaction() as connection:
            await connection.execute(
                "INSERT OR REPLACE INTO market_charts (key, png, created_at) VALUES (?, ?, ?)",
                (key, png, created_at.isoformat()),
            )
            # Keep the table small: only the most recent charts are worth keeping.
            await connection.execute(
                "DELETE FROM market_charts WHERE key NOT IN "
                "(SELECT key FROM market_charts ORDER BY created_at DESC LIMIT ?)",
                (MAX_CHARTS,),
            )
