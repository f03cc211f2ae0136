"""`/stocks` while Yahoo misbehaves: every form answers within 3 s, says where its data is from.

Yahoo is the fake on 127.0.0.1 (tests/fakes/yahoo.py) reached through yfinance's real code,
with the production deadline (2.5 s) and a real wall clock for the elapsed time; only the
market service's clock is moved by hand, to let the circuit breaker close again. The slow
mode holds Yahoo's answer for 10 s: the bot must answer while Yahoo is still sleeping.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.dispatch import dispatch
from handlers.i18n import text
from handlers.model import Lang, Reply, Services, Table
from storage.market import DEFAULT_DEADLINE, MarketData
from storage.yahoo import reset_yfinance_state
from tests.conftest import NOW, make_request
from tests.fakes.yahoo import (
    Bar,
    Clock,
    FakeYahoo,
    FakeYahooState,
    free_port,
    proxied_session,
)

ANSWER_WITHIN = 3.0
SLOW_SECONDS = 10.0
TICKERS = ("NVDA", "MSFT")
RECENT = {
    "NVDA": [Bar(date(2026, 11, 25), 175.0), Bar(date(2026, 11, 27), 180.0)],
    "MSFT": [Bar(date(2026, 11, 25), 440.0), Bar(date(2026, 11, 27), 450.0)],
}


def rate_limited(state: FakeYahooState) -> None:
    state.rate_limited.update(TICKERS)


def server_error(state: FakeYahooState) -> None:
    state.server_error.update(TICKERS)


def slow(state: FakeYahooState) -> None:
    state.slow_seconds = SLOW_SECONDS
    state.slow.update(TICKERS)


def garbage(state: FakeYahooState) -> None:
    state.garbage.update(TICKERS)


def heal(state: FakeYahooState) -> None:
    for faulty in (state.rate_limited, state.server_error, state.slow, state.garbage):
        faulty.clear()
    state.release_slow.set()


FAULTS: dict[str, Callable[[FakeYahooState], None]] = {
    "429": rate_limited,
    "500": server_error,
    "slow-10s": slow,
    "garbage-json": garbage,
}
# The chart first, on a fresh service: its live fetch then meets the fault with the breaker
# still closed, while the event chart is being drawn.
FORMS = ("/stocks chart NVDA MSFT", "/stocks", "/stocks NVDA")


@pytest.fixture
def recent_bars() -> dict[str, list[Bar]]:
    return RECENT


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def live_services(services: Services, proxy_url: str, cache_dir: Path, clock: Clock) -> Services:
    """The test services with a live market service pointed at `proxy_url`, production timing."""
    market = MarketData(
        services.facts,
        services.market_cache,
        clock=clock,
        cache_dir=cache_dir,
        session_factory=lambda: proxied_session(proxy_url),
    )
    assert market.deadline == DEFAULT_DEADLINE
    return dataclasses.replace(services, market=market)


async def timed(services: Services, line: str, lang: Lang = "en") -> tuple[Reply, float]:
    started = time.monotonic()
    reply = await dispatch(make_request(line, locale=lang), services)
    return reply, time.monotonic() - started


def table_of(reply: Reply) -> Table:
    return next(part for part in reply.parts if isinstance(part, Table))


def assert_says_where_from(line: str, reply: Reply, lang: Lang) -> None:
    """Each form names its source: the dataset, the snapshot, or the missing live data."""
    shown = reply.plain_text()
    assert not reply.is_error, shown
    assert text(lang, "core.sorry") not in shown
    if line == "/stocks":
        # The dataset's own line, whatever copies it names.
        assert text(lang, "stocks.selloff_source", sources="")[:20] in shown
    elif line.startswith("/stocks chart"):
        assert reply.images and reply.images[0].png.startswith(b"\x89PNG")
        assert text(lang, "stocks.chart_source_snapshot") in shown
        assert text(lang, "stocks.chart_no_live") in shown
    else:
        assert table_of(reply).rows[-1][2] == "129.84"  # the snapshot's last NVDA close
        snapshot_day = "7 Feb 2025" if lang == "en" else "2025年2月7日"
        age = "about 22 months" if lang == "en" else "22 个月"
        assert text(lang, "stocks.source_unavailable", day=snapshot_day, age=age) in shown


@pytest.mark.parametrize("fault", FAULTS)
async def test_every_stocks_form_answers_within_3_s_from_the_snapshot_and_says_so_then_recovers(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path, clock: Clock, fault: str
) -> None:
    market = live_services(services, fake_yahoo.proxy_url, yf_cache_dir, clock)
    FAULTS[fault](fake_yahoo.state)
    try:
        for number, line in enumerate(FORMS):
            lang: Lang = "zh" if number % 2 else "en"
            reply, elapsed = await timed(market, line, lang)

            assert elapsed < ANSWER_WITHIN, f"{line}: {elapsed:.2f} s with Yahoo {fault}"
            assert_says_where_from(line, reply, lang)
        assert market.market.counters.failures >= 1, "Yahoo was never asked"

        # Yahoo recovers; once the breaker's pause is over the next request is live again.
        heal(fake_yahoo.state)
        clock.advance(market.market.breaker.base * 2**10)
        recovered, elapsed = await timed(market, "/stocks NVDA")

        assert elapsed < ANSWER_WITHIN
        assert table_of(recovered).rows[-1][2] == "180.00"
        assert "live from Yahoo Finance" in recovered.plain_text()
    finally:
        market.market.close()


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_price_fetched_earlier_answers_from_the_cache_and_says_yahoo_is_not_answering(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path, clock: Clock, fault: str
) -> None:
    market = live_services(services, fake_yahoo.proxy_url, yf_cache_dir, clock)
    try:
        await timed(market, "/stocks NVDA")
        clock.advance(market.market.ttl.total_seconds() + 60)
        FAULTS[fault](fake_yahoo.state)

        reply, elapsed = await timed(market, "/stocks NVDA")

        assert elapsed < ANSWER_WITHIN
        assert table_of(reply).rows[-1][2] == "180.00"
        assert "Yahoo Finance is not answering right now" in reply.plain_text()
    finally:
        market.market.close()


async def test_an_unreachable_yahoo_answers_every_form_within_3_s_and_a_later_yahoo_is_used(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path, clock: Clock
) -> None:
    reset_yfinance_state()
    down = live_services(services, f"http://127.0.0.1:{free_port()}", yf_cache_dir, clock)
    try:
        for number, line in enumerate(FORMS):
            lang: Lang = "zh" if number % 2 else "en"
            reply, elapsed = await timed(down, line, lang)

            assert elapsed < ANSWER_WITHIN, f"{line}: {elapsed:.2f} s with Yahoo unreachable"
            assert_says_where_from(line, reply, lang)
    finally:
        down.market.close()
    reset_yfinance_state()
    # The same database (and cache) with Yahoo reachable again: live prices.
    up = live_services(services, fake_yahoo.proxy_url, yf_cache_dir, clock)
    try:
        recovered, _ = await timed(up, "/stocks NVDA")
    finally:
        up.market.close()

    assert "live from Yahoo Finance" in recovered.plain_text()


async def test_a_ticker_outside_the_snapshot_says_no_price_now_rather_than_failing(
    services: Services, fake_yahoo: FakeYahoo, yf_cache_dir: Path, clock: Clock
) -> None:
    market = live_services(services, fake_yahoo.proxy_url, yf_cache_dir, clock)
    fake_yahoo.state.server_error.add("AAPL")
    try:
        reply, elapsed = await timed(market, "/stocks AAPL")
    finally:
        market.market.close()

    assert elapsed < ANSWER_WITHIN
    assert text("en", "stocks.no_data_now", ticker="AAPL") in reply.plain_text()
    assert text("en", "core.sorry") not in reply.plain_text()
