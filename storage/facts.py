"""The embedded, sourced event dataset: prices, API pricing, training cost and outages.

Everything the bot states about 27 January 2025 comes from `data/` (or from live market
data), so it is loaded and checked once at start-up: a malformed file stops the bot with
a message naming the file and the problem instead of producing wrong answers later.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any, ClassVar, NamedTuple
from zoneinfo import ZoneInfo

PRICES_FILE = "market_2025-01.csv"
FACTS_FILE = "facts.json"
OUTAGES_FILE = "outages.json"
FACT_SECTIONS = ("pricing", "training_cost", "outages", "market_summary")
# The last session before DeepSeek-R1 hit the market, and the sell-off itself.
BEFORE_DAY = date(2025, 1, 24)
EVENT_DAY = date(2025, 1, 27)


class DatasetError(ValueError):
    """An embedded data file is missing, malformed or inconsistent."""


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    value: Any
    unit: str
    as_of: str
    source: str
    note: str


@dataclass(frozen=True, slots=True)
class DailyBar:
    """One trading day of one ticker; open/high/low/volume are missing for close-only series."""

    day: date
    ticker: str
    close: float
    open: float | None
    high: float | None
    low: float | None
    adj_close: float | None
    volume: int | None
    source: str
    # "yes": checked against a second copy; "partial": close checked, volume differs;
    # "close_only": only the close has a second source; "no": one source.
    cross_checked: str = ""

    @property
    def close_cross_checked(self) -> bool:
        return self.cross_checked in ("yes", "partial", "close_only")


@dataclass(frozen=True, slots=True)
class DayMove:
    """One ticker from the close of 24 Jan 2025 to the close of 27 Jan 2025."""

    ticker: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def pct(self) -> float:
        return (self.after / self.before - 1) * 100


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    kind: str
    start: datetime
    end: datetime | None
    milestones: tuple[Milestone, ...]
    # "full": the service it names was down completely; "partial": only part of it failed.
    scope: str = "partial"

    def spans(self) -> list[tuple[datetime, datetime, str]]:
        """(start, end, scope) pieces of an incident with an end, split where its scope changes."""
        if self.end is None:
            return []
        pieces: list[tuple[datetime, datetime, str]] = []
        start, scope = self.start, self.scope
        for step in self.milestones:
            if step.scope is not None and step.scope != scope:
                pieces.append((start, step.at, scope))
                start, scope = step.at, step.scope
        pieces.append((start, self.end, scope))
        return pieces


class Milestone(NamedTuple):
    """One moment of an incident's timeline."""

    at: datetime
    kind: str
    # The incident's scope from this moment on, when the milestone changes it.
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class OutageTimeline:
    incidents: tuple[Incident, ...]
    zone: ZoneInfo
    source: str
    note: str


@dataclass(frozen=True, slots=True)
class Facts:
    facts: dict[str, Fact]
    bars: tuple[DailyBar, ...]
    outages: OutageTimeline

    BEFORE_DAY: ClassVar[date] = BEFORE_DAY
    EVENT_DAY: ClassVar[date] = EVENT_DAY

    def fact(self, fact_id: str) -> Fact:
        return self.facts[fact_id]

    def number(self, fact_id: str, field: str | None = None) -> float:
        """A numeric fact, or one field of a fact whose value is a mapping."""
        value = self.facts[fact_id].value
        if field is not None:
            value = value[field]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DatasetError(f"{FACTS_FILE}: {fact_id} {field or ''} is not a number")
        return float(value)

    def tickers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(bar.ticker for bar in self.bars))

    def closes(self, ticker: str) -> dict[date, float]:
        return {bar.day: bar.close for bar in self.bars if bar.ticker == ticker}

    def bar(self, ticker: str, day: date) -> DailyBar | None:
        return next((b for b in self.bars if b.ticker == ticker and b.day == day), None)

    def day_move(self, ticker: str) -> DayMove | None:
        """The 24 -> 27 January 2025 move of a ticker in the dataset, or None."""
        closes = self.closes(ticker)
        if BEFORE_DAY not in closes or EVENT_DAY not in closes:
            return None
        return DayMove(ticker, closes[BEFORE_DAY], closes[EVENT_DAY])


def _read(name: str) -> str:
    try:
        return resources.files("storage").joinpath("data", name).read_text(encoding="utf-8")
    except OSError as error:
        raise DatasetError(f"{name}: cannot be read ({error})") from error


def _optional_float(row: dict[str, str], column: str, where: str) -> float | None:
    raw = row.get(column, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as error:
        raise DatasetError(f"{where}: {column} {raw!r} is not a number") from error
    if not math.isfinite(value) or value < 0:
        raise DatasetError(f"{where}: {column} {raw!r} is not a finite, non-negative number")
    return value


def parse_prices(text: str) -> tuple[DailyBar, ...]:
    required = {"date", "ticker", "open", "high", "low", "close", "adj_close", "volume", "source"}
    reader = csv.DictReader(io.StringIO(text))
    missing = required - set(reader.fieldnames or ())
    if missing:
        raise DatasetError(f"{PRICES_FILE}: missing columns {sorted(missing)}")
    bars: list[DailyBar] = []
    seen: set[tuple[date, str]] = set()
    for line, row in enumerate(reader, start=2):
        where = f"{PRICES_FILE} line {line}"
        try:
            day = date.fromisoformat(row["date"])
        except ValueError as error:
            raise DatasetError(f"{where}: date {row['date']!r} is not YYYY-MM-DD") from error
        ticker = row["ticker"].strip()
        if not ticker:
            raise DatasetError(f"{where}: empty ticker")
        close = _optional_float(row, "close", where)
        if close is None or close == 0:
            raise DatasetError(f"{where}: a close price is required")
        if (day, ticker) in seen:
            raise DatasetError(f"{where}: {ticker} on {day} appears twice")
        seen.add((day, ticker))
        volume = _optional_float(row, "volume", where)
        bars.append(
            DailyBar(
                day=day,
                ticker=ticker,
                close=close,
                open=_optional_float(row, "open", where),
                high=_optional_float(row, "high", where),
                low=_optional_float(row, "low", where),
                adj_close=_optional_float(row, "adj_close", where),
                volume=None if volume is None else int(volume),
                source=row["source"].strip(),
                cross_checked=(row.get("cross_checked") or "").strip(),
            )
        )
    if not bars:
        raise DatasetError(f"{PRICES_FILE}: no rows")
    return tuple(sorted(bars, key=lambda bar: (bar.ticker, bar.day)))


def parse_facts(text: str) -> dict[str, Fact]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DatasetError(f"{FACTS_FILE}: not valid JSON ({error})") from error
    facts: dict[str, Fact] = {}
    for section in FACT_SECTIONS:
        entries = document.get(section)
        if not isinstance(entries, list):
            raise DatasetError(f"{FACTS_FILE}: section {section!r} is missing or not a list")
        for entry in entries:
            try:
                fact = Fact(
                    id=str(entry["id"]),
                    value=entry["value"],
                    unit=str(entry["unit"]),
                    as_of=str(entry["as_of"]),
                    source=str(entry["source"]),
                    note=str(entry.get("note", "")),
                )
            except (KeyError, TypeError) as error:
                raise DatasetError(f"{FACTS_FILE}: {section} entry {entry!r}: {error}") from error
            if not fact.source.strip():
                raise DatasetError(f"{FACTS_FILE}: {fact.id} has no source")
            if fact.id in facts:
                raise DatasetError(f"{FACTS_FILE}: {fact.id} appears twice")
            facts[fact.id] = fact
    return facts


def parse_outages(text: str) -> OutageTimeline:
    try:
        document = json.loads(text)
        meta = document["_meta"]
        zone = ZoneInfo(meta["timezone"])

        def local(value: str) -> datetime:
            return datetime.fromisoformat(value).replace(tzinfo=zone)

        incidents = tuple(
            Incident(
                id=item["id"],
                kind=item["kind"],
                start=local(item["start"]),
                end=None if item["end"] is None else local(item["end"]),
                scope=item.get("scope", "partial"),
                milestones=tuple(
                    Milestone(at=local(step["at"]), kind=step["kind"], scope=step.get("scope"))
                    for step in item["milestones"]
                ),
            )
            for item in document["incidents"]
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{OUTAGES_FILE}: malformed ({error!r})") from error
    for incident in incidents:
        scopes = {incident.scope, *(step.scope or "full" for step in incident.milestones)}
        if not scopes <= {"full", "partial"}:
            raise DatasetError(f"{OUTAGES_FILE}: {incident.id} has an unknown scope")
        if incident.end is not None and incident.end < incident.start:
            raise DatasetError(f"{OUTAGES_FILE}: {incident.id} ends before it starts")
    return OutageTimeline(incidents, zone, str(meta["source"]), str(meta.get("note", "")))


def load_facts() -> Facts:
    """The whole dataset, validated; raises DatasetError naming the file at fault."""
    return Facts(
        facts=parse_facts(_read(FACTS_FILE)),
        bars=parse_prices(_read(PRICES_FILE)),
        outages=parse_outages(_read(OUTAGES_FILE)),
    )
