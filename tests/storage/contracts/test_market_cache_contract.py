"""The market cache's contract: fetched closes by range, latest prices, unknown tickers, charts.

Written against the store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.backends import Stores, open_stores
from storage.market_cache import CachedLatest, MarketCacheStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
# NVDA's closes around the DeepSeek moment (storage/data): 24, 27 and 28 January 2025.
CLOSES = [(date(2025, 1, 24), 142.62), (date(2025, 1, 27), 118.42), (date(2025, 1, 28), 128.99)]


@pytest.fixture
def store(stores: Stores) -> MarketCacheStore:
    return stores.market_cache


async def test_a_range_never_fetched_is_a_miss(store: MarketCacheStore) -> None:
    assert await store.closes("NVDA", date(2025, 1, 24), date(2025, 1, 29)) is None


async def test_a_fetched_range_and_any_range_inside_it_are_answered_in_day_order(
    store: MarketCacheStore,
) -> None:
    await store.store_closes("NVDA", date(2025, 1, 24), date(2025, 1, 29), CLOSES[::-1], NOW)

    whole = await store.closes("NVDA", date(2025, 1, 24), date(2025, 1, 29))
    inside = await store.closes("NVDA", date(2025, 1, 25), date(2025, 1, 28))
    wider = await store.closes("NVDA", date(2025, 1, 23), date(2025, 1, 29))
    other = await store.closes("AVGO", date(2025, 1, 24), date(2025, 1, 29))

    assert whole == CLOSES
    assert inside == [(date(2025, 1, 27), 118.42)]
    assert wider is None and other is None


async def test_a_fetched_range_without_trading_days_is_empty_not_a_miss(
    store: MarketCacheStore,
) -> None:
    # Saturday 25 and Sunday 26 January 2025: fetched, and no session in them.
    await store.store_closes("NVDA", date(2025, 1, 25), date(2025, 1, 27), [], NOW)

    assert await store.closes("NVDA", date(2025, 1, 25), date(2025, 1, 27)) == []


async def test_the_latest_price_comes_back_as_the_same_instants_in_utc(
    store: MarketCacheStore,
) -> None:
    at = datetime(2025, 1, 27, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    await store.store_latest("NVDA", CachedLatest(118.42, at, NOW))
    await store.store_latest("NVDA", CachedLatest(118.52, at + timedelta(seconds=1.5), NOW))

    latest = await store.latest("NVDA")

    assert latest == CachedLatest(118.52, datetime(2025, 1, 27, 21, 0, 1, 500000, UTC), NOW)
    assert latest is not None and latest.at.utcoffset() == timedelta(0)
    assert await store.latest("AVGO") is None


async def test_an_unknown_ticker_is_remembered_with_when_it_was_checked(
    store: MarketCacheStore,
) -> None:
    assert await store.unknown_since("NVDAA") is None

    await store.store_unknown("NVDAA", NOW)

    assert await store.unknown_since("NVDAA") == NOW


async def test_a_chart_is_kept_by_its_key_and_only_the_newest_200_stay(
    store: MarketCacheStore,
) -> None:
    for number in range(201):
        await store.store_chart(f"chart-{number}", b"\x89PNG-%d" % number, NOW + number * HOUR)

    assert await store.chart("chart-0") is None
    assert await store.chart("chart-1") == b"\x89PNG-1"
    assert await store.chart("chart-200") == b"\x89PNG-200"


async def test_cached_closes_survive_a_restart(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        await stores.market_cache.store_closes(
            "NVDA", date(2025, 1, 24), date(2025, 1, 29), CLOSES, NOW
        )

    async with open_stores(store_url) as stores:
        found = await stores.market_cache.closes("NVDA", date(2025, 1, 24), date(2025, 1, 29))

    assert found == CLOSES
