"""The market cache in the bot's database: fetched prices survive restarts, shared by processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.sql import Sql
from storage.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class CachedLatest:
    """A latest price as the cache keeps it: the market time it was true, and when fetched."""

    price: float
    at: datetime
    fetched_at: datetime


# Rendered charts kept at most; the oldest are dropped first.
MAX_CHARTS = 200


class MarketCacheStore:
    """Closes of closed days, the latest prices, unknown tickers and rendered charts.

    Every method is one statement or one transaction.
    """

    def __init__(self, db: Sql) -> None:
        self.db = db

    async def closes(self, ticker: str, start: date, end: date) -> list[tuple[date, float]] | None:
        """The closes for start <= day < end if that range was fetched completely, else None."""
        # One statement, so the span and its closes are read in one implicit transaction: a
        # left join gives one row without a day when the span is known but has no closes.
        found = await self.db.fetch_all(
            "SELECT c.day, c.close FROM (SELECT ?1 AS ticker, ?2 AS first, ?3 AS stop "
            "FROM market_spans WHERE ticker = ?1 AND start_day <= ?2 AND end_day >= ?3 "
            "LIMIT 1) AS span LEFT JOIN market_closes AS c "
            "ON c.ticker = span.ticker AND c.day >= span.first AND c.day < span.stop "
            "ORDER BY c.day",
            (ticker, start.isoformat(), end.isoformat()),
        )
        if not found:
            return None
        return [(date.fromisoformat(day), float(close)) for day, close in found if day is not None]

    async def store_closes(
        self,
        ticker: str,
        start: date,
        end: date,
        closes: list[tuple[date, float]],
        fetched_at: datetime,
    ) -> None:
        async with self.db.transaction() as tx:
            # In day order, so two processes storing overlapping ranges never deadlock.
            await tx.executemany(
                "INSERT INTO market_closes (ticker, day, close) VALUES (?, ?, ?) "
                "ON CONFLICT (ticker, day) DO UPDATE SET close = excluded.close",
                [(ticker, day.isoformat(), float(close)) for day, close in sorted(closes)],
            )
            await tx.execute(
                "INSERT INTO market_spans (ticker, start_day, end_day, fetched_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (ticker, start_day, end_day) "
                "DO UPDATE SET fetched_at = excluded.fetched_at",
                (ticker, start.isoformat(), end.isoformat(), to_db(fetched_at)),
            )

    async def latest(self, ticker: str) -> CachedLatest | None:
        rows = await self.db.fetch_all(
            "SELECT price, at, fetched_at FROM market_latest WHERE ticker = ?", (ticker,)
        )
        if not rows:
            return None
        price, at, fetched_at = rows[0]
        return CachedLatest(float(price), from_db(at), from_db(fetched_at))

    async def store_latest(self, ticker: str, latest: CachedLatest) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO market_latest (ticker, price, at, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (ticker) DO UPDATE SET price = excluded.price, at = excluded.at, "
                "fetched_at = excluded.fetched_at",
                (ticker, float(latest.price), to_db(latest.at), to_db(latest.fetched_at)),
            )

    async def unknown_since(self, ticker: str) -> datetime | None:
        rows = await self.db.fetch_all(
            "SELECT checked_at FROM market_unknown WHERE ticker = ?", (ticker,)
        )
        return from_db(rows[0][0]) if rows else None

    async def store_unknown(self, ticker: str, checked_at: datetime) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO market_unknown (ticker, checked_at) VALUES (?, ?) "
                "ON CONFLICT (ticker) DO UPDATE SET checked_at = excluded.checked_at",
                (ticker, to_db(checked_at)),
            )

    async def chart(self, key: str) -> bytes | None:
        rows = await self.db.fetch_all("SELECT png FROM market_charts WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    async def store_chart(self, key: str, png: bytes, created_at: datetime) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO market_charts (key, png, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET png = excluded.png, "
                "created_at = excluded.created_at",
                (key, png, to_db(created_at)),
            )
            # Keep the table small: only the most recent charts are worth keeping.
            await tx.execute(
                "DELETE FROM market_charts WHERE key NOT IN "
                "(SELECT key FROM market_charts ORDER BY created_at DESC LIMIT ?)",
                (MAX_CHARTS,),
            )
