"""`/recap`: the after-close market recap, posted on a schedule or on demand, and its switch.

The recap is built in two steps so that a scheduled fan-out to a thousand chats costs one
market fetch: `gather_recap` asks the market service once (one history and at most one
latest-price request per ticker) and draws the chart once; `render_recap` then words that
same data in each subscription's language and time zone, which costs no I/O.

A price counts as the session's close only if it is dated that session: when Yahoo is
down (or the bot runs offline) the recap says that live data is unavailable instead of
passing yesterday's or the snapshot's numbers off as today's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.commands import Command, Form, Param
from handlers.i18n import text
from handlers.model import (
    LANGS,
    Image,
    Lang,
    Reply,
    Request,
    Services,
    Table,
    UserError,
    require_moderator,
)
from handlers.stock_chart import cached_render
from handlers.times_of_day import looks_like_time, read_time
from handlers.timezones import zone_label, zone_with_offset
from storage.facts import BEFORE_DAY, EVENT_DAY
from storage.poll_model import DEEPSEEK_POLL_ID, Poll, Tally
from storage.subscriptions import Schedule, Subscription, next_due
from storage.trading_calendar import (
    NEW_YORK,
    CalendarExhausted,
    Session,
    TradingCalendar,
    load_calendar,
)

log = logging.getLogger(__name__)

DEFAULT_AT = time(16, 15)
DEFAULT_ZONE = "America/New_York"
NOW_COOLDOWN = timedelta(minutes=10)
CLOSE_TOLERANCE = timedelta(minutes=5)
SELLOFF_DAY = EVENT_DAY
CHART_FROM = BEFORE_DAY
# The names the 27 January story is about, then the three indices; GOOG is left out
# because GOOGL already stands for Alphabet.
STOCKS = ("NVDA", "AVGO", "TSM", "ASML", "MSFT", "META", "GOOGL", "VST", "GEV")
INDICES = ("^IXIC", "^GSPC", "^DJI")
TICKERS = STOCKS + INDICES
# Six lines stay legible on a phone; the table has the rest.
CHART_TICKERS = ("NVDA", "AVGO", "TSM", "ASML", "^IXIC", "^GSPC")
INDEX_KEYS = {"^IXIC": "recap.index_ixic", "^GSPC": "recap.index_gspc", "^DJI": "recap.index_dji"}
MAX_SHOWN = 40
ON_WORDS = ("start", "subscribe", "开", "开启", "订阅")
OFF_WORDS = ("stop", "unsubscribe", "关", "关闭", "退订")
_STATUS = ("状态",)
_NOW = ("现在", "立即")


# -- the recap -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecapLine:
    """One ticker in the recap; None where the figure is not known for this session."""

    ticker: str
    close: float | None
    change: float | None  # fraction against the previous session's close
    since_selloff: float | None  # fraction against the 27 January 2025 close


@dataclass(frozen=True, slots=True)
class RecapData:
    """Everything a recap says, fetched once and shared by every chat that receives it."""

    session: Session
    lines: tuple[RecapLine, ...]
    as_of: datetime | None
    poll: tuple[Poll, Tally] | None
    charts: Mapping[Lang, bytes]  # one per language; empty without this session's closes

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(line.ticker for line in self.lines if line.close is None)

    @property
    def has_closes(self) -> bool:
        return len(self.missing) < len(self.lines)

    def biggest_mover(self) -> RecapLine | None:
        moved = [line for line in self.lines if line.change is not None]
        return max(moved, key=lambda line: abs(line.change or 0.0), default=None)


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return value / reference - 1


async def gather_recap(
    services: Services, calendar: TradingCalendar, session: Session
) -> RecapData:
    """The recap of `session`: one history and one latest request for all tickers."""
    market = services.market
    previous = calendar.previous(session)
    closes: dict[str, dict[date, float]] = {ticker: {} for ticker in TICKERS}
    try:
        history = await market.history(TICKERS, CHART_FROM, session.day + timedelta(days=1))
    except ValueError:
        history = None
    if history is not None:
        for ticker, series in history.series.items():
            # A closed day's close is a fact whatever the source: the snapshot, the cache
            # and Yahoo agree on it. Only "the latest price" can be stale.
            closes[ticker].update(series.closes)
    as_of: datetime | None = (
        session.close if any(session.day in by_day for by_day in closes.values()) else None
    )
    wanted = [ticker for ticker in TICKERS if session.day not in closes[ticker]]
    if wanted:
        latest = await market.latest(wanted)
        for ticker, quote in latest.quotes.items():
            # Today's close only: not a fallback, not another day, not an intraday price
            # (the last trade can print a moment before the bell).
            if (
                quote.fallback
                or quote.at.astimezone(NEW_YORK).date() != session.day
                or quote.at < session.close - CLOSE_TOLERANCE
            ):
                continue
            closes[ticker][session.day] = quote.price
            as_of = max(as_of, quote.at) if as_of else quote.at
    lines = []
    for ticker in TICKERS:
        close = closes[ticker].get(session.day)
        before = closes[ticker].get(previous.day) if previous else None
        baseline = services.facts.closes(ticker).get(SELLOFF_DAY)
        lines.append(RecapLine(ticker, close, _ratio(close, before), _ratio(close, baseline)))
    # Without this session's closes the chart could only show older data (the snapshot or
    # a cached series), and a chart under "market recap" would pass that off as today's.
    has_closes = any(line.close is not None for line in lines)
    return RecapData(
        session=session,
        lines=tuple(lines),
        as_of=as_of,
        poll=await services.polls.get_with_tally(DEEPSEEK_POLL_ID),
        charts=await _charts(services, closes) if has_closes else {},
    )


async def _charts(services: Services, closes: dict[str, dict[date, float]]) -> dict[Lang, bytes]:
    """The recap's chart in each language: drawn once per sweep each, for every chat."""
    series = {
        ticker: tuple(sorted(closes[ticker].items()))
        for ticker in CHART_TICKERS
        if SELLOFF_DAY in closes[ticker]
    }
    if not series:
        return {}
    return {
        lang: await cached_render(services, "recap", series, SELLOFF_DAY, SELLOFF_DAY, lang)
        for lang in LANGS
    }


def _name(lang: Lang, ticker: str) -> str:
    key = INDEX_KEYS.get(ticker)
    return text(lang, key) if key else ticker


def _price(value: float | None) -> str:
    # Cents of an index in the thousands only widen the table past a phone's width.
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def _when(lang: Lang, moment: datetime, zone: ZoneInfo) -> str:
    return text(lang, "recap.when", at=moment.astimezone(zone), zone=zone_label(zone))


def _poll_line(lang: Lang, poll: tuple[Poll, Tally] | None) -> str | None:
    if poll is None:
        return None
    question, tally = poll
    if tally.voters == 0:
        return text(lang, "recap.poll_empty")
    labels = {
        option.index: (option.label_zh if lang == "zh" and option.label_zh else option.label)
        for option in question.options
    }
    ranked = sorted(enumerate(tally.counts), key=lambda item: (-item[1], item[0]))
    standings = " · ".join(
        f"{labels.get(index, str(index + 1))} {count * 100 / tally.voters:.0f}%"
        for index, count in ranked
    )
    return text(lang, "recap.poll", voters=tally.voters, standings=standings)


def render_recap(data: RecapData, lang: Lang, zone: ZoneInfo) -> Reply:
    """The recap in one language and time zone; short enough for one photo caption."""
    session = data.session
    parts: list[str | Table] = []
    if data.session.early_close:
        parts.append(text(lang, "recap.early_close", close=_when(lang, session.close, NEW_YORK)))
    if not data.has_closes:
        parts.append(text(lang, "recap.unavailable", day=session.day))
    else:
        rows = tuple(
            (
                _name(lang, line.ticker),
                _price(line.close),
                _pct(line.change),
                _pct(line.since_selloff),
            )
            for line in data.lines
        )
        headers = (
            text(lang, "recap.col_name"),
            text(lang, "recap.col_close"),
            text(lang, "recap.col_day"),
            text(lang, "recap.col_since"),
        )
        parts.append(Table(headers, rows, ("l", "r", "r", "r")))
        mover = data.biggest_mover()
        if mover is not None:
            parts.append(
                text(lang, "recap.mover", name=_name(lang, mover.ticker), change=_pct(mover.change))
            )
        if data.missing:
            parts.append(
                text(
                    lang,
                    "recap.partial",
                    tickers=text(lang, "core.list_separator").join(data.missing),
                )
            )
    poll = _poll_line(lang, data.poll)
    if poll:
        parts.append(poll)
    if data.has_closes and data.as_of is not None:
        parts.append(text(lang, "recap.as_of", when=_when(lang, data.as_of, zone)))
    images: tuple[Image, ...] = ()
    chart = data.charts.get(lang)
    if chart is not None:
        images = (Image(chart, "recap.png", text(lang, "recap.chart_alt")),)
    return Reply(
        title=text(lang, "recap.title", day=session.day), parts=tuple(parts), images=images
    )


# -- /recap ----------------------------------------------------------------------------------


def _describe(lang: Lang, subscription: Subscription, now: datetime) -> str:
    schedule = subscription.schedule
    language = text(lang, "recap.lang_zh" if subscription.reply_lang == "zh" else "recap.lang_en")
    zone = zone_with_offset(lang, schedule.zone, now)
    return text(lang, "recap.schedule", at=schedule.at_text, zone=zone, language=language)


def _next_line(
    lang: Lang, subscription: Subscription, calendar: TradingCalendar, now: datetime, zone: ZoneInfo
) -> str:
    try:
        due = next_due(subscription.schedule, now, calendar)
    except CalendarExhausted:
        return text(lang, "recap.next_unknown")
    return text(lang, "recap.next", when=_when(lang, due.at, zone), day=due.session.day)


async def _subscribe(request: Request, services: Services) -> Reply:
    require_moderator(request)
    params = request.params
    # A time without a zone is a time in this chat's zone; neither is the after-close default.
    from_chat = "time" in params and "zone" not in params
    default_zone = request.tz if from_chat else ZoneInfo(DEFAULT_ZONE)
    schedule = Schedule(params.get("time", DEFAULT_AT), params.get("zone", default_zone))
    now = services.clock()
    subscription = await services.subscriptions.subscribe(
        request.platform, request.chat_id, schedule, request.lang, request.user_id, now
    )
    calendar = await load_calendar()
    lang = request.lang
    used = (
        (text(lang, "recap.zone_from_chat", zone=zone_label(schedule.zone)),) if from_chat else ()
    )
    return Reply(
        title=text(lang, "recap.on_title"),
        parts=(
            _describe(lang, subscription, now),
            *used,
            # In the zone the time was given in, so the confirmation reads back what was typed.
            _next_line(lang, subscription, calendar, now, schedule.zone),
            text(lang, "recap.on_help"),
        ),
    )


async def _unsubscribe(request: Request, services: Services) -> Reply:
    require_moderator(request)
    removed = await services.subscriptions.unsubscribe(request.platform, request.chat_id)
    return Reply(parts=(text(request.lang, "recap.off" if removed else "recap.off_already"),))


async def _status(request: Request, services: Services) -> Reply:
    lang = request.lang
    subscription = await services.subscriptions.get(request.platform, request.chat_id)
    if subscription is None:
        none = text(lang, "recap.status_none", at=DEFAULT_AT.strftime("%H:%M"), zone=DEFAULT_ZONE)
        return Reply(title=text(lang, "recap.status_title"), parts=(none,))
    calendar = await load_calendar()
    now = services.clock()
    parts = [
        _describe(lang, subscription, now),
        _next_line(lang, subscription, calendar, now, request.tz),
    ]
    if subscription.last_sent_at is not None and subscription.last_sent_session is not None:
        parts.append(
            text(
                lang,
                "recap.last_sent",
                when=_when(lang, subscription.last_sent_at, request.tz),
                day=subscription.last_sent_session,
            )
        )
    else:
        parts.append(text(lang, "recap.last_none"))
    return Reply(title=text(lang, "recap.status_title"), parts=tuple(parts))


async def _now(request: Request, services: Services) -> Reply:
    now = services.clock()
    calendar = await load_calendar()
    session = calendar.last_closed(now)
    if session is None:
        raise UserError("recap.no_session")
    wait_until = await services.subscriptions.admit_request(
        request.platform, request.chat_id, now, NOW_COOLDOWN
    )
    if wait_until is not None:
        raise UserError("recap.too_soon", when=_when(request.lang, wait_until, request.tz))
    data = await gather_recap(services, calendar, session)
    # In the zone the scheduled recaps of this chat use, so the two never disagree.
    subscription = await services.subscriptions.get(request.platform, request.chat_id)
    zone = subscription.reply_zone if subscription is not None else request.tz
    return render_recap(data, request.lang, zone)


COMMAND = Command(
    "recap",
    "recap.summary",
    misuse="recap.bad_usage",
    forms=(
        Form("status", _status, "recap.usage_status", summary="recap.form_status", words=_STATUS),
        Form(
            "on",
            _subscribe,
            "recap.usage_on",
            summary="recap.form_on",
            words=ON_WORDS,
            moderator=True,
            misuse="recap.bad_on",
            params=(
                Param("time", "time", "recap.opt_time", detect=looks_like_time, read=read_time),
                Param(
                    "zone",
                    "zone",
                    "discord.opt_zone",
                    detect=lambda word: not looks_like_time(word),
                ),
            ),
        ),
        Form(
            "off",
            _unsubscribe,
            "recap.usage_off",
            summary="recap.form_off",
            words=OFF_WORDS,
            moderator=True,
        ),
        Form("now", _now, "recap.usage_now", summary="recap.form_now", words=_NOW, slow=True),
    ),
)
