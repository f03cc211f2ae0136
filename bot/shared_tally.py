"""Tally refreshes throttled and ordered across every process, through refresh leases.

bot.tally.TallyRefresher keeps a message to one edit an interval within one process; with
several webhook workers each would edit at that rate, and their edits could reach Telegram
out of order (an older tally landing last). Here a worker that wants a message redrawn takes
the message's lease (storage.refresh_leases): granted, it redraws at the time the lease names
(an interval after the last redraw) and redraws again while votes came in during its redraw,
then lets go; refused, the holder is marked to redraw once more and reads the data after this
vote committed, so the message still ends exact. A refused worker checks back when the
holder's lease would lapse and takes it over if that worker died holding it. Clocks of the
workers' machines must agree (NTP) to well under the interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable

from bot.tally import KeyedRefreshes, Refresh
from storage.refresh_leases import Lease, RefreshLeaseStore

log = logging.getLogger(__name__)

# A holder that has not finished its redraw this long after it was due is taken to be dead.
HOLD_SECONDS = 30.0


class SharedTallyRefresher(KeyedRefreshes):
    """TallyRefresher's `request` and `drain`, one redraw an interval per message fleet-wide."""

    def __init__(
        self,
        leases: RefreshLeaseStore,
        interval: float = 1.0,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        hold: float = HOLD_SECONDS,
    ) -> None:
        super().__init__()
        self.leases = leases
        self.interval = interval
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._interval_ms = int(interval * 1000)
        self._hold_ms = int(hold * 1000)
        self._wall = wall
        self._sleep = sleep
        self._woken: dict[Hashable, asyncio.Event] = {}
        self._draining = False

    def request(self, key: Hashable, refresh: Refresh) -> None:
        super().request(key, refresh)
        woken = self._woken.get(key)
        if woken is not None:
            woken.set()

    def _now(self) -> int:
        return int(self._wall() * 1000)

    async def _run(self, key: Hashable) -> None:
        name = str(key)
        try:
            while key in self._pending:
                try:
                    lease = await self.leases.take(name, self.holder, self._now(), self._hold_ms)
                except Exception as error:
                    log.warning("could not take the refresh lease of %r: %s", key, error)
                    # Redraw anyway: a stale tally is worse than an extra edit.
                    await self._redraw(key, self._pending.pop(key))
                    continue
                granted = lease if lease.granted else await self._watch(key, name, lease)
                if granted is not None:
                    await self._hold(key, name, granted.at_ms)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            self._woken.pop(key, None)

    async def _watch(self, key: Hashable, name: str, refused: Lease) -> Lease | None:
        """Wait while another worker holds `key`: until this process asks again (the outer
        loop takes again, marking the holder), or the holder's lease would lapse; the lease
        when the holder died holding it, else None."""
        lease: Lease | None = refused
        refresh = self._pending.pop(key)
        while lease is not None and not lease.granted:
            woken = self._woken.setdefault(key, asyncio.Event())
            woken.clear()
            if key in self._pending or self._draining:
                return None
            wait = (lease.at_ms - self._now()) / 1000
            try:
                await asyncio.wait_for(woken.wait(), timeout=max(wait, 0) + 0.05)
                return None
            except TimeoutError:
                pass
            try:
                lease = await self.leases.take_over(name, self.holder, self._now(), self._hold_ms)
            except Exception as error:
                log.warning("could not check the refresh lease of %r: %s", key, error)
                return None
        if lease is not None:
            self._pending.setdefault(key, refresh)
        return lease

    async def drain(self) -> None:
        # Watching for a dead holder is left to the workers that stay up.
        self._draining = True
        for woken in self._woken.values():
            woken.set()
        await super().drain()

    async def _hold(self, key: Hashable, name: str, due: int) -> None:
        """Redraw `key` at `due`, and again while the lease says votes came in meanwhile."""
        refresh = self._pending.pop(key)
        while True:
            wait = due - self._now()
            if wait > 0:
                await self._sleep(wait / 1000)
            # The newest request of this process, or the last one again: it reads fresh data.
            refresh = self._pending.pop(key, refresh)
            await self._redraw(key, refresh)
            try:
                again = await self.leases.finish(
                    name, self.holder, self._now(), self._interval_ms, self._hold_ms
                )
            except Exception as error:
                # The lease lapses after its hold time; the next vote's worker takes it over.
                log.warning("could not hand back the refresh lease of %r: %s", key, error)
                return
            if again is None:
                return
            due = again

    @staticmethod
    async def _redraw(key: Hashable, refresh: Refresh) -> None:
        try:
            await refresh()
        except Exception:
            log.exception("refreshing the tally message %r failed", key)
