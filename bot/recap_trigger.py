"""When recaps are due, in APScheduler's terms: one trigger per (time, zone) in use.

The NYSE calendar decides the instant (storage.subscriptions.next_due); the trigger only
translates it for APScheduler, which sleeps on the wall clock while the bot may run on a
shifted one (tests).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger

from storage.subscriptions import Schedule, next_due
from storage.trading_calendar import CalendarExhausted, TradingCalendar

log = logging.getLogger(__name__)


class RecapTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires when a recap of `schedule` is next due by the NYSE calendar.

    `clock` is the bot's clock (shifted in tests); APScheduler sleeps on the wall clock,
    so the due instant is moved by the difference between the two.
    """

    __slots__ = ("calendar", "clock", "schedule")

    def __init__(
        self, schedule: Schedule, calendar: TradingCalendar, clock: Callable[[], datetime]
    ) -> None:
        self.schedule = schedule
        self.calendar = calendar
        self.clock = clock

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        skew = self.clock() - now
        after = now + skew
        if previous_fire_time is not None:
            after = max(after, previous_fire_time + skew)
        try:
            due = next_due(self.schedule, after, self.calendar)
        except CalendarExhausted:
            log.error("no NYSE session known after %s: recaps at %s paused", after, self.schedule)
            return None
        return due.at - skew

    def __str__(self) -> str:
        return f"recap[{self.schedule.at_text} {self.schedule.zone.key}]"


def schedule_of(at_text: str, zone: str) -> Schedule | None:
    """The schedule a subscription stored, or None (logged) when it no longer reads."""
    try:
        return Schedule(time.fromisoformat(at_text), ZoneInfo(zone))
    except (ValueError, ZoneInfoNotFoundError):
        log.error("recap schedule %s %s is not usable; its chats get no recaps", at_text, zone)
        return None
