"""Telegram's flood limits for a fleet: send times reserved through the database.

Each scope (the whole bot, or one group) is a leaky bucket kept as the generic cell rate
algorithm's one number, its theoretical arrival time (tat, in microseconds): a message may
go at `tat - (burst - 1) * spacing` at the earliest, and each one reserved moves tat on by the
spacing. A worker reserves the time its message may go at in one transaction, then waits
until then, so every process together keeps to the rate. This is the rule of
python-telegram-bot's AIORateLimiter (aiolimiter's leaky bucket), which a single process
uses, stated for the fleet.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import NamedTuple

from storage.pruning import PruneSchedule
from storage.sql import Sql, placeholder_list

# Scopes not used for this long are deleted (their bucket has long drained).
_FORGET_AFTER_MS = 3_600_000


class Rate(NamedTuple):
    """`burst` messages at once, then one every `spacing_ms`."""

    burst: int
    spacing_ms: float

    @classmethod
    def per(cls, messages: float, seconds: float) -> Rate:
        return cls(max(int(messages), 1), seconds * 1000 / messages)


class FloodLimitStore:
    """When each message may go, so that no scope's rate is exceeded across processes."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self._pruning = PruneSchedule(every=timedelta(minutes=10))

    async def reserve(self, scopes: dict[str, Rate], now_ms: int) -> int:
        """The time (ms) a message counted in every one of `scopes` may go at, reserved."""
        names = sorted(scopes)
        async with self.db.transaction() as tx:
            await tx.serialise(*(f"telegram_flood:{name}" for name in names))
            # In microseconds, so that rounding a spacing like 33 1/3 ms does not drift.
            now = now_ms * 1000
            tats = {name: now for name in names}
            for scope, tat in await tx.fetch_all(
                "SELECT scope, tat_us FROM telegram_flood "
                f"WHERE scope IN ({placeholder_list(len(names))})",
                names,
            ):
                tats[scope] = max(int(tat), now)
            spacings = {name: math.ceil(scopes[name].spacing_ms * 1000) for name in names}
            at = max([now] + [tats[n] - (scopes[n].burst - 1) * spacings[n] for n in names])
            await tx.executemany(
                "INSERT INTO telegram_flood (scope, tat_us) VALUES (?, ?) "
                "ON CONFLICT (scope) DO UPDATE SET tat_us = excluded.tat_us",
                [(n, max(tats[n], at) + spacings[n]) for n in names],
            )
        if self._pruning.due(now_ms / 1000):
            await self._prune(now_ms)
        return math.ceil(at / 1000)

    async def _prune(self, now_ms: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM telegram_flood WHERE tat_us < ?",
                ((now_ms - _FORGET_AFTER_MS) * 1000,),
            )
