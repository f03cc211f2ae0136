"""Refreshing a live tally message at most once per interval, the last refresh always exact.

Telegram allows about 20 messages a minute in a group and Discord rate-limits edits per
channel, so a burst of votes must not become a burst of edits. Front ends call `request`
after every vote with a callable that re-renders the message from fresh data; requests for
the same message (key) coalesce: the first runs at once, later ones wait out the interval,
only the newest waiting callable runs, and one runs after the last vote of a burst, so the
message ends on the exact totals. It knows nothing of platforms or polls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Protocol

log = logging.getLogger(__name__)

Refresh = Callable[[], Awaitable[None]]


class Throttle(Protocol):
    """What front ends ask of a refresh throttle: this process's (TallyRefresher) or the
    fleet's (bot.shared_tally.SharedTallyRefresher)."""

    def request(self, key: Hashable, refresh: Refresh) -> None: ...

    async def drain(self) -> None: ...


# Past this many remembered keys, finished ones whose interval has passed are forgotten.
_PRUNE_AT = 256


class KeyedRefreshes:
    """Refresh requests coalesced per key: one task a key runs them (`_run`, the subclass's
    throttle); a newer request replaces one still waiting."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, Refresh] = {}
        self._tasks: dict[Hashable, asyncio.Task[None]] = {}

    def request(self, key: Hashable, refresh: Refresh) -> None:
        """Ask for `refresh` to run for `key` soon; a newer request replaces a waiting one."""
        self._pending[key] = refresh
        task = self._tasks.get(key)
        if task is None or task.done():
            self._tasks[key] = asyncio.get_running_loop().create_task(self._run(key))

    async def drain(self) -> None:
        """Wait until every requested refresh has run (for a clean shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _run(self, key: Hashable) -> None:
        raise NotImplementedError


class TallyRefresher(KeyedRefreshes):
    """Per-key throttle: a refresh starts at least `interval` after the previous one of the
    same key finished, and never two are in flight for a key."""

    def __init__(
        self,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last_done: dict[Hashable, float] = {}

    async def _run(self, key: Hashable) -> None:
        try:
            while key in self._pending:
                last = self._last_done.get(key)
                if last is not None:
                    wait = last + self.interval - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                refresh = self._pending.pop(key)
                try:
                    await refresh()
                except Exception:
                    # One failed edit (message deleted, rate limited) must not stop later ones.
                    log.exception("refreshing the tally message %r failed", key)
                # Counted from the end: a slow edit must not let the next one reach the
                # platform less than an interval after it.
                self._last_done[key] = self._clock()
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            self._forget_idle()

    def _forget_idle(self) -> None:
        if len(self._last_done) <= _PRUNE_AT:
            return
        horizon = self._clock() - self.interval
        for key in [key for key, start in self._last_done.items() if start <= horizon]:
            if key not in self._tasks and key not in self._pending:
                del self._last_done[key]
