"""The only code that touches yfinance: blocking fetches meant to run in a worker thread.

yfinance is synchronous, keeps a process-wide session and caches, and reports trouble in
several shapes (raised curl errors, YFRateLimitError, empty frames). This module hides all
of that behind two blocking calls that either return clean numbers or raise one of three
exceptions, so the async service above never sees pandas or yfinance types.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

NEW_YORK = ZoneInfo("America/New_York")
US_CLOSE = time(16, 0)
YAHOO_HOST = "query2.finance.yahoo.com"

SessionFactory = Callable[[], Any]


class UpstreamError(Exception):
    """Yahoo could not be used just now: unreachable, rate limited, slow or empty answers."""


class RateLimited(UpstreamError):
    """Yahoo answered 429 (YFRateLimitError)."""


class UnknownSymbol(Exception):
    """Yahoo says there is no such symbol."""


@dataclass(frozen=True, slots=True)
class LivePrice:
    price: float
    at: datetime  # UTC, the market time of the price


_setup_lock = threading.Lock()
_configured = False
_cache_dir: Path | None = None


def _configure(cache_dir: Path | None) -> Any:
    """Import yfinance once, point its caches at our directory and make it raise, not log."""
    global _configured, _cache_dir
    with _setup_lock:
        import yfinance as yf

        if not _configured:
            if cache_dir is not None:
                try:
                    cache_dir.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    # yfinance then runs without its caches (slower, still correct).
                    log.warning("yfinance cache directory %s is not usable: %s", cache_dir, error)
                # Must happen before the first fetch: yfinance ignores it once a cache is open.
                yf.set_tz_cache_location(str(cache_dir))
                _cache_dir = cache_dir
            # Raised exceptions are the only reliable way to tell a bad symbol from a dead
            # network: with the default, both come back as the same empty frame.
            yf.config.debug.hide_exceptions = False
            logging.getLogger("yfinance").setLevel(logging.CRITICAL)
            # yfinance prepends a 'default' filter at import; ours must come after it.
            warnings.filterwarnings("ignore", module="yfinance")
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pandas")
            _configured = True
        return yf


# yfinance keeps its time-zone and cookie caches in a SQLite file of its own; fetch threads
# writing it at once can find it locked. That is a race on this machine, not Yahoo failing.
LOCAL_CACHE_TRIES = 3


def local_cache_locked(error: BaseException) -> bool:
    """Whether `error` is yfinance's own cache database being locked (peewee or sqlite3)."""
    return type(error).__name__ == "OperationalError" and "database is locked" in str(error)


class YahooClient:
    """Blocking Yahoo fetches through one session; call from a worker thread only."""

    def __init__(
        self,
        *,
        cache_dir: Path | None,
        session_factory: SessionFactory | None,
        timeout: float,
    ) -> None:
        self.cache_dir = cache_dir
        self.session_factory = session_factory
        self.timeout = timeout
        self._session: Any = None
        self._session_lock = threading.Lock()

    def _check_name_resolves(self) -> None:
        """Fail in milliseconds when Yahoo's name does not resolve (no network at all).

        Without this, a machine with no internet pays for importing yfinance and pandas
        (a second or more) before learning that nothing can be fetched. Skipped when a
        session was injected or a proxy is configured: the proxy resolves names then.
        """
        if self.session_factory is not None or urllib.request.getproxies().get("https"):
            return
        try:
            socket.getaddrinfo(YAHOO_HOST, 443, type=socket.SOCK_STREAM)
        except OSError as error:
            raise UpstreamError(f"cannot resolve {YAHOO_HOST}: {error}") from error

    def _ticker(self, symbol: str) -> Any:
        self._check_name_resolves()
        yf = _configure(self.cache_dir)
        with self._session_lock:
            if self._session is None and self.session_factory is not None:
                self._session = self.session_factory()
        # The same session goes to every Ticker: yfinance keeps the last one it was given.
        return yf.Ticker(symbol, session=self._session)

    def _history(self, symbol: str, **params: Any) -> tuple[Any, Any]:
        ticker = self._ticker(symbol)
        for attempt in range(1, LOCAL_CACHE_TRIES + 1):
            try:
                frame = ticker.history(
                    interval="1d", auto_adjust=False, actions=False, timeout=self.timeout, **params
                )
            except Exception as error:
                if attempt < LOCAL_CACHE_TRIES and local_cache_locked(error):
                    continue  # another fetch thread held yfinance's own cache: not Yahoo
                forget_cached_answers()
                raise classify(error) from error
            return ticker, frame
        raise AssertionError("unreachable: the last try returns or raises")

    def closes(self, symbol: str, start: date, end: date) -> list[tuple[date, float]]:
        """Daily closes (as traded, not adjusted) for start <= day < end."""
        _, frame = self._history(symbol, start=start.isoformat(), end=end.isoformat())
        found = _closes(frame)
        if not found:
            forget_cached_answers()
            raise UpstreamError(f"{symbol}: an empty or all-NaN frame")
        return found

    def latest(self, symbol: str) -> LivePrice:
        """The latest regular-market price and its market time."""
        ticker, frame = self._history(symbol, period="5d")
        found = _closes(frame)
        if not found:
            forget_cached_answers()
            raise UpstreamError(f"{symbol}: an empty or all-NaN frame")
        day, close = found[-1]
        at = datetime.combine(day, US_CLOSE, NEW_YORK).astimezone(UTC)
        try:
            meta = ticker.get_history_metadata()
            price = float(meta["regularMarketPrice"])
            stamp = meta["regularMarketTime"]
            market_time = stamp.to_pydatetime() if hasattr(stamp, "to_pydatetime") else None
        except (KeyError, TypeError, ValueError):
            price, market_time = close, None
        if not math.isfinite(price) or price <= 0:
            price, market_time = close, None
        if isinstance(market_time, datetime) and market_time.tzinfo is not None:
            at = market_time.astimezone(UTC)
        return LivePrice(price=price, at=at)


def _closes(frame: Any) -> list[tuple[date, float]]:
    if frame is None or getattr(frame, "empty", True) or "Close" not in frame:
        return []
    found: list[tuple[date, float]] = []
    for stamp, value in frame["Close"].items():
        close = float(value)
        if math.isfinite(close) and close > 0:
            found.append((stamp.date(), close))
    return found


def classify(error: Exception) -> Exception:
    """One of UnknownSymbol, RateLimited or UpstreamError for anything yfinance raised."""
    from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

    if isinstance(error, YFRateLimitError):
        return RateLimited(str(error))
    status = getattr(getattr(error, "response", None), "status_code", None)
    if status == 429:
        return RateLimited(str(error))
    if status == 404 or isinstance(error, YFTzMissingError):
        return UnknownSymbol(str(error))
    if isinstance(error, YFPricesMissingError) and error.yahoo_reason:
        return UnknownSymbol(str(error))
    return UpstreamError(f"{type(error).__name__}: {error}")


def forget_cached_answers() -> None:
    """Drop yfinance's in-memory copies of Yahoo's answers after a failed fetch.

    yfinance memoises some GETs (the time-zone lookup, past date ranges) in an lru_cache,
    failed answers included: one 500 or garbled body would otherwise be replayed for that
    ticker on every later fetch, and live prices would never come back until a restart.
    """
    from yfinance.data import YfData

    YfData.cache_get.cache_clear()


def configured_cache_dir() -> Path | None:
    """Where yfinance keeps its caches in this process (fixed by the first fetch)."""
    return _cache_dir


def reset_yfinance_state() -> None:
    """Forget yfinance's process-wide session, crumb and request cache (tests use this)."""
    from yfinance.data import YfData

    YfData._instances.clear()
    YfData.cache_get.cache_clear()


def new_york_today(now: datetime) -> date:
    """The US trading date at `now`; days before it are closed and never change."""
    return now.astimezone(NEW_YORK).date()


def day_after(day: date) -> date:
    return day + timedelta(days=1)
