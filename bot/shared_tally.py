"""Tally refreshes throttled across every process, through refresh leases in the database.

bot.tally.TallyRefresher keeps a message to one edit an interval within one process; with
several webhook workers each would edit at that rate. Here a worker that wants a message
redrawn takes the message's lease: granted, it redraws at the time the lease names (an
interval after the last redraw, from fresh data); refused, another worker's redraw is still
to come and reads the data after this vote committed, so the message still ends exact.
Clocks of the workers' machines must agree (NTP) to well under the interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable

from bot.tally import KeyedRefreshes
from storage.refresh_leases import RefreshLeaseStore

log = logging.getLogger(__name__)


class SharedTallyRefresher(KeyedRefreshes):
    """TallyRefresher's `request` and `drain`, one redraw an interval per message fleet-wide."""

    def __init__(
        self,
        leases: RefreshLeaseStore,
        interval: float = 1.0,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.leases = leases
        self.interval = interval
        self._wall = wall
        self._sleep = sleep

    async def _run(self, key: Hashable) -> None:
        try:
            while key in self._pending:
                asked = self._pending[key]
                now = int(self._wall() * 1000)
                try:
                    due = await self.leases.take(str(key), now, int(self.interval * 1000))
                except Exception as error:
                    log.warning("could not take the refresh lease of %r: %s", key, error)
                    due = now  # redraw anyway: a stale tally is worse than an extra edit
                if due is None:
                    # Another worker redraws after now; a request that came in meanwhile
                    # may be later than its read, so it asks again.
                    if self._pending.get(key) is asked:
                        del self._pending[key]
                    continue
                if due > now:
                    await self._sleep((due - now) / 1000)
                refresh = self._pending.pop(key)
                try:
                    await refresh()
                except Exception:
                    log.exception("refreshing the tally message %r failed", key)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
