"""Upstream Yahoo requests for 200 concurrent `/stocks NVDA MSFT`, and cached vs first charts.

Part 1 fires the requests through dispatch against the fake Yahoo (tests/fakes/yahoo.py,
a TLS-terminating proxy on 127.0.0.1 reached by yfinance's own curl_cffi session) and
counts the v8 chart requests the fake received. The baseline, measured in the same run
against the same fake, is the naive handler: one yfinance fetch per ticker per request,
in the same bounded thread pool.
Part 2 times `/stocks chart` through dispatch: a first render (fresh database, matplotlib
already imported) against the same chart answered from the chart cache.
Usage: .venv/bin/python -m bench.stocks_fetches [--requests 200] [--chart-runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.dispatch import dispatch
from bot.services import build_services
from handlers.model import Request
from storage.contracts import MarketCacheStore
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.yahoo import YahooClient, reset_yfinance_state
from tests.fakes.yahoo import (
    Bar,
    FakeYahoo,
    proxied_session,
    running_fake_yahoo,
    series_from_dataset,
)

TICKERS = ("NVDA", "MSFT")
MAX_FETCHES = 4
RECENT = {
    "NVDA": [Bar(date(2026, 11, 27), 180.0)],
    "MSFT": [Bar(date(2026, 11, 27), 450.0)],
}


def request(line: str, user: int) -> Request:
    command, _, text = line.removeprefix("/").partition(" ")
    return Request(
        platform="console", user_id=str(user), chat_id="bench", command=command, text=text
    )


# An in-memory database and offline prices unless a run brings its own market.
SETTINGS = Settings(
    dsbot_database=Path(":memory:"),
    dsbot_market="offline",
    _env_file=None,  # type: ignore[call-arg]
)


async def coalesced(
    facts: Facts, fake: FakeYahoo, cache_dir: Path, requests: int
) -> tuple[int, int, float]:
    """Chart requests, price fetches and seconds for `requests` concurrent /stocks NVDA MSFT."""

    def live(facts: Facts, cache: MarketCacheStore) -> MarketData:
        return MarketData(
            facts,
            cache,
            cache_dir=cache_dir,
            session_factory=lambda: proxied_session(fake.proxy_url),
            max_fetches=MAX_FETCHES,
        )

    async with build_services(SETTINGS, facts=facts, market=live, cooldowns=None) as services:
        before = len(fake.state.chart_requests())
        prices_before = len(fake.state.price_requests())
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(dispatch(request("/stocks NVDA MSFT", n), services) for n in range(requests))
        )
        seconds = time.perf_counter() - started
    bad = [reply for reply in replies if reply.is_error or "live from" not in reply.plain_text()]
    if bad and not all("cache" in reply.plain_text() for reply in bad):
        raise SystemExit(f"unexpected reply: {bad[0].plain_text()}")
    return (
        len(fake.state.chart_requests()) - before,
        len(fake.state.price_requests()) - prices_before,
        seconds,
    )


async def naive(fake: FakeYahoo, cache_dir: Path, requests: int) -> tuple[int, int, float]:
    """The baseline: every request fetches every ticker, same pool size, same session."""
    client = YahooClient(
        cache_dir=cache_dir,
        session_factory=lambda: proxied_session(fake.proxy_url),
        timeout=30,
    )
    pool = asyncio.Semaphore(MAX_FETCHES)

    async def fetch(ticker: str) -> float:
        async with pool:
            return (await asyncio.to_thread(client.latest, ticker)).price

    before = len(fake.state.chart_requests())
    prices_before = len(fake.state.price_requests())
    started = time.perf_counter()
    await asyncio.gather(*(fetch(ticker) for _ in range(requests) for ticker in TICKERS))
    seconds = time.perf_counter() - started
    return (
        len(fake.state.chart_requests()) - before,
        len(fake.state.price_requests()) - prices_before,
        seconds,
    )


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def charts(facts: Facts, runs: int) -> tuple[float, float]:
    """Median seconds of a first render and of the same chart from the cache."""
    line = "/stocks chart NVDA AVGO TSM MSFT META ^IXIC"
    first: list[float] = []
    cached: list[float] = []
    for run in range(runs + 1):
        async with build_services(SETTINGS, facts=facts, cooldowns=None) as services:
            # Run 0 only warms up matplotlib's import and font cache; it is not counted.
            ask = request(line, run)
            render = await timed(lambda ask=ask, services=services: dispatch(ask, services))
            again = await timed(lambda ask=ask, services=services: dispatch(ask, services))
            if run:
                first.append(render)
                cached.append(again)
    return statistics.median(first), statistics.median(cached)


async def main(requests: int, chart_runs: int) -> None:
    facts = load_facts()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with running_fake_yahoo(series_from_dataset(facts.bars, RECENT), root) as fake:
            cache_dir = root / "yfinance-cache"
            # Warm yfinance's import and its time-zone cache so neither side pays for them.
            reset_yfinance_state()
            warm = YahooClient(
                cache_dir=cache_dir,
                session_factory=lambda: proxied_session(fake.proxy_url),
                timeout=30,
            )
            await asyncio.to_thread(lambda: [warm.latest(ticker) for ticker in TICKERS])
            base_calls, base_prices, base_seconds = await naive(fake, cache_dir, requests)
            reset_yfinance_state()
            calls, prices, seconds = await coalesced(facts, fake, cache_dir, requests)
    first, cached = await charts(facts, chart_runs)
    print(f"{requests} concurrent '/stocks NVDA MSFT' through dispatch, fake Yahoo on 127.0.0.1")
    print(
        f"  naive (one fetch per ticker per request): {base_calls} chart requests "
        f"({base_prices} price fetches) in {base_seconds:.2f} s"
    )
    print(
        f"  dsbot market service (coalesced, TTL cache): {calls} chart requests "
        f"({prices} price fetches) in {seconds:.2f} s"
    )
    print(
        f"  upstream requests: {calls / base_calls:.4f} of the baseline "
        f"({base_calls / max(calls, 1):.0f}x fewer); per ticker per TTL window: "
        f"{prices / len(TICKERS):.1f}"
    )
    print(f"/stocks chart, median of {chart_runs}")
    print(
        f"  first render: {first * 1000:.1f} ms; from the chart cache: {cached * 1000:.1f} ms "
        f"({first / cached:.0f}x faster)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chart-runs", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.chart_runs))
    sys.exit(0)
