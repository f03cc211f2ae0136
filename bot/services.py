"""Building the long-lived Services once, for the command line, the tests and the benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from handlers.commands import Registry
from handlers.model import Services
from handlers.registry import REGISTRY
from storage.backends import open_stores
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.market_cache import MarketCacheStore

Clock = Callable[[], datetime]
# Builds the market data service over the cache store the backend opened.
MarketFactory = Callable[[Facts, MarketCacheStore], MarketData]


def utc_now() -> datetime:
    return datetime.now(UTC)


def market_data(
    settings: Settings, facts: Facts, cache: MarketCacheStore, clock: Clock = utc_now
) -> MarketData:
    """yfinance's caches go next to the database file (the working directory for a database
    server), never into a home directory."""
    location = settings.dsbot_database
    data_dir = location.expanduser().resolve().parent if isinstance(location, Path) else Path.cwd()
    return MarketData(
        facts,
        cache,
        mode=settings.dsbot_market,
        clock=clock,
        ttl=settings.dsbot_market_ttl,
        cache_dir=data_dir / "yfinance-cache",
    )


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    facts: Facts | None = None,
    clock: Clock = utc_now,
    market: MarketFactory | None = None,
    registry: Registry = REGISTRY,
) -> AsyncIterator[Services]:
    """Load and check the dataset, open the stores the settings name, and hand out Services.

    Tests and benchmarks override what they must: the dataset already loaded, a fixed clock,
    a market over a fake Yahoo, another registry.
    """
    facts = facts if facts is not None else load_facts()
    async with open_stores(settings.dsbot_database) as stores:
        built = market(facts, stores.market_cache) if market is not None else None
        with closing(built or market_data(settings, facts, stores.market_cache, clock)) as data:
            yield Services(
                facts=facts,
                registry=registry,
                polls=stores.polls,
                subscriptions=stores.subscriptions,
                chat_settings=stores.chat_settings,
                bot_state=stores.bot_state,
                market_cache=stores.market_cache,
                clock=clock,
                market=data,
                poll_copies=stores.poll_copies,
                default_lang=settings.dsbot_lang,
                default_tz=ZoneInfo(settings.dsbot_tz),
                update_claims=stores.update_claims,
                refresh_leases=stores.refresh_leases,
                flood_limits=stores.flood_limits,
            )
