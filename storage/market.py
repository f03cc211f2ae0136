"""Market prices from one place: the SQLite cache, Yahoo through yfinance, or the snapshot.

`await market.history(tickers, start, end)` and `await market.latest(tickers)` are the
whole interface. Every answer says where it came from (cache, live Yahoo, embedded
snapshot) and as of when, so a reply never passes off old data as current.

* The embedded snapshot counts as the permanent cache for the closed days it covers.
* Closed days fetched from Yahoo are kept for good; a latest price for `ttl` seconds.
* Concurrent identical requests share one upstream fetch, and a fetched latest price
  serves every request in its TTL window: one fetch per ticker per window.
* Fetches run in a small dedicated thread pool (yfinance blocks), each bounded by a
  deadline; a failure opens a circuit breaker and the answer comes from the cache or the
  snapshot instead, well within the deadline.
* A malformed symbol is refused before any request, and an unknown one (Yahoo said so)
  is remembered, so a typo does not cost an upstream call per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar, cast

from storage.facts import Facts
from storage.market_cache import CachedLatest, MarketCacheStore
from storage.market_values import (
    UNAVAILABLE,
    UNKNOWN,
    CircuitBreaker,
    Fallback,
    History,
    Latest,
    Mode,
    Quote,
    Series,
    _Unavailable,
    _Unknown,
    normalise_ticker,
)
from storage.yahoo import (
    NEW_YORK,
    US_CLOSE,
    RateLimited,
    SessionFactory,
    UnknownSymbol,
    UpstreamError,
    YahooClient,
    new_york_today,
)

log = logging.getLogger(__name__)

DEFAULT_TTL = 60.0
DEFAULT_DEADLINE = 2.5
DEFAULT_MAX_FETCHES = 4
UNKNOWN_FOR = timedelta(days=1)
MAX_FRESH = 500

T = TypeVar("T")

# The upstream failures of the latest()/history() call under way: one call fans out to a
# fetch per ticker, and a dead Yahoo fails them all at once, so they are logged as one line.
_round_failures: ContextVar[list[tuple[str, BaseException]] | None] = ContextVar(
    "round_failures", default=None
)


@dataclass
class Counters:
    """Upstream calls made, for the benchmark and the tests."""

    latest_fetches: int = 0
    history_fetches: int = 0
    failures: int = 0
    unknown_symbols: int = 0  # Yahoo answered that it has no such symbol
    circuit_open: int = 0  # not asked: Yahoo failed just before
    by_ticker: dict[str, int] = field(default_factory=dict)


class MarketData:
    """The market data service; one per process, built by the composition root."""

    def __init__(
        self,
        facts: Facts,
        cache: MarketCacheStore,
        *,
        mode: Mode = "live",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ttl: float = DEFAULT_TTL,
        cache_dir: Path | None = None,
        session_factory: SessionFactory | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_fetches: int = DEFAULT_MAX_FETCHES,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.facts = facts
        self.cache = cache
        self.mode: Mode = mode
        self.clock = clock
        self.ttl = timedelta(seconds=ttl)
        self.deadline = deadline
        self.breaker = breaker or CircuitBreaker(clock)
        self.counters = Counters()
        self._client = YahooClient(
            cache_dir=cache_dir, session_factory=session_factory, timeout=deadline
        )
        self._max_fetches = max_fetches
        self._executor: ThreadPoolExecutor | None = None
        self._fresh: dict[str, Quote] = {}
        self._in_flight: dict[tuple[object, ...], asyncio.Future[object]] = {}
        self._snapshot: dict[str, tuple[tuple[date, float], ...]] = {}
        for ticker in facts.tickers():
            self._snapshot[ticker] = tuple(sorted(facts.closes(ticker).items()))

    def close(self) -> None:
        """Stop the fetch threads; a fetch still running is abandoned, not awaited."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    # -- the interface -------------------------------------------------------------------

    def in_snapshot(self, ticker: str) -> bool:
        return ticker in self._snapshot

    def snapshot_range(self) -> tuple[date, date]:
        days = [day for closes in self._snapshot.values() for day, _ in closes]
        return min(days), max(days)

    async def latest(self, tickers: Iterable[str]) -> Latest:
        """The latest price of each ticker (symbols as normalise_ticker returns them)."""
        wanted = _unique(tickers)
        results = await self._round(*(self._latest_one(ticker) for ticker in wanted))
        quotes = {t: r for t, r in zip(wanted, results, strict=True) if isinstance(r, Quote)}
        return Latest(
            quotes=quotes,
            unknown=tuple(t for t, r in zip(wanted, results, strict=True) if r is UNKNOWN),
            unavailable=tuple(t for t, r in zip(wanted, results, strict=True) if r is UNAVAILABLE),
        )

    async def history(self, tickers: Iterable[str], start: date, end: date) -> History:
        """Daily closes for start <= day < end, closed trading days only (use latest for today)."""
        wanted = _unique(tickers)
        end = min(end, new_york_today(self.clock()))
        if end <= start:
            raise ValueError("the range has no closed trading day")
        results = await self._round(*(self._history_one(t, start, end) for t in wanted))
        series = {t: r for t, r in zip(wanted, results, strict=True) if isinstance(r, Series)}
        return History(
            series=series,
            unknown=tuple(t for t, r in zip(wanted, results, strict=True) if r is UNKNOWN),
            unavailable=tuple(t for t, r in zip(wanted, results, strict=True) if r is UNAVAILABLE),
        )

    async def _round(self, *loads: Awaitable[T]) -> list[T]:
        """Run one call's per-ticker loads together; their upstream failures make one log line."""
        failures: list[tuple[str, BaseException]] = []
        token = _round_failures.set(failures)
        try:
            # The loads become tasks here, each with a copy of this context: they see the list.
            results = await asyncio.gather(*loads)
        finally:
            _round_failures.reset(token)
        if failures:
            _log_failures(failures)
        return list(results)

    async def cached_chart(self, key: str) -> bytes | None:
        return await self.cache.chart(key)

    async def store_chart(self, key: str, png: bytes) -> None:
        await self.cache.store_chart(key, png, self.clock())

    # -- latest ----------------------------------------------------------------------------

    async def _latest_one(self, ticker: str) -> Quote | _Unknown | _Unavailable:
        if normalise_ticker(ticker) != ticker:
            return UNKNOWN
        fresh = self._fresh.get(ticker)
        now = self.clock()
        if fresh is not None and fresh.fetched_at is not None and now - fresh.fetched_at < self.ttl:
            return _as_cached(fresh)
        # Checked and joined without an await in between, so exactly one task fetches.
        return await self._shared(("latest", ticker), lambda: self._load_latest(ticker))

    async def _load_latest(self, ticker: str) -> Quote | _Unknown | _Unavailable:
        now = self.clock()
        cached = await self.cache.latest(ticker)
        if cached is not None and now - cached.fetched_at < self.ttl:
            quote = Quote(ticker, cached.price, cached.at, "cache", fetched_at=cached.fetched_at)
            self._remember_fresh(quote)
            return quote
        if self.mode == "offline":
            return self._latest_fallback(ticker, cached, "offline")
        if await self._known_unknown(ticker):
            return UNKNOWN
        try:
            live = await self._upstream(self._client.latest, ticker)
        except UnknownSymbol:
            return await self._remember_unknown(ticker)
        except UpstreamError:
            return self._latest_fallback(ticker, cached, "unavailable")
        self.counters.latest_fetches += 1
        fetched_at = self.clock()
        await self.cache.store_latest(ticker, CachedLatest(live.price, live.at, fetched_at))
        quote = Quote(ticker, live.price, live.at, "live", fetched_at=fetched_at)
        self._remember_fresh(quote)
        return quote

    def _remember_fresh(self, quote: Quote) -> None:
        # Bounded: expired prices are dropped once the map grows past a few hundred symbols.
        if len(self._fresh) >= MAX_FRESH:
            now = self.clock()
            self._fresh = {
                ticker: fresh
                for ticker, fresh in self._fresh.items()
                if fresh.fetched_at is not None and now - fresh.fetched_at < self.ttl
            }
        self._fresh[quote.ticker] = quote

    def _latest_fallback(
        self, ticker: str, cached: CachedLatest | None, why: Fallback
    ) -> Quote | _Unavailable:
        """A stale cached price beats the snapshot: it is newer."""
        if cached is not None:
            return Quote(ticker, cached.price, cached.at, "cache", why, cached.fetched_at)
        closes = self._snapshot.get(ticker)
        if closes:
            day, close = closes[-1]
            at = datetime.combine(day, US_CLOSE, NEW_YORK).astimezone(UTC)
            return Quote(ticker, close, at, "snapshot", why)
        return UNAVAILABLE

    # -- history ---------------------------------------------------------------------------

    async def _history_one(
        self, ticker: str, start: date, end: date
    ) -> Series | _Unknown | _Unavailable:
        if normalise_ticker(ticker) != ticker:
            return UNKNOWN
        snapshot = self._snapshot.get(ticker)
        if snapshot and snapshot[0][0] <= start and end <= snapshot[-1][0] + timedelta(days=1):
            return self._snapshot_series(ticker, start, end, "")
        return await self._shared(
            ("history", ticker, start, end), lambda: self._load_history(ticker, start, end)
        )

    async def _load_history(
        self, ticker: str, start: date, end: date
    ) -> Series | _Unknown | _Unavailable:
        cached = await self.cache.closes(ticker, start, end)
        if cached is not None:
            return Series(ticker, tuple(cached), "cache", self._closed_as_of(end))
        if self.mode == "offline":
            return self._history_fallback(ticker, start, end, "offline")
        if await self._known_unknown(ticker):
            return UNKNOWN

        def fetch(symbol: str) -> list[tuple[date, float]]:
            return self._client.closes(symbol, start, end)

        try:
            closes = await self._upstream(fetch, ticker)
        except UnknownSymbol:
            return await self._remember_unknown(ticker)
        except UpstreamError:
            return self._history_fallback(ticker, start, end, "unavailable")
        self.counters.history_fetches += 1
        fetched_at = self.clock()
        closes = [(day, close) for day, close in closes if start <= day < end]
        await self.cache.store_closes(ticker, start, end, closes, fetched_at)
        return Series(ticker, tuple(closes), "live", fetched_at)

    def _history_fallback(
        self, ticker: str, start: date, end: date, why: Fallback
    ) -> Series | _Unavailable:
        if self._snapshot.get(ticker):
            series = self._snapshot_series(ticker, start, end, why)
            if series.closes:
                return series
        return UNAVAILABLE

    def _snapshot_series(self, ticker: str, start: date, end: date, why: Fallback) -> Series:
        closes = tuple((d, c) for d, c in self._snapshot[ticker] if start <= d < end)
        last_day = closes[-1][0] if closes else self._snapshot[ticker][-1][0]
        return Series(ticker, closes, "snapshot", self._closed_as_of(last_day), why)

    @staticmethod
    def _closed_as_of(day: date) -> datetime:
        return datetime.combine(day, time(16, 0), NEW_YORK).astimezone(UTC)

    # -- upstream --------------------------------------------------------------------------

    async def _known_unknown(self, ticker: str) -> bool:
        if ticker in self._snapshot:
            return False
        since = await self.cache.unknown_since(ticker)
        return since is not None and self.clock() - since < UNKNOWN_FOR

    async def _remember_unknown(self, ticker: str) -> _Unknown | _Unavailable:
        # Yahoo reachable and answering: not a reason to open the breaker.
        self.breaker.succeeded()
        if ticker in self._snapshot:
            return UNAVAILABLE
        await self.cache.store_unknown(ticker, self.clock())
        return UNKNOWN

    async def _upstream(self, fetch: Callable[[str], T], ticker: str) -> T:
        """Run one blocking fetch in the pool within the deadline; UpstreamError otherwise."""
        if not self.breaker.allows():
            self.counters.circuit_open += 1
            raise UpstreamError("circuit open")
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_fetches, thread_name_prefix="yahoo"
            )
        self.counters.by_ticker[ticker] = self.counters.by_ticker.get(ticker, 0) + 1
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, fetch, ticker)
        try:
            result = await asyncio.wait_for(future, self.deadline)
        except UnknownSymbol:
            self.counters.unknown_symbols += 1
            raise
        except Exception as error:
            # Whatever went wrong inside yfinance (timeouts, 429, dead network, a frame it
            # could not parse), the answer is the same: back off and use cache or snapshot.
            self.counters.failures += 1
            self.breaker.failed()
            failures = _round_failures.get()
            if failures is None:
                _log_failures([(ticker, error)])
            else:
                failures.append((ticker, error))
            raise UpstreamError(str(error)) from error
        self.breaker.succeeded()
        return result

    async def _shared(self, key: tuple[object, ...], load: Callable[[], Awaitable[T]]) -> T:
        """Coalesce: every caller with the same key awaits the one running load."""
        running = self._in_flight.get(key)
        if running is None:
            task: asyncio.Future[object] = asyncio.ensure_future(load())
            self._in_flight[key] = running = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # shield: one impatient caller must not cancel the fetch the others wait for.
        return cast(T, await asyncio.shield(running))


def _log_failures(failures: list[tuple[str, BaseException]]) -> None:
    """One warning for a round of failed fetches, with each distinct error once."""
    tickers = ", ".join(dict.fromkeys(ticker for ticker, _ in failures))
    errors = "; ".join(dict.fromkeys(f"{type(error).__name__}: {error}" for _, error in failures))
    limited = any(isinstance(error, RateLimited) for _, error in failures)
    # A traceback only for what yfinance was not expected to raise, and only the first.
    unexpected = next(
        (
            error
            for _, error in failures
            if not isinstance(error, TimeoutError | UpstreamError | OSError)
        ),
        None,
    )
    log.warning(
        "Yahoo %s for %d ticker(s): %s (%s); answering from cache or snapshot",
        "rate limited" if limited else "failed",
        len(failures),
        tickers,
        errors,
        exc_info=unexpected,
    )


def _as_cached(quote: Quote) -> Quote:
    return Quote(quote.ticker, quote.price, quote.at, "cache", quote.fallback, quote.fetched_at)


def _unique(tickers: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tickers))
