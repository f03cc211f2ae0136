"""The recap scheduler with a clock the test moves: due instants, catch-up, restarts, failures."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.frontend import ChatUnreachable, LinkReport
from bot.health import Health, State
from bot.recap_trigger import RecapTrigger
from bot.scheduler import RecapScheduler
from bot.services import build_services
from bot.supervisor import Backoff, Supervisor
from handlers.model import Lang, Reply, Services
from handlers.recap import TICKERS, RecapData, RecapLine
from storage.facts import Facts
from storage.market import MarketData
from storage.market_cache import MarketCacheStore
from storage.poll_copies import PollCopy
from storage.poll_model import Platform
from storage.subscriptions import Schedule
from storage.trading_calendar import Session, TradingCalendar, nyse_calendar
from tests.bot.conftest import StateLog
from tests.conftest import offline_settings
from tests.fakes.yahoo import Bar, FakeYahoo, proxied_session

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = Schedule(time(16, 15), NEW_YORK)
LONG_AGO = datetime(2024, 6, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeFrontEnd:
    """Records what it is asked to send; `failures[chat]` are raised first, in order."""

    platform: Platform = "telegram"
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    failures: dict[str, list[BaseException]] = field(default_factory=dict)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.attempts.append(chat_id)
        await asyncio.sleep(0)
        pending = self.failures.get(chat_id)
        if pending:
            raise pending.pop(0)
        self.sent.append((chat_id, reply))

    async def refresh_copy(self, copy: PollCopy, reply: Reply, lang: Lang) -> None:
        raise AssertionError("the scheduler redraws no poll")

    def chats(self) -> list[str]:
        return [chat for chat, _ in self.sent]


class Gathered:
    """A stand-in for the market fetch that counts how often the recap data is gathered."""

    def __init__(self) -> None:
        self.sessions: list[date] = []

    async def __call__(
        self, services: Services, calendar: TradingCalendar, session: Session
    ) -> RecapData:
        self.sessions.append(session.day)
        return RecapData(session=session, lines=(), as_of=None, poll=None, charts={})


@pytest.fixture(scope="module")
def calendar() -> TradingCalendar:
    return nyse_calendar()


@pytest.fixture
def clock() -> Clock:
    return Clock(utc("2025-03-07T12:00"))


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def telegram() -> FakeFrontEnd:
    return FakeFrontEnd()


def make_scheduler(
    services: Services,
    clock: Clock,
    calendar: TradingCalendar,
    *front_ends: FakeFrontEnd,
    slept: list[float] | None = None,
    gather: Gathered | None = None,
    connected: Callable[[str], bool] = lambda platform: True,
) -> RecapScheduler:
    async def sleep(seconds: float) -> None:
        if slept is not None:
            slept.append(seconds)
        clock.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    return RecapScheduler(
        dataclasses.replace(services, clock=clock),
        front_ends,
        calendar=calendar,
        sleep=sleep,
        pace={},
        gather=gather or Gathered(),
        connected=connected,
    )


async def subscribe(
    services: Services,
    chat: str,
    schedule: Schedule = DEFAULT,
    platform: str = "telegram",
    since: datetime = LONG_AGO,
    lang: str = "en",
) -> None:
    await services.subscriptions.subscribe(platform, chat, schedule, lang, "42", since)


# -- when ------------------------------------------------------------------------------------


async def test_recaps_go_out_at_2115_utc_before_and_2015_utc_after_the_spring_dst_change(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    await subscribe(services, "-1")
    scheduler = make_scheduler(services, clock, calendar, telegram)
    fired: list[datetime] = []
    # Minute by minute over Friday 7 and Monday 10 March 2025 (New York springs forward
    # on Sunday the 9th); each minute is a sweep at that instant.
    for day in ("2025-03-07", "2025-03-10"):
        for minute in range(19 * 60, 22 * 60):
            clock.now = utc(f"{day}T00:00") + timedelta(minutes=minute)
            before = len(telegram.sent)
            await scheduler.run_due()
            if len(telegram.sent) > before:
                fired.append(clock.now)

    assert fired == [utc("2025-03-07T21:15"), utc("2025-03-10T20:15")]


def test_the_timer_wakes_at_the_due_instant_on_the_wall_clock(calendar: TradingCalendar) -> None:
    # The bot's clock runs 3 days behind the wall clock here (a shifted test clock).
    shift = timedelta(days=3)
    wall = Clock(utc("2025-11-05T12:00"))
    trigger = RecapTrigger(DEFAULT, calendar, lambda: wall.now - shift)

    first = trigger.get_next_fire_time(None, wall.now)
    assert first is not None
    wall.now = first  # APScheduler woke up then and asks for the following one
    second = trigger.get_next_fire_time(first, wall.now)

    # The bot's "now" is 2 November (a Sunday, the day New York fell back).
    assert first == utc("2025-11-03T21:15") + shift
    assert second == utc("2025-11-04T21:15") + shift


async def test_a_holiday_and_a_special_closure_get_no_recap(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    await subscribe(services, "-1")
    gathered = Gathered()
    scheduler = make_scheduler(services, clock, calendar, telegram, gather=gathered)
    for instant in ("2025-01-08T21:15", "2025-01-09T21:15", "2025-01-10T21:15"):
        clock.now = utc(instant)
        await scheduler.run_due()
    for instant in ("2025-04-17T20:15", "2025-04-18T20:15", "2025-04-21T20:15"):
        clock.now = utc(instant)
        await scheduler.run_due()

    # 9 January 2025 (national day of mourning) and Good Friday: nothing.
    assert gathered.sessions == [
        date(2025, 1, 8),
        date(2025, 1, 10),
        date(2025, 4, 17),
        date(2025, 4, 21),
    ]
    assert len(telegram.sent) == 4


async def test_an_early_close_day_is_recapped_after_the_early_close(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    # 28 November 2025 closed at 13:00 New York. A 13:30 subscriber gets it that afternoon.
    await subscribe(services, "-1", Schedule(time(13, 30), NEW_YORK))
    await subscribe(services, "-2")
    gathered = Gathered()
    scheduler = make_scheduler(services, clock, calendar, telegram, gather=gathered)
    clock.now = utc("2025-11-28T18:29")  # 13:29 New York: the 13:30 chat had Wednesday's
    await scheduler.run_due()
    telegram.sent.clear()

    clock.now = utc("2025-11-28T18:30")
    await scheduler.run_due()
    at_half_past_one = telegram.chats()
    clock.now = utc("2025-11-28T21:15")
    await scheduler.run_due()

    assert at_half_past_one == ["-1"]
    assert telegram.chats() == ["-1", "-2"]
    assert gathered.sessions[-2:] == [date(2025, 11, 28), date(2025, 11, 28)]


# -- once ------------------------------------------------------------------------------------


def offline_services(
    facts: Facts, path: Path, clock: Clock
) -> AbstractAsyncContextManager[Services]:
    """What one run of the bot has over the database at `path`, with offline prices."""
    return build_services(offline_settings(path), facts=facts, clock=clock)


async def test_a_restart_never_sends_a_recap_twice(
    facts: Facts, calendar: TradingCalendar, tmp_path: Path
) -> None:
    path = tmp_path / "bot.sqlite3"
    clock = Clock(utc("2025-03-10T20:15"))
    first, second = FakeFrontEnd(), FakeFrontEnd()

    async with offline_services(facts, path, clock) as services:
        await subscribe(services, "-1")
        await subscribe(services, "-2")
        # Chat -2's send is under way when the process dies: claimed, never confirmed.
        assert await services.subscriptions.claim("telegram", "-2", date(2025, 3, 10))
        await make_scheduler(services, clock, calendar, first).run_due()

    clock.now += timedelta(minutes=5)
    async with offline_services(facts, path, clock) as services:
        restarted = make_scheduler(services, clock, calendar, second)
        await restarted.run_due()
        await restarted.run_due()
        record = await services.subscriptions.get("telegram", "-1")

    assert first.chats() == ["-1"]
    assert second.sent == []
    assert record is not None and record.last_sent_session == date(2025, 3, 10)
    assert record.last_sent_at == utc("2025-03-10T20:15")


async def test_a_recap_missed_while_down_is_sent_once_when_less_than_two_hours_late(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    await subscribe(services, "-1")
    clock.now = utc("2025-03-10T20:15") + timedelta(hours=1, minutes=59)
    scheduler = make_scheduler(services, clock, calendar, telegram)

    await scheduler.run_due()
    await scheduler.run_due()

    assert telegram.chats() == ["-1"]


async def test_a_recap_two_hours_late_is_skipped_and_logged_once(
    services: Services,
    clock: Clock,
    calendar: TradingCalendar,
    telegram: FakeFrontEnd,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await subscribe(services, "-1")
    clock.now = utc("2025-03-10T22:15")
    scheduler = make_scheduler(services, clock, calendar, telegram)

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        first = await scheduler.run_due()
        await scheduler.run_due()
    # The next session is delivered as usual.
    clock.now = utc("2025-03-11T20:15")
    await scheduler.run_due()

    assert first.skipped == [("telegram", "-1")]
    skips = [record.getMessage() for record in caplog.records if "skipped" in record.getMessage()]
    assert len(skips) == 1 and "2025-03-10" in skips[0] and "-1" in skips[0]
    assert telegram.chats() == ["-1"]
    record = await services.subscriptions.get("telegram", "-1")
    assert record is not None and record.last_sent_session == date(2025, 3, 11)


async def test_a_new_subscription_gets_no_recap_that_fell_due_before_it(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    clock.now = utc("2025-03-10T21:00")  # 45 minutes after the 16:15 New York recap
    await subscribe(services, "-1", since=clock.now)
    scheduler = make_scheduler(services, clock, calendar, telegram)

    await scheduler.run_due()
    clock.now = utc("2025-03-11T20:15")
    await scheduler.run_due()

    assert telegram.chats() == ["-1"]
    record = await services.subscriptions.get("telegram", "-1")
    assert record is not None and record.last_sent_session == date(2025, 3, 11)


# -- failures --------------------------------------------------------------------------------


async def test_a_chat_that_removed_the_bot_is_unsubscribed_while_the_others_still_receive(
    services: Services,
    clock: Clock,
    calendar: TradingCalendar,
    telegram: FakeFrontEnd,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for chat in ("-1", "-2", "-3"):
        await subscribe(services, chat)
    telegram.failures["-2"] = [ChatUnreachable("Forbidden: bot was kicked from the group chat")]
    clock.now = utc("2025-03-10T20:15")
    scheduler = make_scheduler(services, clock, calendar, telegram)

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        report = await scheduler.run_due()

    assert sorted(telegram.chats()) == ["-1", "-3"]
    assert report.unsubscribed == [("telegram", "-2")]
    remaining = await services.subscriptions.all()
    assert [subscription.chat_id for subscription in remaining] == ["-1", "-3"]
    assert any("unsubscribed telegram chat -2" in record.getMessage() for record in caplog.records)


async def test_a_failing_chat_is_retried_with_backoff_without_holding_up_the_others(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    for chat in ("-1", "-2", "-3"):
        await subscribe(services, chat)
    telegram.failures["-1"] = [ConnectionError("reset"), TimeoutError("slow")]
    clock.now = utc("2025-03-10T20:15")
    slept: list[float] = []

    async def backoff(seconds: float) -> None:
        # The retry waits until the other chats have their recap: were they queued behind
        # it, this would never happen and the test would time out.
        slept.append(seconds)
        async with asyncio.timeout(5):
            while not {"-2", "-3"} <= set(telegram.chats()):
                await asyncio.sleep(0.001)

    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock),
        [telegram],
        calendar=calendar,
        sleep=backoff,
        pace={},
        gather=Gathered(),
    )

    report = await scheduler.run_due()

    assert slept == [2.0, 4.0]
    assert telegram.chats() == ["-2", "-3", "-1"]
    assert telegram.attempts.count("-1") == 3
    assert report.retries == 2 and report.failed == []


class RateLimited(Exception):
    retry_after = 7


async def test_a_platform_retry_after_is_waited_out_in_full(
    services: Services,
    clock: Clock,
    calendar: TradingCalendar,
    telegram: FakeFrontEnd,
    slept: list[float],
) -> None:
    await subscribe(services, "-1")
    telegram.failures["-1"] = [RateLimited("429 Too Many Requests")]
    clock.now = utc("2025-03-10T20:15")

    await make_scheduler(services, clock, calendar, telegram, slept=slept).run_due()

    assert slept == [7.0]
    assert telegram.chats() == ["-1"]


async def test_a_chat_failing_every_attempt_is_given_up_logged_and_not_resent(
    services: Services,
    clock: Clock,
    calendar: TradingCalendar,
    telegram: FakeFrontEnd,
    slept: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await subscribe(services, "-1")
    await subscribe(services, "-2")
    telegram.failures["-1"] = [RuntimeError("500 Internal Server Error")] * 10
    clock.now = utc("2025-03-10T20:15")
    scheduler = make_scheduler(services, clock, calendar, telegram, slept=slept)

    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        report = await scheduler.run_due()
        await scheduler.run_due()

    assert slept == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert report.failed == [("telegram", "-1")]
    assert telegram.attempts.count("-1") == 6
    assert telegram.chats() == ["-2"]
    assert any("giving up" in record.getMessage() for record in caplog.records)


async def test_a_platform_without_a_running_front_end_keeps_its_recaps_owed(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    await subscribe(services, "-1")
    await subscribe(services, "555", platform="discord")
    clock.now = utc("2025-03-10T20:15")

    await make_scheduler(services, clock, calendar, telegram).run_due()
    discord = FakeFrontEnd(platform="discord")
    await make_scheduler(services, clock, calendar, telegram, discord).run_due()

    assert telegram.chats() == ["-1"]
    assert discord.chats() == ["555"]


@dataclass
class LinkedFrontEnd(FakeFrontEnd):
    """A front end whose start waits until its platform is reachable, and whose link the test
    can drop and bring back; while it is down, sends fail as a real front end's would."""

    reachable: asyncio.Event = field(default_factory=asyncio.Event)
    report: LinkReport | None = None

    async def start(self) -> None:
        await self.reachable.wait()

    def watch(self, report: LinkReport) -> None:
        self.report = report

    def link(self, up: bool) -> None:
        if up:
            self.reachable.set()
        else:
            self.reachable.clear()
        assert self.report is not None
        self.report(up)

    async def send(self, chat_id: str, reply: Reply) -> None:
        if not self.reachable.is_set():
            self.attempts.append(chat_id)
            raise ConnectionError("the platform is unreachable")
        await super().send(chat_id, reply)

    async def wait_ended(self) -> None:
        await asyncio.Event().wait()


def waits_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "wait" in r.getMessage()]


async def test_recaps_due_while_a_front_end_is_still_connecting_are_claimed_and_sent_once_it_is_up(
    services: Services, clock: Clock, calendar: TradingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    await subscribe(services, "-1")
    await subscribe(services, "-2")
    telegram, health = LinkedFrontEnd(), Health()
    states = StateLog(health)
    supervisor = Supervisor("telegram", telegram, health, Backoff(first=0.01, cap=0.05))
    scheduler = make_scheduler(services, clock, calendar, telegram, connected=health.connected)
    running = asyncio.create_task(supervisor.run())
    await states.until("telegram", State.CONNECTING)

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        for minute in (15, 16):
            clock.now = utc(f"2025-03-10T20:{minute}")
            await scheduler.run_due()
        while_down = [await services.subscriptions.get("telegram", c) for c in ("-1", "-2")]
        telegram.reachable.set()
        await states.until("telegram", State.CONNECTED)
        for minute in (17, 18):
            clock.now = utc(f"2025-03-10T20:{minute}")
            await scheduler.run_due()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert [record.handled_session if record else "gone" for record in while_down] == [None, None]
    assert sorted(telegram.attempts) == ["-1", "-2"]
    assert sorted(telegram.chats()) == ["-1", "-2"]
    assert waits_logged(caplog) == ["recaps to telegram chats wait: its front end is not connected"]


async def test_a_recap_due_during_an_outage_waits_for_the_link_and_each_outage_is_logged_once(
    services: Services, clock: Clock, calendar: TradingCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    await subscribe(services, "-1")
    telegram, health = LinkedFrontEnd(), Health()
    telegram.reachable.set()
    states = StateLog(health)
    supervisor = Supervisor("telegram", telegram, health, Backoff(first=0.01, cap=0.05))
    scheduler = make_scheduler(services, clock, calendar, telegram, connected=health.connected)
    running = asyncio.create_task(supervisor.run())
    await states.until("telegram", State.CONNECTED)

    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        for day in ("2025-03-10", "2025-03-11"):
            telegram.link(False)
            for minute in (15, 16, 17):
                clock.now = utc(f"{day}T20:{minute}")
                await scheduler.run_due()
            telegram.link(True)
            clock.now = utc(f"{day}T21:30")
            await scheduler.run_due()
            await scheduler.run_due()
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)

    assert telegram.attempts == ["-1", "-1"]
    record = await services.subscriptions.get("telegram", "-1")
    assert record is not None and record.last_sent_session == date(2025, 3, 11)
    assert record.last_sent_at == utc("2025-03-11T21:30")
    assert len(waits_logged(caplog)) == 2


async def test_each_chat_gets_its_own_language(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    await subscribe(services, "-1", lang="en")
    await subscribe(services, "-2", lang="zh")
    clock.now = utc("2025-03-10T20:15")
    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock), [telegram], calendar=calendar, pace={}
    )

    await scheduler.run_due()

    titles = {chat: reply.title for chat, reply in telegram.sent}
    assert titles == {
        "-1": "Market recap: NYSE close of Mon 10 Mar 2025",
        "-2": "市场回顾：纽交所 2025年03月10日 收盘",
    }


async def test_a_chats_later_settings_reach_its_scheduled_recaps(
    services: Services, clock: Clock, calendar: TradingCalendar, telegram: FakeFrontEnd
) -> None:
    async def closes(services: Services, calendar: TradingCalendar, session: Session) -> RecapData:
        line = RecapLine("NVDA", 100.0, 0.01, None)
        return RecapData(session=session, lines=(line,), as_of=session.close, poll=None, charts={})

    await subscribe(services, "-1", lang="en")
    await subscribe(services, "-2", lang="en")
    # After subscribing, chat -1 switches to Chinese and Shanghai time with /settings.
    await services.chat_settings.set_lang("telegram", "-1", "zh")
    await services.chat_settings.set_tz("telegram", "-1", "Asia/Shanghai")
    clock.now = utc("2025-03-10T20:15")
    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock),
        [telegram],
        calendar=calendar,
        pace={},
        gather=closes,
    )

    await scheduler.run_due()

    sent = {chat: reply.plain_text() for chat, reply in telegram.sent}
    assert "市场回顾" in sent["-1"]
    assert "价格截至 03月11日 04:00 Asia/Shanghai" in sent["-1"]
    assert "Prices as of Mon 10 Mar 16:00 America/New_York" in sent["-2"]


async def test_stopping_mid_fan_out_leaves_unsent_recaps_owed(
    services: Services, clock: Clock, calendar: TradingCalendar
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    class Stuck(FakeFrontEnd):
        async def send(self, chat_id: str, reply: Reply) -> None:
            started.set()
            await release.wait()

    for chat in ("-1", "-2"):
        await subscribe(services, chat)
    clock.now = utc("2025-03-10T20:15")
    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock),
        [Stuck()],
        calendar=calendar,
        pace={"telegram": 1.0},  # one a second: -2 is still waiting for its turn
        gather=Gathered(),
    )
    await scheduler.start()
    await asyncio.wait_for(started.wait(), 5)

    await scheduler.stop()

    records = {s.chat_id: s for s in await services.subscriptions.all()}
    # -1 may have been delivered (its send had begun): never again. -2 never left.
    assert records["-1"].handled_session == date(2025, 3, 10)
    assert records["-2"].handled_session is None


# -- one fetch -------------------------------------------------------------------------------


@pytest.fixture
def recent_bars() -> dict[str, list[Bar]]:
    return {
        ticker: [Bar(date(2025, 3, 7), 100.0), Bar(date(2025, 3, 10), 101.0)] for ticker in TICKERS
    }


@pytest.fixture
async def live_services(
    facts: Facts, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> AsyncIterator[tuple[Services, Clock]]:
    clock = Clock(utc("2025-03-10T20:15"))

    def live(facts: Facts, cache: MarketCacheStore) -> MarketData:
        return MarketData(
            facts,
            cache,
            mode="live",
            clock=clock,
            cache_dir=yf_cache_dir,
            session_factory=lambda: proxied_session(fake_yahoo.proxy_url),
        )

    settings = offline_settings()
    async with build_services(settings, facts=facts, clock=clock, market=live) as services:
        yield services, clock


async def test_a_thousand_chats_due_together_cost_one_market_fetch_per_ticker(
    live_services: tuple[Services, Clock], fake_yahoo: FakeYahoo, calendar: TradingCalendar
) -> None:
    services, _ = live_services
    telegram = FakeFrontEnd()
    for number in range(1000):
        await subscribe(services, str(-1000 - number), lang="zh" if number % 3 else "en")
    scheduler = RecapScheduler(services, [telegram], calendar=calendar, pace={})

    report = await scheduler.run_due()

    assert len(report.sent) == 1000 and len(telegram.sent) == 1000
    requests = fake_yahoo.state.price_requests()
    assert requests, "the recap made no upstream request at all"
    # Per ticker: one request for the closes since January 2025 and one for today's price.
    assert {ticker: requests.count(ticker) for ticker in set(requests)} == dict.fromkeys(
        set(requests), 2
    )
    assert len(set(requests)) == 12
    # And the numbers are the session's own, not stale ones.
    english = next(reply for _, reply in telegram.sent if reply.title.startswith("Market"))
    assert "101.00" in english.plain_text() and "+1.0%" in english.plain_text()
    assert english.images and english.images[0].png.startswith(b"\x89PNG")


async def test_the_fan_out_is_paced_not_sent_in_one_burst(
    services: Services, clock: Clock, calendar: TradingCalendar
) -> None:
    sent_at: list[float] = []

    class Timed(FakeFrontEnd):
        async def send(self, chat_id: str, reply: Reply) -> None:
            sent_at.append(asyncio.get_running_loop().time())
            await super().send(chat_id, reply)

    for number in range(20):
        await subscribe(services, str(-1 - number))
    clock.now = utc("2025-03-10T20:15")
    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock),
        [Timed()],
        calendar=calendar,
        pace={"telegram": 50.0},  # 50 a second: 20 chats take about 0.36 s, not 0
        gather=Gathered(),
    )

    await scheduler.run_due()

    assert len(sent_at) == 20
    # A burst of two at most, then one every 1/50 s: any span holds 2 + 50 x its length.
    assert sent_at[-1] - sent_at[0] >= (20 - 2) / 50 * 0.95
    for first, start in enumerate(sent_at):
        for last in range(first + 1, len(sent_at)):
            assert last - first + 1 <= 2 + 50 * (sent_at[last] - start) + 0.1
