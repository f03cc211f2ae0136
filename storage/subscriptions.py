"""Recap subscriptions: who gets the after-close recap, when, and which one they last got.

A subscription is a wall-clock time in an IANA zone. For each NYSE session its recap is
due at the first moment the chat's clock shows that time at or after the closing bell:
16:15 New York is 21:15 UTC in winter and 20:15 UTC in summer, an early close (13:00) is
still followed by the 16:15 post, and a 09:00 Asia/Shanghai subscription gets the
overnight session the next morning. Holidays and closures have no session and so no
recap. Should two sessions fall due at the same instant, the later one is the recap.

`handled_session` is claimed before a recap is sent and never claimed again for the same
session, so however the bot restarts a chat never gets one session's recap twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.sql import Sql
from storage.timestamps import from_db, optional_from_db, to_db
from storage.trading_calendar import Session, TradingCalendar

# A local wall time follows a close by at most a day, plus an hour if the clocks change.
_LONGEST_WAIT = timedelta(hours=26)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class Schedule:
    """A time of day on a chat's clock."""

    at: time
    zone: ZoneInfo

    @property
    def at_text(self) -> str:
        return self.at.strftime("%H:%M")

    def due_after_close(self, close: datetime) -> datetime:
        """The first instant (UTC) at or after `close` when the zone's clock shows `at`.

        A wall time the clocks skip (02:30 on a spring-forward night) is read with the
        offset in force before the change, the way zoneinfo reads it.
        """
        day = close.astimezone(self.zone).date()
        while True:
            candidate = datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)
            if candidate >= close:
                return candidate
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Due:
    """A recap owed: the session it reports and the instant (UTC) it is due."""

    session: Session
    at: datetime


def next_due(schedule: Schedule, after: datetime, calendar: TradingCalendar) -> Due:
    """The first recap due strictly after `after`; CalendarExhausted beyond the calendar."""
    session: Session | None = calendar.closing_after(after - _LONGEST_WAIT)
    while session is not None:
        at = schedule.due_after_close(session.close)
        if at > after:
            # Two sessions due at the same instant (an early close right after a full day
            # for a mid-afternoon subscription): the later one is the news.
            following = calendar.next(session)
            while following is not None and schedule.due_after_close(following.close) == at:
                session, following = following, calendar.next(following)
            return Due(session, at)
        session = calendar.next(session)
    raise LookupError("unreachable: closing_after raises first")  # pragma: no cover


def latest_due(schedule: Schedule, now: datetime, calendar: TradingCalendar) -> Due | None:
    """The most recent recap due at or before `now`, or None before the calendar starts."""
    session = calendar.last_closed(now)
    while session is not None:
        at = schedule.due_after_close(session.close)
        if at <= now:
            return Due(session, at)
        session = calendar.previous(session)
    return None


@dataclass(frozen=True, slots=True)
class Subscription:
    platform: str
    chat_id: str
    schedule: Schedule
    lang: str
    created_by: str | None
    active_since: datetime
    handled_session: date | None = None
    last_sent_session: date | None = None
    last_sent_at: datetime | None = None
    # The chat's own /settings, read with the subscription: they win over what was in
    # force when the chat subscribed, so a later /settings lang or tz reaches the recaps.
    chat_lang: str | None = None
    chat_tz: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.platform, self.chat_id

    @property
    def reply_lang(self) -> str:
        """The chat's chosen language, else the language it subscribed in."""
        return self.chat_lang or self.lang

    @property
    def reply_zone(self) -> ZoneInfo:
        """The chat's chosen time zone, else the zone of its schedule."""
        if self.chat_tz:
            try:
                return ZoneInfo(self.chat_tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return self.schedule.zone


_SELECT = (
    "SELECT s.platform, s.chat_id, s.at_time, s.tz, s.lang, s.created_by, s.active_since, "
    "s.handled_session, s.last_sent_session, s.last_sent_at, c.lang, c.tz "
    "FROM recap_subscriptions AS s LEFT JOIN chat_settings AS c "
    "ON c.platform = s.platform AND c.chat_id = s.chat_id"
)


def _subscription(row: tuple[str, ...]) -> Subscription:
    return Subscription(
        platform=row[0],
        chat_id=row[1],
        schedule=Schedule(time.fromisoformat(row[2]), ZoneInfo(row[3])),
        lang=row[4],
        created_by=row[5],
        active_since=from_db(row[6]),
        handled_session=_day(row[7]),
        last_sent_session=_day(row[8]),
        last_sent_at=optional_from_db(row[9]),
        chat_lang=row[10],
        chat_tz=row[11],
    )


class SubscriptionStore:
    """The recap subscriptions and on-demand requests; each method is one transaction."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    async def subscribe(
        self,
        platform: str,
        chat_id: str,
        schedule: Schedule,
        lang: str,
        by: str | None,
        now: datetime,
    ) -> Subscription:
        """Subscribe, or change the time, zone or language; what was sent is kept."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO recap_subscriptions "
                "(platform, chat_id, at_time, tz, lang, created_by, active_since) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, chat_id) DO UPDATE SET "
                "at_time = excluded.at_time, tz = excluded.tz, lang = excluded.lang, "
                "created_by = excluded.created_by, active_since = excluded.active_since",
                (platform, chat_id, schedule.at_text, schedule.zone.key, lang, by, to_db(now)),
            )
            row = await tx.fetch_one(
                f"{_SELECT} WHERE s.platform = ? AND s.chat_id = ?", (platform, chat_id)
            )
        assert row is not None
        return _subscription(tuple(row))

    async def unsubscribe(self, platform: str, chat_id: str) -> bool:
        """Remove the chat's subscription; False when it had none."""
        async with self.db.transaction() as tx:
            deleted = await tx.execute(
                "DELETE FROM recap_subscriptions WHERE platform = ? AND chat_id = ?",
                (platform, chat_id),
            )
            return deleted > 0

    async def get(self, platform: str, chat_id: str) -> Subscription | None:
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE s.platform = ? AND s.chat_id = ?", (platform, chat_id)
        )
        return _subscription(tuple(rows[0])) if rows else None

    async def all(self) -> list[Subscription]:
        rows = await self.db.fetch_all(f"{_SELECT} ORDER BY s.platform, s.chat_id")
        return [_subscription(tuple(row)) for row in rows]

    async def schedules(self) -> set[tuple[str, str]]:
        """Every distinct (HH:MM, zone) in use: one timer each serves all its chats."""
        rows = await self.db.fetch_all("SELECT DISTINCT at_time, tz FROM recap_subscriptions")
        return {(str(row[0]), str(row[1])) for row in rows}

    async def claim(self, platform: str, chat_id: str, session: date) -> bool:
        """Take `session`'s recap for delivery (or skipping); False if it was taken before.

        One conditional UPDATE: of processes claiming at once, PostgreSQL lets one update the
        row and re-checks the condition for the others, which then find it taken.
        """
        async with self.db.transaction() as tx:
            claimed = await tx.execute(
                "UPDATE recap_subscriptions SET handled_session = ? "
                "WHERE platform = ? AND chat_id = ? "
                "AND (handled_session IS NULL OR handled_session < ?)",
                (session.isoformat(), platform, chat_id, session.isoformat()),
            )
            return claimed > 0

    async def confirm(self, platform: str, chat_id: str, session: date, at: datetime) -> None:
        """Record the recap of `session` as delivered at `at`."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE recap_subscriptions SET last_sent_session = ?, last_sent_at = ? "
                "WHERE platform = ? AND chat_id = ?",
                (session.isoformat(), to_db(at), platform, chat_id),
            )

    async def release(
        self, platform: str, chat_id: str, session: date, previous: date | None
    ) -> None:
        """Give back a claim whose send failed before anything reached the chat."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE recap_subscriptions SET handled_session = ? "
                "WHERE platform = ? AND chat_id = ? AND handled_session = ?",
                (
                    previous.isoformat() if previous else None,
                    platform,
                    chat_id,
                    session.isoformat(),
                ),
            )

    async def admit_request(
        self, platform: str, chat_id: str, now: datetime, cooldown: timedelta
    ) -> datetime | None:
        """Record an on-demand recap for the chat; if one was too recent, when the next may be."""
        async with self.db.transaction() as tx:
            # Two processes asked at once take turns, so only one of them is admitted.
            await tx.serialise(f"recap_request:{platform}:{chat_id}")
            row = await tx.fetch_one(
                "SELECT requested_at FROM recap_requests WHERE platform = ? AND chat_id = ?",
                (platform, chat_id),
            )
            last = from_db(row[0]) if row else None
            # A request "in the future" means the clock went back: let the chat through.
            if last is not None and last <= now < last + cooldown:
                return last + cooldown
            await tx.execute(
                "INSERT INTO recap_requests (platform, chat_id, requested_at) VALUES (?, ?, ?) "
                "ON CONFLICT (platform, chat_id) "
                "DO UPDATE SET requested_at = excluded.requested_at",
                (platform, chat_id, to_db(now)),
            )
            return None
