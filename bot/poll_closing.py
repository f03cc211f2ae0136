"""Announcing each closed poll's final result in every chat that showed it, exactly once.

A poll closes by `/poll close` (whose reply is that chat's announcement) or by its closing
time, which may have passed while the bot was stopped. This job, run at start and then
every CHECK_SECONDS next to the recap scheduler, finds the polls that ended and whose
announcing is not done, and sends each chat the store names (PollStore.showing_chats) its
announcement. Each one is claimed in the database before it is sent (one row per poll and
chat), so no restart and no second process posts it twice; the price is that a send that
fails after its claim is not tried again (logged), as with the recaps. So nothing is claimed
for a platform whose front end is not connected: its chats wait for a run after it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.dispatch import resolve_context
from bot.frontend import ChatUnreachable, FrontEnd
from handlers.model import Request, Services
from handlers.poll_announce import announcement
from storage.poll_model import Poll

log = logging.getLogger(__name__)

CHECK_SECONDS = 30.0
ChatKey = tuple[str, str]


@dataclass
class ClosingReport:
    """What one run did: the (poll, platform, chat) announcements sent, and those that failed."""

    sent: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)  # platforms whose chats were left for later


class PollClosingJob:
    """Start after the front ends, stop before them (it sends through them)."""

    def __init__(
        self,
        services: Services,
        front_ends: Iterable[FrontEnd],
        *,
        clock: Callable[[], datetime] | None = None,
        interval: float = CHECK_SECONDS,
        connected: Callable[[str], bool] = lambda platform: True,
    ) -> None:
        self.services = services
        self.front_ends: dict[str, FrontEnd] = {fe.platform: fe for fe in front_ends}
        self.clock = clock or services.clock
        self.interval = interval
        # The runner passes Health.connected; a front end without a supervisor is taken as up.
        self.connected = connected
        self._waiting: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run()
            except Exception:
                log.exception("announcing closed polls failed; the next run tries again")
            await asyncio.sleep(self.interval)

    async def run(self) -> ClosingReport:
        """Announce every poll that has ended and is not announced yet; one run at a time."""
        async with self._lock:
            polls = self.services.polls
            now = self.clock()
            report = ClosingReport()
            down = {platform for platform in self.front_ends if not self.connected(platform)}
            await polls.close_expired(now)
            for poll in await polls.unannounced(now):
                if await self._announce(poll, now, report, down):
                    await polls.finish_announcing(poll.id)
            for platform in sorted(report.waiting - self._waiting):
                log.warning(
                    "poll announcements to %s wait: its front end is not connected", platform
                )
            self._waiting = (self._waiting | report.waiting) & down
            return report

    async def _announce(
        self, poll: Poll, now: datetime, report: ClosingReport, down: set[str]
    ) -> bool:
        """Claim and send the poll's announcement in each chat; False if a chat must wait
        for its platform's front end (not running in this process, or not connected)."""
        polls = self.services.polls
        found = await polls.get_with_tally(poll.id)
        if found is None:
            return True
        done = True
        for platform, chat_id in await polls.showing_chats(poll.id):
            front_end = self.front_ends.get(platform)
            if front_end is None:
                done = False
                continue
            if platform in down:
                report.waiting.add(platform)
                done = False
                continue
            if not await polls.claim_announcement(poll.id, platform, chat_id, now):
                continue
            request = await resolve_context(
                Request(platform=front_end.platform, user_id="", chat_id=chat_id, internal=True),
                self.services,
            )
            key = (poll.id, platform, chat_id)
            try:
                reply = await announcement(*found, request.lang, request.tz, now)
                await front_end.send(chat_id, reply)
            except ChatUnreachable as error:
                log.warning("poll %d: %s chat %s is gone (%s)", poll.id, platform, chat_id, error)
                report.failed.append(key)
            except Exception as error:
                log.error(
                    "poll %d: the closing announcement to %s chat %s failed (%s: %s); "
                    "it is not sent again",
                    poll.id,
                    platform,
                    chat_id,
                    type(error).__name__,
                    error,
                )
                report.failed.append(key)
            else:
                report.sent.append(key)
        return done
