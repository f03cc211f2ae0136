"""What market data answers are: quotes and series that say where they came from, and when."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Source = Literal["cache", "live", "snapshot"]
# Why an answer is not live: the bot runs offline, or Yahoo failed (now or recently).
Fallback = Literal["", "offline", "unavailable"]
Mode = Literal["live", "offline"]

MAX_TICKERS = 12
# Yahoo symbols: letters, digits, dots, dashes, "=" (FX, futures), an optional leading ^.
_SYMBOL = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,11}$")


@dataclass(frozen=True, slots=True)
class Quote:
    """The latest known price of one ticker; `at` is the market time it was true (UTC)."""

    ticker: str
    price: float
    at: datetime
    source: Source
    fallback: Fallback = ""
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """Daily closes of one ticker; `as_of` is when the data was fetched or last true."""

    ticker: str
    closes: tuple[tuple[date, float], ...]
    source: Source
    as_of: datetime
    fallback: Fallback = ""


@dataclass(frozen=True, slots=True)
class Latest:
    quotes: dict[str, Quote]
    unknown: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class History:
    series: dict[str, Series]
    unknown: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()


class _Unknown:
    """Marker: the ticker does not exist."""


class _Unavailable:
    """Marker: no data for the ticker anywhere right now."""


UNKNOWN = _Unknown()
UNAVAILABLE = _Unavailable()


@dataclass
class CircuitBreaker:
    """After a failure, no upstream calls for `base` seconds, doubling up to `ceiling`."""

    clock: Callable[[], datetime]
    base: float = 30.0
    ceiling: float = 600.0
    failures: int = 0
    open_until: datetime | None = None

    def allows(self) -> bool:
        return self.open_until is None or self.clock() >= self.open_until

    def succeeded(self) -> None:
        self.failures, self.open_until = 0, None

    def failed(self) -> None:
        self.failures += 1
        pause = min(self.base * 2 ** (self.failures - 1), self.ceiling)
        self.open_until = self.clock() + timedelta(seconds=pause)


def normalise_ticker(raw: str) -> str | None:
    """`$nvda` -> `NVDA`; None when it cannot be a Yahoo symbol (checked before any request)."""
    folded = unicodedata.normalize("NFKC", raw).strip().upper()
    folded = folded.removeprefix("$")
    return folded if _SYMBOL.match(folded) else None
