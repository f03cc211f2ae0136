"""`/stocks`: how bad the 27 January 2025 sell-off was, and whether it has recovered.

The event-day figures come from the embedded dataset; "since then" uses the market data
service, which says whether its price is live, cached or the snapshot, and as of when.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.commands import Command, Form, Param
from handlers.i18n import listed, long_date, text
from handlers.model import Image, Lang, Reply, Request, Services, Table, UserError
from handlers.numbers import compact
from handlers.stock_chart import cached_render
from handlers.user_text import normalised, quoted
from storage.facts import BEFORE_DAY as BEFORE
from storage.facts import EVENT_DAY as EVENT
from storage.facts import DayMove, Facts
from storage.market_values import MAX_TICKERS, Quote, Series, normalise_ticker

NEW_YORK = ZoneInfo("America/New_York")
CHART_START, CHART_END = date(2025, 1, 13), date(2025, 2, 7)
# The tickers the article names, TSMC, and the three indices, in the sell-off table.
SELLOFF = ("NVDA", "AVGO", "ASML", "GOOGL", "MSFT", "META", "GEV", "VST", "TSM")
INDICES = ("^IXIC", "^GSPC", "^DJI")
DEFAULT_CHART = ("NVDA", "AVGO", "TSM", "MSFT", "META", "^IXIC")
MAX_CHART_TICKERS = 8
CHART_WORDS = frozenset({"chart", "charts", "graph", "plot", "图", "图表", "走势", "走势图"})
_NAME_KEYS = {
    "NVDA": "nvda",
    "AVGO": "avgo",
    "ASML": "asml",
    "GOOGL": "googl",
    "GOOG": "goog",
    "MSFT": "msft",
    "META": "meta",
    "GEV": "gev",
    "VST": "vst",
    "TSM": "tsm",
    "^IXIC": "ixic",
    "^GSPC": "gspc",
    "^DJI": "dji",
}


def name(lang: Lang, ticker: str) -> str:
    key = _NAME_KEYS.get(ticker)
    return text(lang, f"stocks.name_{key}") if key else ticker


def price(value: float) -> str:
    return f"{value:,.2f}"


def signed(value: float) -> str:
    return f"{value:+,.2f}"


def pct(value: float) -> str:
    return f"{value:+.2f}%"


def moment(lang: Lang, at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    zone_name = local.tzname() or zone.key
    return f"{long_date(lang, local.date())} {local:%H:%M} {zone_name}"


def read_tickers(typed: str) -> tuple[str, ...]:
    """Symbols as typed (any case, `$NVDA`, commas), checked before anything is fetched."""
    found: list[str] = []
    for piece in normalised(typed).replace(",", " ").split():
        symbol = normalise_ticker(piece)
        if symbol is None:
            raise UserError("core.bad_ticker", value=quoted(piece, 20))
        if symbol not in found:
            found.append(symbol)
    if len(found) > MAX_TICKERS:
        raise UserError("stocks.too_many", limit=MAX_TICKERS)
    return tuple(found)


# -- /stocks ------------------------------------------------------------------------------


def selloff(lang: Lang, facts: Facts) -> Reply:
    """The event-day table: every ticker the article names and the indices, worst first."""
    moves = [move for t in SELLOFF + INDICES if (move := facts.day_move(t)) is not None]
    moves.sort(key=lambda move: move.pct)
    # Two lines per name keep the table within a phone's 36 columns.
    rows = tuple(
        row
        for move in moves
        for row in (
            (move.ticker, name(lang, move.ticker), pct(move.pct)),
            ("", f"{price(move.before)}→{price(move.after)}", signed(move.change)),
        )
    )
    headers = (
        text(lang, "stocks.col_ticker"),
        text(lang, "stocks.col_selloff"),
        text(lang, "stocks.col_change"),
    )
    nvda = facts.day_move("NVDA")
    assert nvda is not None, "the dataset always has NVDA"
    return Reply(
        title=text(lang, "stocks.selloff_title"),
        parts=(
            text(
                lang,
                "stocks.nvda_headline",
                before=price(nvda.before),
                after=price(nvda.after),
                pct=pct(nvda.pct),
                # The dataset counts in billions of dollars; each language has its own unit.
                loss=compact(lang, facts.number("nvda_market_cap_loss_2025_01_27") * 1e9),
                loss_alt=compact(lang, facts.number("nvda_market_cap_loss_lseg") * 1e9),
            ),
            Table(headers, rows, ("l", "l", "r")),
            text(lang, "stocks.selloff_notes"),
            text(lang, "stocks.selloff_source", sources=upstream_sources(lang, facts, moves)),
            cross_checked(lang, facts, [move.ticker for move in moves]),
            text(lang, "stocks.selloff_more"),
        ),
    )


_GITHUB_COPY = re.compile(r"github:([\w.-]+/[\w.-]+)")


def upstream_sources(lang: Lang, facts: Facts, moves: Iterable[DayMove]) -> str:
    """The public copies the table's closes come from, as the dataset's source column records
    them: each GitHub repository once, the primary ones first, then Reuters where quoted."""
    found: list[str] = []
    reuters = False
    for move in moves:
        for day in (BEFORE, EVENT):
            bar = facts.bar(move.ticker, day)
            if bar is None:
                continue
            for repository in _GITHUB_COPY.findall(bar.source):
                if repository not in found:
                    found.append(repository)
            reuters = reuters or "Reuters" in bar.source
    if reuters:
        found.append(text(lang, "stocks.source_reuters"))
    return text(lang, "core.list_separator").join(found)


def cross_checked(lang: Lang, facts: Facts, tickers: list[str]) -> str:
    """How far the table's closes were checked, read from the dataset's cross_checked column."""
    single = [
        ticker
        for ticker in tickers
        if not all(
            bar is not None and bar.close_cross_checked
            for bar in (facts.bar(ticker, BEFORE), facts.bar(ticker, EVENT))
        )
    ]
    if not single:
        return text(lang, "stocks.selloff_checked_all")
    separator = text(lang, "core.list_separator")
    return text(lang, "stocks.selloff_checked", single=separator.join(sorted(single)))


def age(lang: Lang, then: date, now: date) -> str:
    """How old a snapshot price is, roughly: "about 22 months", or days when under two months."""
    days = (now - then).days
    if days < 61:
        return text(lang, "stocks.age_days", count=days)
    return text(lang, "stocks.age_months", count=round(days / 30.44))


def quote_source(lang: Lang, quote: Quote, zone: ZoneInfo, now: datetime) -> str:
    """Where a price came from and as of when, in words."""
    when = moment(lang, quote.at, zone)
    if quote.source == "live":
        return text(lang, "stocks.source_live", when=when)
    if quote.source == "cache":
        fetched = moment(lang, quote.fetched_at or quote.at, zone)
        key = "stocks.source_cache_stale" if quote.fallback else "stocks.source_cache"
        return text(lang, key, when=when, fetched=fetched)
    key = "stocks.source_offline" if quote.fallback == "offline" else "stocks.source_unavailable"
    day = quote.at.astimezone(NEW_YORK).date()
    return text(
        lang, key, day=long_date(lang, day), age=age(lang, day, now.astimezone(NEW_YORK).date())
    )


def no_data(lang: Lang, services: Services, tickers: Iterable[str]) -> UserError:
    """No price anywhere: offline, say the snapshot's span; live, say Yahoo is unreachable."""
    shown = listed(lang, tickers)
    if services.market.mode == "offline":
        first, last = services.market.snapshot_range()
        return UserError(
            "stocks.no_data_offline",
            ticker=shown,
            first=long_date(lang, first),
            last=long_date(lang, last),
        )
    return UserError("stocks.no_data_now", ticker=shown)


async def event_close(services: Services, ticker: str) -> DayMove | None:
    """The event-day move: from the dataset, else from the market service (live or cache)."""
    move = services.facts.day_move(ticker)
    if move is not None:
        return move
    history = await services.market.history([ticker], BEFORE, EVENT + timedelta(days=1))
    series = history.series.get(ticker)
    if series is None:
        return None
    closes = dict(series.closes)
    if BEFORE in closes and EVENT in closes:
        return DayMove(ticker, closes[BEFORE], closes[EVENT])
    return None


def ticker_card(lang: Lang, ticker: str, move: DayMove | None, quote: Quote | None) -> Table:
    """A small table per ticker: the two event closes, then the latest price."""
    since = pct((quote.price / move.after - 1) * 100) if move and quote else "—"
    return Table(
        (ticker, text(lang, "stocks.col_change"), text(lang, "stocks.col_price")),
        (
            (text(lang, "stocks.row_before"), "", price(move.before) if move else "—"),
            (
                text(lang, "stocks.row_after"),
                pct(move.pct) if move else "—",
                price(move.after) if move else "—",
            ),
            (text(lang, "stocks.col_latest"), since, price(quote.price) if quote else "—"),
        ),
        ("l", "r", "r"),
    )


async def ticker_report(request: Request, services: Services, tickers: tuple[str, ...]) -> Reply:
    lang = request.lang
    latest = await services.market.latest(tickers)
    if latest.unknown and len(latest.unknown) == len(tickers):
        raise UserError("stocks.unknown_ticker", ticker=listed(lang, latest.unknown))
    if not latest.quotes:
        # A table of dashes answers nothing: say why there is no price instead.
        raise no_data(lang, services, latest.unavailable)
    parts: list[str | Table] = []
    notes: list[str] = []
    for ticker in tickers:
        if ticker in latest.unknown:
            continue
        quote = latest.quotes.get(ticker)
        move = await event_close(services, ticker)
        parts.append(ticker_card(lang, ticker, move, quote))
        if quote is not None:
            source = quote_source(lang, quote, request.tz, services.clock())
            notes.append(text(lang, "stocks.note", ticker=ticker, source=source))
    parts.extend(notes)
    if latest.unknown:
        parts.append(text(lang, "stocks.unknown_ticker", ticker=listed(lang, latest.unknown)))
    if latest.unavailable:
        error = no_data(lang, services, latest.unavailable)
        parts.append(text(lang, error.key, **error.params))
    missing = [t for t in tickers if not services.market.in_snapshot(t) and t not in latest.unknown]
    if missing:
        parts.append(text(lang, "stocks.not_in_dataset", ticker=listed(lang, missing)))
    parts.append(text(lang, "stocks.ticker_explain"))
    return Reply(
        title=text(lang, "stocks.ticker_title", tickers=" ".join(tickers)), parts=tuple(parts)
    )


# -- /stocks chart --------------------------------------------------------------------------


async def chart(request: Request, services: Services, tickers: tuple[str, ...]) -> Reply:
    lang = request.lang
    tickers = tickers or DEFAULT_CHART
    market = services.market
    history = await market.history(tickers, CHART_START, CHART_END + timedelta(days=1))
    if history.unknown and len(history.unknown) == len(tickers):
        raise UserError("stocks.unknown_ticker", ticker=listed(lang, history.unknown))
    event = {
        ticker: series.closes
        for ticker, series in history.series.items()
        if any(day == BEFORE for day, _ in series.closes)
    }
    if not event:
        raise no_data(lang, services, tickers)
    shown = " ".join(event)
    # Live data is fetched while the event chart is drawn: one after the other, a Yahoo
    # that is slow to its deadline plus a first drawing would take longer than 3 s.
    fetching = asyncio.ensure_future(_since_event_series(services, tuple(event)))
    try:
        event_png = await cached_render(services, "event", event, EVENT, BEFORE, request.lang)
    except BaseException:
        fetching.cancel()
        raise
    images = [
        Image(
            png=event_png,
            filename="stocks-2025-01.png",
            alt=text(lang, "stocks.chart_alt", tickers=shown),
        )
    ]
    parts: list[str | Table] = [text(lang, "stocks.chart_caption", tickers=shown)]
    parts.extend(_chart_sources(lang, history.series.values()))
    since = await fetching
    if since:
        last_day = max(day for closes in since.values() for day, _ in closes)
        images.append(
            Image(
                png=await cached_render(services, "since", since, EVENT, BEFORE, request.lang),
                filename="stocks-since-2025-01-27.png",
                alt=text(lang, "stocks.chart_since_alt", tickers=" ".join(since)),
            )
        )
        parts.append(text(lang, "stocks.chart_since_caption", day=long_date(lang, last_day)))
    else:
        parts.append(text(lang, "stocks.chart_no_live"))
    for missing in (history.unknown, history.unavailable):
        if missing:
            parts.append(text(lang, "stocks.chart_skipped", ticker=listed(lang, missing)))
    return Reply(title=text(lang, "stocks.chart_title"), parts=tuple(parts), images=tuple(images))


def _chart_sources(lang: Lang, all_series: Iterable[Series]) -> list[str]:
    sources = {series.source for series in all_series}
    return [text(lang, f"stocks.chart_source_{source}") for source in sorted(sources)]


async def _since_event_series(
    services: Services, tickers: tuple[str, ...]
) -> dict[str, tuple[tuple[date, float], ...]]:
    """24 Jan 2025 to today, only when live (or freshly cached) data exists to draw it."""
    market = services.market
    today = services.clock().date()
    history = await market.history(tickers, BEFORE, today + timedelta(days=1))
    latest = await market.latest(tickers)
    drawn: dict[str, tuple[tuple[date, float], ...]] = {}
    for ticker, series in history.series.items():
        if series.source == "snapshot":
            continue
        closes = dict(series.closes)
        quote = latest.quotes.get(ticker)
        if quote is not None and quote.source != "snapshot":
            closes[quote.at.astimezone(NEW_YORK).date()] = quote.price
        if BEFORE in closes and len(closes) > 2:
            drawn[ticker] = tuple(sorted(closes.items()))
    return drawn


async def stocks(request: Request, services: Services) -> Reply:
    """`/stocks` · `/stocks NVDA` · `/stocks chart [TICKERS]`."""
    tickers: tuple[str, ...] = request.params.get("ticker", ())
    if request.params.get("chart"):
        if len(tickers) > MAX_CHART_TICKERS:
            raise UserError("stocks.too_many", limit=MAX_CHART_TICKERS)
        return await chart(request, services, tickers)
    if not tickers:
        return selloff(request.lang, services.facts)
    return await ticker_report(request, services, tickers)


COMMAND = Command(
    "stocks",
    "stocks.summary",
    forms=(
        Form(
            "show",
            stocks,
            "stocks.usage",
            slow=True,
            params=(
                Param("chart", "flag", "discord.opt_chart", words=tuple(CHART_WORDS)),
                Param("ticker", "tickers", "discord.opt_ticker", read=read_tickers),
            ),
        ),
    ),
)
