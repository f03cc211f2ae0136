"""End to end: a recap falls due, APScheduler wakes, the real Telegram front end posts it."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import RecapScheduler
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.model import Services
from storage.subscriptions import Schedule
from storage.trading_calendar import nyse_calendar
from tests.bot.conftest import telegram_settings
from tests.fakes.telegram_api import FakeBotApi
from tests.handlers.test_recap import CannedMarket

GROUP = -1001_777_000_001
# Monday 30 November 2026: 16:15 in New York is 21:15 UTC.
DUE = datetime(2026, 11, 30, 21, 15, tzinfo=UTC)
LEAD = timedelta(seconds=2)


class ShiftedClock:
    """The wall clock moved so that "now" is `LEAD` before the recap is due."""

    def __init__(self, target: datetime) -> None:
        self.offset = target - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    return telegram_fake


async def started_telegram(fake: FakeBotApi, services: Services) -> TelegramFrontEnd:
    """A Telegram front end on the fake; the test stops it before looking at what was sent."""
    tuning = TelegramTuning(poll_timeout=1)
    front_end = TelegramFrontEnd(telegram_settings(fake), services, tuning=tuning)
    await front_end.start()
    return front_end


async def subscribe_before_the_close(services: Services, chat: int) -> None:
    """The chat subscribes, in English, to the default 16:15 New York recap the day before."""
    await services.subscriptions.subscribe(
        "telegram",
        str(chat),
        Schedule(time(16, 15), ZoneInfo("America/New_York")),
        "en",
        "42",
        DUE - timedelta(hours=1),
    )


def due_now(services: Services, front_end: TelegramFrontEnd) -> RecapScheduler:
    """A scheduler at the moment the recap is due, with Monday's closes (so a photo)."""
    return RecapScheduler(
        dataclasses.replace(services, clock=lambda: DUE, market=CannedMarket(services)),  # type: ignore[arg-type]
        [front_end],
        calendar=nyse_calendar(),
    )


async def test_a_subscription_due_a_moment_from_now_gets_exactly_one_recap_with_a_photo(
    fake: FakeBotApi, services: Services
) -> None:
    calendar = nyse_calendar()
    front_end = await started_telegram(fake, services)
    await subscribe_before_the_close(services, GROUP)
    clock = ShiftedClock(DUE - LEAD)
    # Monday's closes, as Yahoo would give them: a recap without closes has no chart.
    market = CannedMarket(services)
    scheduler = RecapScheduler(
        dataclasses.replace(services, clock=clock, market=market),  # type: ignore[arg-type]
        [front_end],
        calendar=calendar,
    )
    try:
        await scheduler.start()
        armed = scheduler.next_wakeups()[("16:15", "America/New_York")]
        await fake.wait_for("sendPhoto", 1, timeout=15)
        # Wait until the delivery is confirmed and the timer re-armed, then stop everything.
        store = services.subscriptions
        async with asyncio.timeout(10):
            while (rearmed := scheduler.next_wakeups()[("16:15", "America/New_York")]) == armed:
                await asyncio.sleep(0.01)
            while (await store.get("telegram", str(GROUP))).last_sent_session is None:  # type: ignore[union-attr]
                await asyncio.sleep(0.01)
    finally:
        # Once both are stopped nothing more can be sent: the counts below are final.
        await scheduler.stop()
        await front_end.stop()

    messages = fake.chat_messages(GROUP)
    assert len(messages) == 1
    assert messages[0].photo
    assert messages[0].plain.startswith("Market recap: NYSE close of Mon 30 Nov 2026")
    assert fake.sent("sendMessage") == []
    record = await services.subscriptions.get("telegram", str(GROUP))
    assert record is not None and record.last_sent_session == date(2026, 11, 30)
    # Not early (the start-up sweep ran before it was due), and well before the next
    # minute's sync: the recap timer, armed for the due instant, sent it...
    assert record.last_sent_at is not None
    assert DUE <= record.last_sent_at < DUE + timedelta(seconds=30)
    assert armed is not None and abs(armed + clock.offset - DUE) < timedelta(seconds=0.1)
    # ...which then re-armed itself for the next session, Tuesday 1 December.
    assert rearmed is not None
    assert abs(rearmed + clock.offset - (DUE + timedelta(days=1))) < timedelta(seconds=0.1)


async def test_chats_that_blocked_or_lost_the_bot_are_unsubscribed_and_the_rest_served(
    fake: FakeBotApi, services: Services
) -> None:
    blocked, gone, fine = GROUP - 1, GROUP - 2, GROUP - 3
    fake.blocked.add(blocked)  # 403 Forbidden: bot was blocked
    fake.missing.add(gone)  # 400 Bad Request: chat not found
    front_end = await started_telegram(fake, services)
    store = services.subscriptions
    for chat in (blocked, gone, fine):
        await subscribe_before_the_close(services, chat)
    scheduler = due_now(services, front_end)
    try:
        report = await scheduler.run_due()
    finally:
        await front_end.stop()

    assert sorted(report.unsubscribed) == sorted(
        [("telegram", str(blocked)), ("telegram", str(gone))]
    )
    assert [s.chat_id for s in await store.all()] == [str(fine)]
    assert [message.photo for message in fake.chat_messages(fine)] == [True]


async def test_a_recap_whose_answer_was_lost_is_not_sent_again_and_the_chat_stays_subscribed(
    fake: FakeBotApi, services: Services
) -> None:
    # Telegram posted the photo and the connection dropped before the bot heard so.
    fake.inject("sendPhoto", drop_after_storing=True)
    front_end = await started_telegram(fake, services)
    store = services.subscriptions
    await subscribe_before_the_close(services, GROUP)
    scheduler = due_now(services, front_end)
    try:
        report = await scheduler.run_due()
    finally:
        await front_end.stop()

    assert [message.photo for message in fake.chat_messages(GROUP)] == [True]
    assert [call.status for call in fake.attempts("sendPhoto")] == [0]
    assert fake.attempts("sendMessage") == []
    assert report.unsubscribed == [] and report.retries == 0
    assert [s.chat_id for s in await store.all()] == [str(GROUP)]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_full_recap_fits_one_telegram_photo_caption(services: Services, lang: str) -> None:
    from bot.telegram.render import CAPTION_LIMIT, render_html
    from handlers.recap import render_recap
    from storage.polls import DEEPSEEK_POLL_ID
    from tests.handlers.test_recap import CannedMarket, monday_recap

    for user in range(9):
        await services.polls.set_choices(
            DEEPSEEK_POLL_ID,
            platform="telegram",
            chat_id="-1",
            user_id=f"u{user}",
            options=[user % 4],
            now=DUE,
        )
    calendar = nyse_calendar()
    data = await monday_recap(services, calendar, CannedMarket(services))

    reply = render_recap(data, "zh" if lang == "zh" else "en", ZoneInfo("Asia/Shanghai"))

    # One sendPhoto per chat is what keeps 1,000 chats within 1,000 / 30 seconds.
    assert len(reply.images) == 1
    assert len(render_html(reply, CAPTION_LIMIT)) == 1
