"""Posting the market recap to subscribed chats after the NYSE close: on time, once, paced.

APScheduler 3 (AsyncIOScheduler, in the bot's one event loop) is the alarm clock: one job
per distinct (time, zone) in use, whose trigger asks the NYSE calendar for the next
instant a recap is due, plus a minute-by-minute job that picks up new subscriptions and
retries what is owed. APScheduler rather than python-telegram-bot's JobQueue because the
JobQueue lives inside the Telegram Application: it would not run for a Discord-only bot,
and Discord recaps would stop whenever Telegram does. (JobQueue is APScheduler inside.)

What is owed is decided from the database, never from the alarm: each sweep takes every
subscription's most recent due recap (storage.subscriptions.latest_due), skips one that
was already handled, sends one that is less than two hours late and skips (and logs)
one that is older. A recap is claimed in the database before it is sent, so no restart
or overlapping sweep can send it twice; the price is that a chat claimed when the process
dies misses that recap, so only CLAIM_AHEAD chats per platform are claimed ahead of their
turn. All chats due in one sweep share one gather_recap: one market fetch, one chart,
however many chats. A platform whose front end is not connected (still connecting at start,
or in an outage its supervisor is retrying) has nothing claimed: its chats stay owed, and
the sweep after it reconnects (a minute at most) sends what is then less than two hours late.

Fan-out is paced per platform below its flood limit (Telegram about 30 messages a second
overall, Discord 50 requests a second) with aiolimiter: a steady stream, never more than
two messages at once. A chat that is gone (ChatUnreachable) is unsubscribed and logged; a
send that may have arrived (PossiblyDelivered) is logged and not sent again; any other
failure is retried with exponential backoff (or the platform's retry_after) in that
chat's own task, so it never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.frontend import ChatUnreachable, FrontEnd, PossiblyDelivered
from bot.recap_trigger import RecapTrigger, schedule_of
from handlers.model import Lang, Reply, Services
from handlers.recap import RecapData, gather_recap, render_recap
from storage.subscriptions import (
    Subscription,
    latest_due,
)
from storage.trading_calendar import Session, TradingCalendar, load_calendar

log = logging.getLogger(__name__)

# Messages per second, a margin under each platform's limit so that timer jitter never
# tips a one-second window over it.
DEFAULT_PACE: Mapping[str, float] = {"telegram": 27.5, "discord": 40.0}
# A send delayed by a busy event loop may be made up by the next one, no more: in any one
# second at most pace + BURST messages go out: 27.5 + 2, so 29 at most for Telegram.
BURST = 2
CATCH_UP = timedelta(hours=2)
SYNC_SECONDS = 60.0
RETRY_DELAYS = (2.0, 4.0, 8.0, 16.0, 32.0)
MAX_IN_FLIGHT = 64
# Chats claimed and still waiting for their turn, per platform: what a SIGKILL mid-fan-out
# costs at most. Enough to hide a claim's commit behind the pacing (4 / 27.5 s = 145 ms).
CLAIM_AHEAD = 4
# APScheduler wakes on the wall clock; a wake-up a hair before the instant still counts.
EARLY_SLACK = timedelta(seconds=1)

Sleep = Callable[[float], Awaitable[None]]
ChatKey = tuple[str, str]
Connected = Callable[[str], bool]
Gather = Callable[[Services, TradingCalendar, Session], Awaitable[RecapData]]


@dataclass
class SweepReport:
    """What one sweep did, chat by chat; for logs, tests and the benchmark."""

    sent: list[ChatKey] = field(default_factory=list)
    skipped: list[ChatKey] = field(default_factory=list)
    unsubscribed: list[ChatKey] = field(default_factory=list)
    failed: list[ChatKey] = field(default_factory=list)
    retries: int = 0


def _retry_after(error: BaseException) -> float:
    """The wait a platform asked for (Telegram RetryAfter, discord.py RateLimited), or 0."""
    value: Any = getattr(error, "retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and value > 0:
        return float(value)
    return 0.0


class RecapScheduler:
    """Owns the recap timers and the deliveries; start after the front ends, stop before."""

    def __init__(
        self,
        services: Services,
        front_ends: Iterable[FrontEnd],
        *,
        calendar: TradingCalendar | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Sleep = asyncio.sleep,
        pace: Mapping[str, float] = DEFAULT_PACE,
        catch_up: timedelta = CATCH_UP,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        sync_seconds: float = SYNC_SECONDS,
        gather: Gather = gather_recap,
        connected: Connected = lambda platform: True,
    ) -> None:
        self.services = services
        # The runner passes Health.connected; a front end without a supervisor is taken as up.
        self.connected = connected
        self._waiting: set[str] = set()
        self.front_ends: dict[str, FrontEnd] = {fe.platform: fe for fe in front_ends}
        self.store = services.subscriptions
        self.calendar = calendar
        self.clock = clock or services.clock
        self.sleep = sleep
        self.catch_up = catch_up
        self.retry_delays = retry_delays
        self.sync_seconds = sync_seconds
        self.gather = gather
        self._limiters = {
            platform: AsyncLimiter(BURST, BURST / rate)
            for platform, rate in pace.items()
            if rate > 0
        }
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._claim_ahead: dict[str, asyncio.Semaphore] = {}
        self._sweep_lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: dict[tuple[str, str], str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Load the calendar, start the timers; the first sweep (catch-up) runs at once."""
        if self.calendar is None:
            self.calendar = await load_calendar()
        # APScheduler logs every run at INFO: two lines a minute for the sync job alone.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=self.sync_seconds, timezone=UTC),
            args=(self.sync,),
            id="recap-sync",
            name="recap subscriptions sync",
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        # The timers now; the catch-up sweep runs in the sync job, so a long fan-out
        # does not hold up start-up.
        await self._reconcile()
        log.info("recap scheduler started with %d timers", len(self._jobs))

    async def stop(self) -> None:
        """Stop the timers and cancel a fan-out in progress; what was not sent is released."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        log.info("recap scheduler stopped")

    async def _tracked(self, work: Callable[[], Awaitable[Any]]) -> None:
        """Run a job so that stop() can cancel it and wait for its clean-up."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await work()
        except asyncio.CancelledError:
            # stop() cancelled it (deliveries cleaned up after themselves); a leaf task, so
            # finishing quietly keeps APScheduler from reporting the shutdown as a failure.
            log.info("recap job cancelled by shutdown")
        except Exception:
            log.exception("recap job failed; the next sweep tries again")
        finally:
            self._tasks.discard(task)

    # -- timers --------------------------------------------------------------------------

    async def sync(self) -> SweepReport:
        """Match the timers to the subscriptions in the database, then sweep."""
        await self._reconcile()
        return await self.run_due()

    async def _reconcile(self) -> None:
        """One timer per distinct (time, zone) in use, none for a schedule nobody uses."""
        if self._scheduler is not None and self.calendar is not None:
            wanted = await self.store.schedules()
            for key in wanted - self._jobs.keys():
                at_text, zone = key
                schedule = schedule_of(at_text, zone)
                if schedule is None:
                    continue
                job = self._scheduler.add_job(
                    self._tracked,
                    RecapTrigger(schedule, self.calendar, self.clock),
                    args=(self.run_due,),
                    name=f"recap {at_text} {zone}",
                )
                self._jobs[key] = job.id
            for key in self._jobs.keys() - wanted:
                job_id = self._jobs.pop(key)
                if self._scheduler.get_job(job_id) is not None:
                    self._scheduler.remove_job(job_id)

    def next_wakeups(self) -> dict[tuple[str, str], datetime | None]:
        """When each recap timer fires next (wall clock, UTC): for status and tests."""
        if self._scheduler is None:
            return {}
        wakeups: dict[tuple[str, str], datetime | None] = {}
        for key, job_id in self._jobs.items():
            job = self._scheduler.get_job(job_id)
            wakeups[key] = job.next_run_time if job is not None else None
        return wakeups

    # -- sweeping ------------------------------------------------------------------------

    async def run_due(self) -> SweepReport:
        """Deliver every recap owed now; one sweep at a time."""
        async with self._sweep_lock:
            if self.calendar is None:
                self.calendar = await load_calendar()
            now = self.clock()
            report = SweepReport()
            plan: dict[Session, list[Subscription]] = {}
            down = {platform for platform in self.front_ends if not self.connected(platform)}
            held: set[str] = set()
            for subscription in await self.store.all():
                if subscription.platform not in self.front_ends:
                    continue
                due = latest_due(subscription.schedule, now + EARLY_SLACK, self.calendar)
                if due is None or due.at < subscription.active_since:
                    continue
                handled = subscription.handled_session
                if handled is not None and handled >= due.session.day:
                    continue
                if subscription.platform in down:
                    held.add(subscription.platform)
                    continue
                late = now - due.at
                if late >= self.catch_up:
                    if await self.store.claim(*subscription.key, due.session.day):
                        log.warning(
                            "recap of the %s session for %s chat %s skipped: it was due at "
                            "%s and is %s late (more than %s)",
                            due.session.day,
                            subscription.platform,
                            subscription.chat_id,
                            due.at.isoformat(),
                            late,
                            self.catch_up,
                        )
                        report.skipped.append(subscription.key)
                    continue
                plan.setdefault(due.session, []).append(subscription)
            self._note_waiting(held, down)
            for session, subscriptions in plan.items():
                data = await self.gather(self.services, self.calendar, session)
                await self._fan_out(data, subscriptions, report)
            if report.sent or report.skipped or report.unsubscribed or report.failed:
                log.info(
                    "recap sweep: %d sent, %d skipped, %d unsubscribed, %d failed, %d retries",
                    len(report.sent),
                    len(report.skipped),
                    len(report.unsubscribed),
                    len(report.failed),
                    report.retries,
                )
            return report

    def _note_waiting(self, held: set[str], down: set[str]) -> None:
        """Log once per outage that a platform's recaps wait for its front end."""
        for platform in sorted(held - self._waiting):
            log.warning("recaps to %s chats wait: its front end is not connected", platform)
        self._waiting = (self._waiting | held) & down

    async def _fan_out(
        self, data: RecapData, subscriptions: list[Subscription], report: SweepReport
    ) -> None:
        replies: dict[tuple[Lang, str], Reply] = {}

        def reply_for(subscription: Subscription) -> Reply:
            # The chat's current /settings, as /recap now would answer there.
            lang: Lang = "zh" if subscription.reply_lang == "zh" else "en"
            zone = subscription.reply_zone
            key = (lang, zone.key)
            if key not in replies:
                replies[key] = render_recap(data, lang, zone)
            return replies[key]

        by_platform: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            by_platform.setdefault(subscription.platform, []).append(subscription)

        async def pace(platform: str, chats: list[Subscription]) -> None:
            deliveries: list[asyncio.Task[None]] = []
            try:
                for subscription in chats:
                    # Bounds the chats in hand; each waits for its turn right before its
                    # send, after its database claim, so the claim's latency cannot
                    # bunch sends together.
                    await self._in_flight.acquire()
                    reply = reply_for(subscription)
                    deliveries.append(
                        asyncio.create_task(
                            self._deliver(subscription, data.session, reply, report)
                        )
                    )
                await asyncio.gather(*deliveries)
            finally:
                for delivery in deliveries:
                    delivery.cancel()
                await asyncio.gather(*deliveries, return_exceptions=True)

        # Platforms have separate limits, so each is paced on its own and in parallel.
        await asyncio.gather(*(pace(platform, chats) for platform, chats in by_platform.items()))

    async def _wait_turn(self, platform: str) -> None:
        limiter = self._limiters.get(platform)
        if limiter is not None:
            await limiter.acquire()

    async def _deliver(
        self, subscription: Subscription, session: Session, reply: Reply, report: SweepReport
    ) -> None:
        """Send one chat its recap; the in-flight slot taken by the pacer is released here."""
        platform, chat_id = subscription.key
        front_end = self.front_ends[platform]
        attempted = False
        ahead = self._claim_ahead.setdefault(platform, asyncio.Semaphore(CLAIM_AHEAD))
        try:
            async with ahead:
                # It may have gone down since the sweep began: then leave the chat owed.
                if not self.connected(platform) or not await self.store.claim(
                    platform, chat_id, session.day
                ):
                    return
                await self._wait_turn(platform)
            delays = iter(self.retry_delays)
            while True:
                try:
                    attempted = True
                    await front_end.send(chat_id, reply)
                except ChatUnreachable as error:
                    await self.store.unsubscribe(platform, chat_id)
                    log.warning(
                        "unsubscribed %s chat %s from recaps: the bot cannot post there (%s)",
                        platform,
                        chat_id,
                        error,
                    )
                    report.unsubscribed.append(subscription.key)
                    return
                except PossiblyDelivered as error:
                    # It may be in the chat already: a second try could post it twice, and
                    # the chat is not gone, so it stays subscribed.
                    log.warning(
                        "recap to %s chat %s may not have arrived (%s); not sent again",
                        platform,
                        chat_id,
                        error,
                    )
                    report.failed.append(subscription.key)
                    return
                except Exception as error:
                    delay = next(delays, None)
                    if delay is None:
                        log.error(
                            "recap of the %s session to %s chat %s failed %d times (%s: %s); "
                            "giving up on it",
                            session.day,
                            platform,
                            chat_id,
                            len(self.retry_delays) + 1,
                            type(error).__name__,
                            error,
                        )
                        report.failed.append(subscription.key)
                        return
                    wait = max(delay, _retry_after(error))
                    log.warning(
                        "recap to %s chat %s failed (%s: %s); retrying in %.1f s",
                        platform,
                        chat_id,
                        type(error).__name__,
                        error,
                        wait,
                    )
                    report.retries += 1
                    await self.sleep(wait)
                    await self._wait_turn(platform)
                    continue
                await self.store.confirm(platform, chat_id, session.day, self.clock())
                report.sent.append(subscription.key)
                return
        except asyncio.CancelledError:
            if not attempted:
                # Nothing can have reached the chat: the next start may deliver it, if in time.
                # (Once a send was attempted it may have arrived, so the claim stays.)
                await asyncio.shield(
                    self.store.release(platform, chat_id, session.day, subscription.handled_session)
                )
            raise
        finally:
            self._in_flight.release()
