"""The market data service against a fake Yahoo on 127.0.0.1, through yfinance's real code."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from storage import yahoo
from storage.db import Database, open_database
from storage.facts import Facts
from storage.market import MarketData
from storage.market_cache import MarketCacheStore
from storage.market_values import CircuitBreaker, normalise_ticker
from storage.yahoo import configured_cache_dir, reset_yfinance_state
from tests.fakes.yahoo import (
    Bar,
    Clock,
    FakeYahoo,
    free_port,
    proxied_session,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
RECENT = {
    "NVDA": [Bar(date(2026, 11, 25), 175.0), Bar(date(2026, 11, 27), 180.0)],
    "MSFT": [Bar(date(2026, 11, 25), 440.0), Bar(date(2026, 11, 27), 450.0)],
    "AAPL": [
        Bar(date(2025, 1, 24), 222.78),
        Bar(date(2025, 1, 27), 229.86),
        Bar(date(2025, 1, 28), 238.26),
        Bar(date(2026, 11, 27), 250.0),
    ],
}


@pytest.fixture
def recent_bars() -> dict[str, list[Bar]]:
    return RECENT


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with open_database(":memory:") as database:
        yield database


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def make_market(
    facts: Facts, db: Database, clock: Clock, proxy_url: str, cache_dir: Path, **options: Any
) -> MarketData:
    return MarketData(
        facts,
        MarketCacheStore(db),
        clock=clock,
        cache_dir=cache_dir,
        session_factory=lambda: proxied_session(proxy_url),
        **options,
    )


@pytest.fixture
def market(
    facts: Facts, db: Database, clock: Clock, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> Iterator[MarketData]:
    service = make_market(facts, db, clock, fake_yahoo.proxy_url, yf_cache_dir)
    yield service
    service.close()


async def test_a_latest_price_comes_live_from_yahoo_then_from_the_cache(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    first = await market.latest(["NVDA"])
    second = await market.latest(["NVDA"])

    assert first.quotes["NVDA"].source == "live"
    assert first.quotes["NVDA"].price == 180.0
    assert first.quotes["NVDA"].at.date() == date(2026, 11, 27)
    assert second.quotes["NVDA"].source == "cache"
    assert second.quotes["NVDA"].price == 180.0
    assert fake_yahoo.state.price_requests("NVDA") == ["NVDA"]


async def test_the_request_carries_yahoos_cookie_and_crumb_on_the_real_hosts(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    await market.latest(["MSFT"])

    hosts = {host for host, _ in fake_yahoo.state.requests}
    assert "query2.finance.yahoo.com" in hosts
    assert any("crumb=fakeCrumb123" in path for _, path in fake_yahoo.state.requests)


async def test_after_the_ttl_the_price_is_fetched_again(
    market: MarketData, fake_yahoo: FakeYahoo, clock: Clock
) -> None:
    await market.latest(["NVDA"])
    clock.advance(market.ttl.total_seconds() + 1)

    again = await market.latest(["NVDA"])

    assert again.quotes["NVDA"].source == "live"
    assert len(fake_yahoo.state.price_requests("NVDA")) == 2


async def test_concurrent_identical_requests_share_one_upstream_fetch_per_ticker(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    answers = await asyncio.gather(*(market.latest(["NVDA", "MSFT"]) for _ in range(50)))

    assert all(answer.quotes["MSFT"].price == 450.0 for answer in answers)
    assert sorted(fake_yahoo.state.price_requests()) == ["MSFT", "NVDA"]


async def test_the_cache_survives_a_restart_on_the_same_database(
    facts: Facts,
    db: Database,
    clock: Clock,
    market: MarketData,
    fake_yahoo: FakeYahoo,
    yf_cache_dir: Path,
) -> None:
    await market.latest(["NVDA"])
    restarted = make_market(facts, db, clock, fake_yahoo.proxy_url, yf_cache_dir)

    answer = await restarted.latest(["NVDA"])

    assert answer.quotes["NVDA"].source == "cache"
    assert len(fake_yahoo.state.price_requests("NVDA")) == 1


async def test_a_rate_limited_yahoo_opens_the_breaker_and_the_snapshot_answers(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    fake_yahoo.state.rate_limited.add("NVDA")

    first = await market.latest(["NVDA"])
    seen = len(fake_yahoo.state.requests)
    second = await market.latest(["NVDA", "MSFT"])

    quote = first.quotes["NVDA"]
    assert (quote.source, quote.fallback, quote.price) == ("snapshot", "unavailable", 129.84)
    assert quote.at.date() == date(2025, 2, 7)
    assert not market.breaker.allows()
    assert second.quotes["MSFT"].source == "snapshot"
    assert len(fake_yahoo.state.requests) == seen, "the open breaker still let a call through"


async def test_the_breaker_lets_yahoo_be_tried_again_after_the_pause(
    market: MarketData, fake_yahoo: FakeYahoo, clock: Clock
) -> None:
    fake_yahoo.state.rate_limit_everything = True
    await market.latest(["NVDA"])
    fake_yahoo.state.rate_limit_everything = False
    clock.advance(market.breaker.base + 1)

    answer = await market.latest(["NVDA"])

    assert answer.quotes["NVDA"].source == "live"


async def test_an_unreachable_yahoo_answers_from_the_snapshot_within_three_seconds(
    facts: Facts, db: Database, clock: Clock, yf_cache_dir: Path
) -> None:
    reset_yfinance_state()
    dead = f"http://127.0.0.1:{free_port()}"
    market = make_market(facts, db, clock, dead, yf_cache_dir)
    started = time.monotonic()

    answer = await market.latest(["NVDA", "AVGO"])

    assert time.monotonic() - started < 3
    assert {quote.source for quote in answer.quotes.values()} == {"snapshot"}
    assert answer.quotes["NVDA"].fallback == "unavailable"
    market.close()
    reset_yfinance_state()


async def test_an_unreachable_yahoo_costs_one_warning_per_request_not_one_per_ticker(
    facts: Facts, db: Database, clock: Clock, yf_cache_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reset_yfinance_state()
    dead = f"http://127.0.0.1:{free_port()}"
    market = make_market(facts, db, clock, dead, yf_cache_dir, max_fetches=12)
    tickers = facts.tickers()[:12]
    caplog.set_level(logging.WARNING, logger="storage.market")

    try:
        answer = await market.latest(tickers)
    finally:
        market.close()
        reset_yfinance_state()

    assert len(answer.quotes) == 12
    warnings = [record for record in caplog.records if record.name == "storage.market"]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert message.startswith(f"Yahoo failed for {market.counters.failures} ticker(s): ")
    assert market.counters.failures >= 1
    assert "answering from cache or snapshot" in message


async def test_a_stale_cached_price_beats_the_snapshot_when_yahoo_fails(
    market: MarketData, fake_yahoo: FakeYahoo, clock: Clock
) -> None:
    await market.latest(["NVDA"])
    clock.advance(3600)
    fake_yahoo.state.rate_limit_everything = True

    answer = await market.latest(["NVDA"])

    quote = answer.quotes["NVDA"]
    assert (quote.source, quote.fallback, quote.price) == ("cache", "unavailable", 180.0)


async def test_a_slow_yahoo_is_abandoned_at_the_deadline(
    facts: Facts, db: Database, clock: Clock, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    fake_yahoo.state.slow.add("NVDA")
    market = make_market(facts, db, clock, fake_yahoo.proxy_url, yf_cache_dir, deadline=0.3)
    started = time.monotonic()

    answer = await market.latest(["NVDA"])

    assert time.monotonic() - started < 2
    assert answer.quotes["NVDA"].source == "snapshot"
    assert market.counters.failures == 1
    fake_yahoo.state.release_slow.set()
    market.close()


async def test_an_empty_frame_counts_as_a_failure(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    fake_yahoo.state.empty.add("NVDA")

    answer = await market.latest(["NVDA"])

    assert answer.quotes["NVDA"].source == "snapshot"
    assert not market.breaker.allows()


async def test_an_unknown_ticker_costs_one_upstream_round_then_is_remembered(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    first = await market.latest(["NOPEX"])
    seen = len(fake_yahoo.state.requests)
    second = await market.latest(["NOPEX"])

    assert first.unknown == ("NOPEX",) and second.unknown == ("NOPEX",)
    assert seen > 0
    assert len(fake_yahoo.state.requests) == seen
    assert market.breaker.allows(), "a typo must not stop live prices for everyone"


async def test_a_malformed_ticker_never_reaches_yahoo(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    answer = await market.latest(["NV DA", "'; DROP TABLE x;--", "@everyone"])

    assert answer.quotes == {}
    assert len(answer.unknown) == 3
    assert fake_yahoo.state.requests == []


async def test_offline_mode_never_calls_yahoo(
    facts: Facts, db: Database, clock: Clock, fake_yahoo: FakeYahoo, yf_cache_dir: Path
) -> None:
    market = make_market(facts, db, clock, fake_yahoo.proxy_url, yf_cache_dir, mode="offline")

    latest = await market.latest(["NVDA", "AAPL"])
    history = await market.history(["AAPL"], date(2025, 1, 24), date(2025, 1, 29))

    assert latest.quotes["NVDA"].fallback == "offline"
    assert latest.unavailable == ("AAPL",)
    assert history.unavailable == ("AAPL",)
    assert fake_yahoo.state.requests == []


async def test_the_event_window_comes_from_the_snapshot_without_a_request(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    history = await market.history(["NVDA", "^IXIC"], date(2025, 1, 13), date(2025, 2, 8))

    nvda = history.series["NVDA"]
    assert nvda.source == "snapshot"
    assert dict(nvda.closes)[date(2025, 1, 27)] == 118.42
    assert len(nvda.closes) == 19
    assert fake_yahoo.state.requests == []


async def test_closed_days_are_fetched_once_and_kept(
    market: MarketData, fake_yahoo: FakeYahoo
) -> None:
    first = await market.history(["AAPL"], date(2025, 1, 24), date(2025, 1, 29))
    second = await market.history(["AAPL"], date(2025, 1, 27), date(2025, 1, 28))

    assert first.series["AAPL"].source == "live"
    assert [day for day, _ in first.series["AAPL"].closes] == [
        date(2025, 1, 24),
        date(2025, 1, 27),
        date(2025, 1, 28),
    ]
    assert second.series["AAPL"].source == "cache"
    assert second.series["AAPL"].closes == ((date(2025, 1, 27), 229.86),)
    assert fake_yahoo.state.price_requests("AAPL") == ["AAPL"]


async def test_yfinance_keeps_its_caches_in_the_directory_it_was_given(
    market: MarketData, tmp_path_factory: pytest.TempPathFactory
) -> None:
    await market.latest(["NVDA"])

    # The location is process-wide and fixed by whichever test fetched first.
    folder = configured_cache_dir()
    assert folder is not None
    assert folder.is_relative_to(tmp_path_factory.getbasetemp())
    assert (folder / "tkr-tz.db").exists()


def test_tickers_are_read_in_any_case_and_with_a_dollar_sign() -> None:
    assert [normalise_ticker(raw) for raw in ("nvda", "$NVDA", " ^ixic ", "２３３０.tw")] == [
        "NVDA",
        "NVDA",
        "^IXIC",
        "2330.TW",
    ]
    assert [normalise_ticker(raw) for raw in ("", "$", "NV DA", "<b>", "A" * 20, "英伟达")] == [
        None
    ] * 6


def test_the_breaker_pause_doubles_with_each_failure_up_to_its_ceiling() -> None:
    clock = Clock(NOW)
    breaker = CircuitBreaker(clock, base=10, ceiling=25)

    pauses = []
    for _ in range(3):
        breaker.failed()
        assert breaker.open_until is not None
        pauses.append((breaker.open_until - clock()).total_seconds())
    breaker.succeeded()

    assert pauses == [10, 20, 25]
    assert breaker.allows()


def test_without_name_resolution_the_default_session_fails_before_importing_yfinance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def configure(cache_dir: Path | None) -> Any:
        raise AssertionError("yfinance was set up although Yahoo's name does not resolve")

    monkeypatch.setattr(yahoo.socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(yahoo, "_configure", configure)
    monkeypatch.delenv("https_proxy", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    client = yahoo.YahooClient(cache_dir=None, session_factory=None, timeout=1)

    with pytest.raises(yahoo.UpstreamError, match="cannot resolve"):
        client.latest("NVDA")


class OperationalError(Exception):
    """Named as peewee's and sqlite3's are: yfinance's cache raises one when locked."""


class LockedOnce:
    """A yfinance Ticker whose first history call finds yfinance's own cache locked."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.calls = 0

    def history(self, **params: Any) -> Any:
        self.calls += 1
        if self.calls <= self.fails:
            raise OperationalError("database is locked")
        return "frame"


def test_a_fetch_that_finds_yfinances_own_cache_locked_is_tried_again() -> None:
    client = yahoo.YahooClient(cache_dir=None, session_factory=None, timeout=1)
    ticker = LockedOnce(fails=1)
    client._ticker = lambda symbol: ticker  # type: ignore[method-assign]

    assert client._history("NVDA", period="5d") == (ticker, "frame")
    assert ticker.calls == 2


def test_a_cache_that_stays_locked_is_an_upstream_failure_after_a_few_tries() -> None:
    client = yahoo.YahooClient(cache_dir=None, session_factory=None, timeout=1)
    ticker = LockedOnce(fails=10)
    client._ticker = lambda symbol: ticker  # type: ignore[method-assign]

    with pytest.raises(yahoo.UpstreamError):
        client._history("NVDA", period="5d")
    assert ticker.calls == yahoo.LOCAL_CACHE_TRIES
