"""The one seam where a database setting becomes the set of stores the bot runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.bot_state import BotStateStore
from storage.chat_settings import ChatSettingsStore
from storage.db import open_database
from storage.flood_limits import FloodLimitStore
from storage.market_cache import MarketCacheStore
from storage.poll_copies import PollCopyStore
from storage.polls import PollStore
from storage.refresh_leases import RefreshLeaseStore
from storage.sql import Sql
from storage.subscriptions import SubscriptionStore
from storage.update_claims import UpdateClaimStore
from storage.urls import ServerUrl, is_server_url


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store, all over the same database of either backend."""

    db: Sql
    polls: PollStore
    subscriptions: SubscriptionStore
    chat_settings: ChatSettingsStore
    bot_state: BotStateStore
    market_cache: MarketCacheStore
    poll_copies: PollCopyStore
    update_claims: UpdateClaimStore
    refresh_leases: RefreshLeaseStore
    flood_limits: FloodLimitStore


def stores_over(db: Sql) -> Stores:
    copies = PollCopyStore(db)
    return Stores(
        db=db,
        polls=PollStore(db, copies),
        subscriptions=SubscriptionStore(db),
        chat_settings=ChatSettingsStore(db),
        bot_state=BotStateStore(db),
        market_cache=MarketCacheStore(db),
        poll_copies=copies,
        update_claims=UpdateClaimStore(db),
        refresh_leases=RefreshLeaseStore(db),
        flood_limits=FloodLimitStore(db),
    )


def sqlite_path(url: str | Path) -> str | Path:
    """The file (or ":memory:") that `sqlite:///abs/path`, `sqlite:rel/path` or a path names."""
    if isinstance(url, Path):
        return url
    if url.startswith("sqlite:"):
        rest = url.removeprefix("sqlite:")
        return rest.removeprefix("//")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise ValueError(f"no storage backend for {scheme!r} URLs (SQLite paths or postgresql://)")
    return url


@asynccontextmanager
async def open_sql(url: str | Path | ServerUrl, *, migrate: bool = True) -> AsyncIterator[Sql]:
    """Open (creating and migrating) the database `url` names: a PostgreSQL URL or a file."""
    if is_server_url(url):
        # Imported here, so the SQLite path never loads asyncpg (start-up time).
        from storage.postgres import open_postgres

        server = url if isinstance(url, ServerUrl) else ServerUrl(str(url))
        async with open_postgres(server, migrate=migrate) as db:
            yield db
        return
    assert not isinstance(url, ServerUrl)
    async with open_database(sqlite_path(url), migrate=migrate) as sqlite:
        yield sqlite


@asynccontextmanager
async def open_stores(
    url: str | Path | ServerUrl, *, migrate: bool = True
) -> AsyncIterator[Stores]:
    """Open (creating and migrating) the database `url` names and hand out its stores."""
    async with open_sql(url, migrate=migrate) as db:
        stores = stores_over(db)
        if migrate:
            await stores.polls.prepare(datetime.now(UTC))
        yield stores
