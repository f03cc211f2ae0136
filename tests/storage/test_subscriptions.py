"""Recap schedules: when each recap is due, from the NYSE calendar and the chat's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from storage.subscriptions import Schedule, latest_due, next_due
from storage.trading_calendar import TradingCalendar, nyse_calendar

NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = Schedule(time(16, 15), NEW_YORK)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def calendar() -> TradingCalendar:
    return nyse_calendar()


def dues(schedule: Schedule, after: str, count: int, calendar: TradingCalendar) -> list[str]:
    moment, found = utc(after), []
    for _ in range(count):
        due = next_due(schedule, moment, calendar)
        found.append(f"{due.session.day} {due.at:%Y-%m-%d %H:%M}")
        moment = due.at
    return found


def test_a_new_york_recap_moves_from_2115_to_2015_utc_when_new_york_springs_forward(
    calendar: TradingCalendar,
) -> None:
    # Clocks went forward in New York on Sunday 9 March 2025.
    assert dues(DEFAULT, "2025-03-06T22:00", 3, calendar) == [
        "2025-03-07 2025-03-07 21:15",
        "2025-03-10 2025-03-10 20:15",
        "2025-03-11 2025-03-11 20:15",
    ]


def test_a_new_york_recap_moves_from_2015_back_to_2115_utc_in_november(
    calendar: TradingCalendar,
) -> None:
    # Clocks went back on Sunday 2 November 2025.
    assert dues(DEFAULT, "2025-10-31T12:00", 2, calendar) == [
        "2025-10-31 2025-10-31 20:15",
        "2025-11-03 2025-11-03 21:15",
    ]


def test_a_london_recap_follows_london_clocks_not_new_yorks(calendar: TradingCalendar) -> None:
    # 10-28 March 2025: New York already on summer time, London not yet (30 March).
    london = Schedule(time(21, 30), ZoneInfo("Europe/London"))
    assert dues(london, "2025-03-27T12:00", 3, calendar) == [
        "2025-03-27 2025-03-27 21:30",
        "2025-03-28 2025-03-28 21:30",
        "2025-03-31 2025-03-31 20:30",
    ]


def test_holidays_and_the_2025_01_09_closure_get_no_recap(calendar: TradingCalendar) -> None:
    # 9 January 2025: national day of mourning; 18 April 2025: Good Friday.
    assert dues(DEFAULT, "2025-01-08T22:00", 1, calendar) == ["2025-01-10 2025-01-10 21:15"]
    assert dues(DEFAULT, "2025-04-17T22:00", 1, calendar) == ["2025-04-21 2025-04-21 20:15"]


def test_an_early_close_is_recapped_after_the_early_bell(calendar: TradingCalendar) -> None:
    # 28 November 2025 closed at 13:00 New York (18:00 UTC).
    early = calendar.session(date(2025, 11, 28))
    assert early is not None and early.early_close
    assert early.close == utc("2025-11-28T18:00")
    # The default 16:15 post comes after it...
    assert dues(DEFAULT, "2025-11-28T12:00", 1, calendar) == ["2025-11-28 2025-11-28 21:15"]
    # ...and a 13:30 subscription, which on a full day waits for the next afternoon,
    # gets that day's recap the same afternoon, after the early bell.
    half_past_one = Schedule(time(13, 30), NEW_YORK)
    assert dues(half_past_one, "2025-11-25T12:00", 4, calendar) == [
        "2025-11-24 2025-11-25 18:30",
        "2025-11-25 2025-11-26 18:30",
        "2025-11-26 2025-11-27 18:30",
        "2025-11-28 2025-11-28 18:30",
    ]


def test_two_sessions_due_at_the_same_instant_give_one_recap_of_the_later(
    calendar: TradingCalendar,
) -> None:
    # 2 July 2025 closed at 16:00; 3 July at 13:00. At 13:30 on 3 July both are due.
    half_past_one = Schedule(time(13, 30), NEW_YORK)
    assert dues(half_past_one, "2025-07-02T12:00", 2, calendar) == [
        "2025-07-01 2025-07-02 17:30",
        "2025-07-03 2025-07-03 17:30",
    ]


def test_a_shanghai_morning_recap_reports_the_overnight_session(
    calendar: TradingCalendar,
) -> None:
    shanghai = Schedule(time(9, 0), ZoneInfo("Asia/Shanghai"))
    # Friday's New York session is recapped on Saturday morning in Shanghai.
    assert dues(shanghai, "2025-03-07T12:00", 2, calendar) == [
        "2025-03-07 2025-03-08 01:00",
        "2025-03-10 2025-03-11 01:00",
    ]


def test_the_latest_due_recap_is_the_one_at_or_before_now(calendar: TradingCalendar) -> None:
    before = latest_due(DEFAULT, utc("2025-03-10T20:14:59"), calendar)
    at = latest_due(DEFAULT, utc("2025-03-10T20:15"), calendar)
    assert before is not None and before.session.day == date(2025, 3, 7)
    assert at is not None and at.session.day == date(2025, 3, 10)


NOW = utc("2026-11-30T15:00")
