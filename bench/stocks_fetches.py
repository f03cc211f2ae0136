"""Upstream Yahoo requests for 200 concurrent `/stocks NVDA MSFT`, and cached vs first charts.

Part 1 fires the requests through dispatch against the fake Yahoo (tests/fakes/yahoo.py,
a TLS-terminating proxy on 127.0.0.1 reached by yfinance's own curl_cffi session) and
counts the v8 chart requests the fake received. The baseline, measured in the same run
against the same fake, is the naive handler: one yfinance fetch per ticker per request,
in the same bounded thread pool. Each request comes from a different user in a chat of its
own, with production cooldowns (which admit that); every reply must be a real answer with
the fake's prices (and every naive fetch must return them), else the run exits 1.
Part 2 times `/stocks chart` through dispatch: a first render (fresh database, matplotlib
already imported) against the same chart answered from the chart cache; both must be the
chart, not an error.
Usage: .venv/bin/python -m bench.stocks_fetches [--requests 200] [--chart-runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.replies import ReplyCheck, fail_if_any, refusal_in
from bot.config import Settings
from bot.cooldowns import guarded
from bot.services import build_services
from handlers.i18n import text
from handlers.model import Reply, Request
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.market_cache import MarketCacheStore
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


# What `dsbot run` answers with: dispatch behind the production cooldowns.
answer = guarded()


def request(line: str, user: int) -> Request:
    command, _, rest = line.removeprefix("/").partition(" ")
    return Request(
        platform="console", user_id=str(user), chat_id=f"bench-{user}", command=command, text=rest
    )


# An in-memory database and offline prices unless a run brings its own market.
SETTINGS = Settings(
    dsbot_database=Path(":memory:"),
    dsbot_market="offline",
    _env_file=None,  # type: ignore[call-arg]
)


def prices_problem(reply: Reply) -> str | None:
    """None when the reply is the /stocks table with the fake's latest prices, live or cached."""
    shown = reply.plain_text()
    if refusal := refusal_in(shown):
        return refusal
    if reply.is_error:
        return "error reply"
    missing = [f"{bars[-1].close:.2f}" for bars in RECENT.values()]
    if any(price not in shown for price in missing):
        return "not the fake's latest prices"
    live, cached = (
        text("en", key).split("{")[0] for key in ("stocks.source_live", "stocks.source_cache")
    )
    return None if live in shown or cached in shown else "not from Yahoo (live or cached)"


def chart_problem(reply: Reply) -> str | None:
    if refusal := refusal_in(reply.plain_text()):
        return refusal
    if reply.is_error:
        return "error reply"
    return None if reply.images else "no chart image"


async def coalesced(
    facts: Facts, fake: FakeYahoo, cache_dir: Path, requests: int, check: ReplyCheck
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

    async with build_services(SETTINGS, facts=facts, market=live) as services:
        before = len(fake.state.chart_requests())
        prices_before = len(fake.state.price_requests())
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(answer(request("/stocks NVDA MSFT", n), services) for n in range(requests))
        )
        seconds = time.perf_counter() - started
    for reply in replies:
        check.record(prices_problem(reply), reply.plain_text())
    return (
        len(fake.state.chart_requests()) - before,
        len(fake.state.price_requests()) - prices_before,
        seconds,
    )


async def naive(
    fake: FakeYahoo, cache_dir: Path, requests: int, check: ReplyCheck
) -> tuple[int, int, float]:
    """The baseline: every request fetches every ticker, same pool size, same session."""
    client = YahooClient(
        cache_dir=cache_dir,
        session_factory=lambda: proxied_session(fake.proxy_url),
        timeout=30,
    )
    pool = asyncio.Semaphore(MAX_FETCHES)

    async def fetch(ticker: str) -> tuple[str, float]:
        async with pool:
            return ticker, (await asyncio.to_thread(client.latest, ticker)).price

    before = len(fake.state.chart_requests())
    prices_before = len(fake.state.price_requests())
    started = time.perf_counter()
    fetched = await asyncio.gather(*(fetch(ticker) for _ in range(requests) for ticker in TICKERS))
    seconds = time.perf_counter() - started
    for ticker, price in fetched:
        right = price == RECENT[ticker][-1].close
        check.record(None if right else "not the fake's latest price", f"{ticker} {price}")
    return (
        len(fake.state.chart_requests()) - before,
        len(fake.state.price_requests()) - prices_before,
        seconds,
    )


async def charts(facts: Facts, runs: int, check: ReplyCheck) -> tuple[float, float]:
    """Median seconds of a first render and of the same chart from the cache."""
    line = "/stocks chart NVDA AVGO TSM MSFT META ^IXIC"
    first: list[float] = []
    cached: list[float] = []
    for run in range(runs + 1):
        async with build_services(SETTINGS, facts=facts) as services:
            # Run 0 only warms up matplotlib's import and font cache; it is not counted.
            ask = request(line, run)
            started = time.perf_counter()
            drawn = await answer(ask, services)
            render = time.perf_counter() - started
            started = time.perf_counter()
            again = await answer(ask, services)
            from_cache = time.perf_counter() - started
            if run:
                for reply in (drawn, again):
                    check.record(chart_problem(reply), reply.plain_text())
                first.append(render)
                cached.append(from_cache)
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
            checks = [ReplyCheck(name) for name in ("naive fetches", "/stocks", "/stocks chart")]
            base_calls, base_prices, base_seconds = await naive(
                fake, cache_dir, requests, checks[0]
            )
            reset_yfinance_state()
            calls, prices, seconds = await coalesced(facts, fake, cache_dir, requests, checks[1])
    first, cached = await charts(facts, chart_runs, checks[2])
    fail_if_any(checks)
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
