"""NYSE sessions and their closing bells, so recaps follow holidays, closures and early closes.

exchange_calendars (XNYS) supplies the data offline: regular holidays, special closures
such as the national day of mourning on 2025-01-09, and early closes (13:00 New York on
the days around Independence Day, Thanksgiving and Christmas). It needs pandas, which is
slow to import, so the calendar is loaded on first use and converted once into plain
`Session` values that the rest of the bot searches with `bisect`.
"""

from __future__ import annotations

import asyncio
import bisect
import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_CLOSE = time(16, 0)
# Far enough back for every date the bot talks about (the sell-off was on 2025-01-27).
FIRST_DAY = "2024-01-02"


class Session(NamedTuple):
    """One NYSE trading day and the instant (UTC) its closing bell rang or will ring."""

    day: date
    close: datetime

    @property
    def early_close(self) -> bool:
        return self.close.astimezone(NEW_YORK).time() < REGULAR_CLOSE


class CalendarExhausted(LookupError):
    """The question lies beyond the dates the exchange calendar knows (about a year ahead)."""


class TradingCalendar:
    """Sessions in date order; every lookup is a binary search on the closing instants."""

    def __init__(self, sessions: Sequence[Session]) -> None:
        self.sessions = tuple(sessions)
        self._closes = [session.close for session in self.sessions]
        self._days = [session.day for session in self.sessions]

    def session(self, day: date) -> Session | None:
        """The session on `day`, or None when the exchange is closed that day."""
        index = bisect.bisect_left(self._days, day)
        if index < len(self._days) and self._days[index] == day:
            return self.sessions[index]
        return None

    def last_closed(self, moment: datetime) -> Session | None:
        """The latest session whose close is at or before `moment`."""
        index = bisect.bisect_right(self._closes, moment)
        return self.sessions[index - 1] if index else None

    def closing_after(self, moment: datetime) -> Session:
        """The first session whose close is strictly after `moment`."""
        index = bisect.bisect_right(self._closes, moment)
        if index >= len(self.sessions):
            raise CalendarExhausted(f"no NYSE session known after {moment.isoformat()}")
        return self.sessions[index]

    def previous(self, session: Session) -> Session | None:
        index = bisect.bisect_left(self._days, session.day)
        return self.sessions[index - 1] if index else None

    def next(self, session: Session) -> Session | None:
        index = bisect.bisect_right(self._days, session.day)
        return self.sessions[index] if index < len(self.sessions) else None


@cache
def nyse_calendar() -> TradingCalendar:
    """The NYSE calendar from exchange_calendars; loaded once per process (about a second)."""
    import exchange_calendars

    with warnings.catch_warnings():
        # pandas deprecation notices about exchange_calendars' internals, not about us.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        calendar = exchange_calendars.get_calendar("XNYS", start=FIRST_DAY)
    sessions = [
        Session(label.date(), close.to_pydatetime().astimezone(UTC))
        for label, close in calendar.closes.items()
    ]
    return TradingCalendar(sessions)


async def load_calendar() -> TradingCalendar:
    """The NYSE calendar, without blocking the event loop during its first, slow load."""
    return await asyncio.to_thread(nyse_calendar)
