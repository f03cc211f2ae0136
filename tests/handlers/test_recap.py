"""`/recap`: subscribing, status in the chat's zone, on-demand limits, and what a recap says."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import handlers.recap
from bot.dispatch import dispatch
from bot.dispatch import run_command as recap
from handlers.i18n import text
from handlers.model import Reply, Services, Table, UserError
from handlers.recap import TICKERS, gather_recap, render_recap
from handlers.times_of_day import parse_time
from storage.facts import Facts
from storage.market_values import History, Latest, Quote, Series
from storage.polls import DEEPSEEK_POLL_ID
from storage.trading_calendar import TradingCalendar, nyse_calendar
from tests.conftest import NOW, make_request

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
# NOW is Monday 30 November 2026, 15:00 UTC: the market is open; Friday the 27th closed early.
FRIDAY, MONDAY = date(2026, 11, 27), date(2026, 11, 30)


@pytest.fixture(scope="module")
def calendar() -> TradingCalendar:
    return nyse_calendar()


def group(line: str, **fields: Any) -> Any:
    return make_request(line, chat_kind="group", is_admin=True, chat_id="-100", **fields)


async def ask(services: Services, line: str, **fields: Any) -> Reply:
    return await dispatch(group(line, **fields), services)


async def test_recap_on_defaults_to_1615_new_york_on_trading_days(services: Services) -> None:
    reply = await ask(services, "/recap on")

    subscription = await services.subscriptions.get("console", "-100")
    assert subscription is not None
    assert (subscription.schedule.at_text, subscription.schedule.zone.key) == (
        "16:15",
        "America/New_York",
    )
    assert subscription.lang == "en" and subscription.created_by == "alice"
    # Confirmed in the zone the time is in, whatever the chat's own zone.
    assert "Next recap: Mon 30 Nov 16:15 America/New_York (the 30 Nov session)." in (
        reply.plain_text()
    )


async def test_recap_on_takes_a_time_and_a_zone_in_either_order(services: Services) -> None:
    await ask(services, "/recap on Asia/Shanghai 09:00")
    first = await services.subscriptions.get("console", "-100")
    await ask(services, "/recap on 8:30 europe/london")
    second = await services.subscriptions.get("console", "-100")
    await ask(services, "/settings tz Asia/Tokyo")
    await ask(services, "/recap on 07：45")  # a Chinese keyboard's colon, the chat's zone
    third = await services.subscriptions.get("console", "-100")

    assert first is not None and second is not None and third is not None
    assert (first.schedule.at_text, first.schedule.zone.key) == ("09:00", "Asia/Shanghai")
    assert (second.schedule.at_text, second.schedule.zone.key) == ("08:30", "Europe/London")
    assert (third.schedule.at_text, third.schedule.zone.key) == ("07:45", "Asia/Tokyo")


async def test_a_chinese_chat_subscribes_in_chinese(services: Services) -> None:
    reply = await ask(services, "/recap on 09:00 Asia/Shanghai", locale="zh-CN")

    subscription = await services.subscriptions.get("console", "-100")
    assert subscription is not None and subscription.lang == "zh"
    assert reply.title == text("zh", "recap.on_title")


async def test_only_moderators_switch_recaps_on_or_off_in_a_group(services: Services) -> None:
    member = make_request("/recap on", chat_kind="group", is_admin=False, chat_id="-100")
    with pytest.raises(UserError) as refused:
        await recap(member, services)
    assert refused.value.key == "core.moderators_only"
    with pytest.raises(UserError):
        await recap(dataclasses.replace(member, text="off"), services)
    assert await services.subscriptions.get("console", "-100") is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("/recap on 25:00", "recap.bad_time"),
        ("/recap on 16:60", "recap.bad_time"),
        ("/recap on 1615", "recap.bad_time"),
        ("/recap on Mars/Olympus", "core.bad_zone"),
        ("/recap on 16:15 UTC extra", "recap.bad_on"),
        ("/recap on 16:15 17:15", "recap.bad_on"),
        ("/recap sometimes", "recap.bad_usage"),
        ("/recap off please", "recap.bad_usage"),
    ],
)
async def test_bad_input_gets_a_catalogued_answer(services: Services, line: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        await recap(group(line), services)
    assert refused.value.key == key


def test_times_are_read_on_a_24_hour_clock() -> None:
    assert [parse_time(raw) for raw in ("0:00", "23:59", "09:05", "24:00", "9", "aa:bb")] == [
        datetime(2000, 1, 1, 0, 0).time(),
        datetime(2000, 1, 1, 23, 59).time(),
        datetime(2000, 1, 1, 9, 5).time(),
        None,
        None,
        None,
    ]


async def test_status_shows_the_next_run_in_the_chats_zone_and_the_last_one_sent(
    services: Services,
) -> None:
    store = services.subscriptions
    await ask(services, "/recap on")
    await store.claim("console", "-100", FRIDAY)
    await store.confirm("console", "-100", FRIDAY, datetime(2026, 11, 27, 21, 15, tzinfo=UTC))

    reply = await recap(group("/recap status", tz=SHANGHAI), services)

    lines = reply.plain_text()
    assert "at the first 16:15 America/New_York (UTC-05:00) following the closing bell" in lines
    assert "Next recap: Tue 01 Dec 05:15 Asia/Shanghai (the 30 Nov session)." in lines
    assert "Last recap sent: Sat 28 Nov 05:15 Asia/Shanghai (the 27 Nov session)." in lines


async def test_status_without_a_subscription_says_how_to_start(services: Services) -> None:
    reply = await ask(services, "/recap")
    assert reply.plain_text().endswith("(default 16:15 America/New_York).")

    chinese = await ask(services, "/recap", locale="zh")
    assert chinese.plain_text().endswith("开启（默认 16:15 America/New_York）。")


async def test_recap_off_stops_and_says_so_twice_differently(services: Services) -> None:
    await ask(services, "/recap on")
    first = await ask(services, "/recap off")
    second = await ask(services, "/recap off")

    assert first.plain_text() == text("en", "recap.off")
    assert second.plain_text() == text("en", "recap.off_already")


async def test_recap_now_is_for_anyone_but_limited_per_chat(services: Services) -> None:
    member = {"is_admin": False, "chat_kind": "group"}
    first = await dispatch(make_request("/recap now", chat_id="-1", **member), services)
    again = await dispatch(make_request("/recap now", chat_id="-1", **member), services)
    elsewhere = await dispatch(make_request("/recap now", chat_id="-2", **member), services)
    later = dataclasses.replace(services, clock=lambda: NOW + timedelta(minutes=10))
    after_the_cooldown = await dispatch(make_request("/recap now", chat_id="-1"), later)

    # The latest closed session at NOW is Friday's (Monday's is still trading).
    assert first.title == "Market recap: NYSE close of Fri 27 Nov 2026"
    assert again.is_error and "Mon 30 Nov 15:10 UTC" in again.plain_text()
    assert not elsewhere.is_error and not after_the_cooldown.is_error


# -- the recap itself ------------------------------------------------------------------------


# Every close on Friday was 100; today ASML fell 9%, AVGO rose 1%, the rest rose 0.5%.
TODAY = {"NVDA": 100.0, "AVGO": 101.0, "ASML": 91.0}


class CannedMarket:
    """Market answers for Monday 30 November 2026; counts the calls."""

    def __init__(self, services: Services, *, stale: frozenset[str] = frozenset()) -> None:
        self.inner = services.market
        self.stale = stale
        self.calls: list[str] = []

    async def history(self, tickers: Any, start: date, end: date) -> History:
        self.calls.append("history")
        # The embedded January 2025 closes plus Friday's, as the service would answer.
        found = await self.inner.history(tickers, start, end)
        series = {
            ticker: Series(ticker, (*found.series[ticker].closes, (FRIDAY, 100.0)), "live", NOW)
            for ticker in tickers
        }
        return History(series)

    async def latest(self, tickers: Any) -> Latest:
        self.calls.append("latest")
        at = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
        quotes = {}
        for ticker in tickers:
            if ticker in self.stale:
                quotes[ticker] = Quote(ticker, 99.0, at - timedelta(days=3), "cache", "unavailable")
            else:
                price = TODAY.get(ticker, 100.5)
                quotes[ticker] = Quote(ticker, price, at, "live", fetched_at=at)
        return Latest(quotes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def monday_recap(services: Services, calendar: TradingCalendar, market: CannedMarket) -> Any:
    session = calendar.session(MONDAY)
    assert session is not None
    canned = dataclasses.replace(services, market=market)  # type: ignore[arg-type]
    return await gather_recap(canned, calendar, session)


async def test_the_recap_has_closes_changes_since_the_sell_off_the_biggest_mover_and_the_poll(
    services: Services, calendar: TradingCalendar
) -> None:
    for user, option in (("u1", 0), ("u2", 2), ("u3", 2), ("u4", 3)):
        await services.polls.set_choices(
            DEEPSEEK_POLL_ID,
            platform="telegram",
            chat_id="-1",
            user_id=user,
            options=[option],
            now=NOW,
        )
    market = CannedMarket(services)

    data = await monday_recap(services, calendar, market)
    reply = render_recap(data, "en", NEW_YORK)

    assert market.calls == ["history", "latest"]
    table = next(part for part in reply.parts if isinstance(part, Table))
    rows = {row[0]: row[1:] for row in table.rows}
    assert len(rows) == len(TICKERS)
    # NVDA: 100 today, 100 on Friday, 118.42 at the 27 January 2025 close
    # (storage/data/market_2025-01.csv): 100 / 118.42 - 1 = -15.55%.
    assert rows["NVDA"] == ("100.00", "+0.0%", "-15.6%")
    assert rows["Nasdaq"][:2] == ("100.50", "+0.5%")
    assert "Biggest mover: ASML -9.0%" in reply.plain_text()
    assert "DeepSeek poll (4 votes): They will coexist 50% · Yes 25% ·" in reply.plain_text()
    assert "Prices as of Mon 30 Nov 16:00 America/New_York" in reply.plain_text()
    assert reply.images and reply.images[0].png.startswith(b"\x89PNG")


async def test_the_recap_is_worded_in_chinese_for_a_chinese_subscription(
    services: Services, calendar: TradingCalendar
) -> None:
    data = await monday_recap(services, calendar, CannedMarket(services))

    reply = render_recap(data, "zh", SHANGHAI)

    assert reply.title == "市场回顾：纽交所 2026年11月30日 收盘"
    assert "涨跌幅最大：ASML -9.0%" in reply.plain_text()
    assert "价格截至 12月01日 05:00 Asia/Shanghai" in reply.plain_text()
    table = next(part for part in reply.parts if isinstance(part, Table))
    assert table.headers == ("名称", "收盘", "当日", "较1月27日")
    assert "纳斯达克" in {row[0] for row in table.rows}


async def test_a_stale_price_is_never_shown_as_the_sessions_close(
    services: Services, calendar: TradingCalendar
) -> None:
    data = await monday_recap(services, calendar, CannedMarket(services, stale=frozenset({"NVDA"})))

    reply = render_recap(data, "en", NEW_YORK)

    table = next(part for part in reply.parts if isinstance(part, Table))
    assert next(row for row in table.rows if row[0] == "NVDA")[1:] == ("—", "—", "—")
    assert "No fresh close for NVDA." in reply.plain_text()
    assert "99.00" not in reply.plain_text()


async def test_without_live_data_the_recap_says_so_instead_of_posting_old_numbers(
    services: Services, calendar: TradingCalendar
) -> None:
    # The fixture's market is offline: only the January 2025 snapshot is known.
    session = calendar.session(MONDAY)
    assert session is not None

    data = await gather_recap(services, calendar, session)
    reply = render_recap(data, "en", NEW_YORK)

    assert not any(isinstance(part, Table) for part in reply.parts)
    assert text("en", "recap.unavailable", day=MONDAY) in reply.parts
    assert "Prices as of" not in reply.plain_text()
    assert "Biggest mover" not in reply.plain_text()
    # The snapshot's January 2025 chart would pass for today's under a recap's title.
    assert data.charts == {} and reply.images == ()


async def test_an_early_close_is_mentioned(services: Services, calendar: TradingCalendar) -> None:
    session = calendar.session(FRIDAY)
    assert session is not None and session.early_close

    data = await gather_recap(services, calendar, session)
    reply = render_recap(data, "en", NEW_YORK)

    assert "Early close: the market shut at Fri 27 Nov 13:00 America/New_York." in reply.parts


async def test_an_intraday_price_is_not_taken_for_the_close(
    services: Services, calendar: TradingCalendar
) -> None:
    class Intraday(CannedMarket):
        async def latest(self, tickers: Any) -> Latest:
            noon = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 12:00 in New York
            return Latest({t: Quote(t, 123.0, noon, "live", fetched_at=noon) for t in tickers})

    data = await monday_recap(services, calendar, Intraday(services))

    assert not data.has_closes
    assert "123.00" not in render_recap(data, "en", NEW_YORK).plain_text()
    assert data.charts == {}


def test_the_recap_draws_its_chart_without_the_stocks_command_module() -> None:
    tree = ast.parse(Path(handlers.recap.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }

    assert "handlers.stock_chart" in imported
    assert "handlers.stocks" not in imported
    assert handlers.recap.SELLOFF_DAY == Facts.EVENT_DAY


async def test_recap_now_renders_in_the_zone_the_chats_scheduled_recaps_use(
    services: Services,
) -> None:
    canned = dataclasses.replace(services, market=CannedMarket(services))  # type: ignore[arg-type]
    await ask(canned, "/recap on 16:15 America/New_York")

    # No /settings tz: the subscription's zone, not the bot's default (UTC).
    subscribed = await ask(canned, "/recap now")
    await ask(canned, "/settings tz Asia/Shanghai")
    later = dataclasses.replace(canned, clock=lambda: NOW + timedelta(minutes=10))
    chosen = await ask(later, "/recap now")

    # Friday 27 November 2026 closed early, at 13:00 in New York.
    assert "Prices as of Fri 27 Nov 13:00 America/New_York" in subscribed.plain_text()
    assert "Prices as of Sat 28 Nov 02:00 Asia/Shanghai" in chosen.plain_text()


async def test_recap_status_names_the_language_the_chat_chose_after_subscribing(
    services: Services,
) -> None:
    await ask(services, "/recap on")
    await ask(services, "/settings lang zh")

    reply = await ask(services, "/recap status")

    assert "语言为中文。" in reply.plain_text()


# -- times and zones as people type them (issue 13) -----------------------------------------


@pytest.mark.parametrize(
    ("typed", "at_text"),
    [
        ("9pm", "21:00"),
        ("9 PM", "21:00"),
        ("9:30am", "09:30"),
        ("12am", "00:00"),
        ("21点30分", "21:30"),
    ],
)
async def test_recap_on_understands_am_pm_and_chinese_hours(
    services: Services, typed: str, at_text: str
) -> None:
    await ask(services, f"/recap on {typed} Asia/Shanghai")

    subscription = await services.subscriptions.get("console", "-100")
    assert subscription is not None
    assert (subscription.schedule.at_text, subscription.schedule.zone.key) == (
        at_text,
        "Asia/Shanghai",
    )


@pytest.mark.parametrize(
    ("lang", "wording"),
    [
        (
            "en",
            '"13pm" is not a time. Give it as HH:MM on a 24-hour clock or with am/pm, '
            "for example 16:15 or 9pm.",
        ),
        ("zh", "“13pm”不是有效的时间。请用 24 小时制的 时:分，或加 am/pm，例如 16:15 或 9pm。"),
    ],
)
async def test_a_wrong_am_pm_time_is_refused_as_a_time_not_a_zone(
    services: Services, lang: str, wording: str
) -> None:
    reply = await ask(services, "/recap on 13pm", locale=lang)

    assert reply.is_error and reply.plain_text() == wording


@pytest.mark.parametrize(
    ("lang", "used", "next_line"),
    [
        (
            "en",
            "No zone was given, so the time is in this chat's zone, Asia/Tokyo "
            "(change it with /settings tz).",
            "Next recap: Tue 01 Dec 08:00 Asia/Tokyo (the 30 Nov session).",
        ),
        (
            "zh",
            "没有指定时区，因此按本聊天的时区 Asia/Tokyo 计时（可用 /settings tz 更改）。",
            "下一次回顾：12月01日 08:00 Asia/Tokyo（11月30日 交易日）。",
        ),
    ],
)
async def test_a_time_without_a_zone_is_in_the_chats_zone_and_says_so(
    services: Services, lang: str, used: str, next_line: str
) -> None:
    await ask(services, "/settings tz Asia/Tokyo")

    reply = await ask(services, "/recap on 08:00", locale=lang)

    subscription = await services.subscriptions.get("console", "-100")
    assert subscription is not None and subscription.schedule.zone.key == "Asia/Tokyo"
    lines = reply.plain_text().splitlines()
    assert used in lines and next_line in lines


@pytest.mark.parametrize(
    ("lang", "schedule", "next_line"),
    [
        (
            "en",
            "Recaps are on: after every NYSE trading session, at the first 09:00 "
            "Asia/Hong_Kong (UTC+08:00) following the closing bell, in English.",
            "Next recap: Tue 01 Dec 09:00 Asia/Hong_Kong (the 30 Nov session).",
        ),
        (
            "zh",
            "已开启回顾：每个纽交所交易日收盘后，在随后的第一个 Asia/Hong_Kong（UTC+08:00） 时间 "
            "09:00 发送，语言为中文。",
            "下一次回顾：12月01日 09:00 Asia/Hong_Kong（11月30日 交易日）。",
        ),
    ],
)
async def test_a_recap_time_is_confirmed_in_the_zone_it_was_given_in(
    services: Services, lang: str, schedule: str, next_line: str
) -> None:
    await ask(services, "/settings tz Europe/London")

    reply = await ask(services, "/recap on 09:00 Hong Kong", locale=lang)

    lines = reply.plain_text().splitlines()
    assert schedule in lines and next_line in lines
