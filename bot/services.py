"""Building the long-lived Services once, for every front end and for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Settings
from handlers.cooldowns import Cooldowns
from handlers.model import Services
from handlers.registry import REGISTRY
from storage.db import Database, open_database
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.polls import PollStore


def utc_now() -> datetime:
    return datetime.now(UTC)


def market_data(settings: Settings, facts: Facts, db: Database) -> MarketData:
    """yfinance's caches go next to the database, never into a home directory."""
    data_dir = Path(settings.dsbot_database).expanduser().resolve().parent
    return MarketData(
        facts,
        db,
        mode=settings.dsbot_market,
        clock=utc_now,
        ttl=settings.dsbot_market_ttl,
        cache_dir=data_dir / "yfinance-cache",
    )


@asynccontextmanager
async def build_services(settings: Settings) -> AsyncIterator[Services]:
    """Load and check the dataset, open the database, and hand out the Services."""
    facts = load_facts()
    async with open_database(settings.dsbot_database) as db:
        with closing(market_data(settings, facts, db)) as market:
            yield Services(
                facts=facts,
                registry=REGISTRY,
                db=db,
                polls=PollStore(db),
                clock=utc_now,
                market=market,
                default_lang=settings.dsbot_lang,
                default_tz=ZoneInfo(settings.dsbot_tz),
                cooldowns=Cooldowns(),
            )
