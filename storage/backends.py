"""The one seam where a database URL becomes the set of stores the bot runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from storage.bot_state import SqliteBotState
from storage.chat_settings import SqliteChatSettings
from storage.contracts import (
    BotStateStore,
    ChatSettingsStore,
    MarketCacheStore,
    PollCopyStore,
    PollStore,
    SubscriptionStore,
)
from storage.db import Database, open_database
from storage.market_cache import SqliteMarketCache
from storage.poll_copies import SqlitePollCopies
from storage.polls import SqlitePollStore
from storage.subscriptions import SqliteSubscriptions


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store of one backend, all over the same database."""

    polls: PollStore
    subscriptions: SubscriptionStore
    chat_settings: ChatSettingsStore
    bot_state: BotStateStore
    market_cache: MarketCacheStore
    poll_copies: PollCopyStore


def sqlite_stores(db: Database) -> Stores:
    return Stores(
        polls=SqlitePollStore(db),
        subscriptions=SqliteSubscriptions(db),
        chat_settings=SqliteChatSettings(db),
        bot_state=SqliteBotState(db),
        market_cache=SqliteMarketCache(db),
        poll_copies=SqlitePollCopies(db),
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
        raise ValueError(f"no storage backend for {scheme!r} URLs (only SQLite for now)")
    return url


@asynccontextmanager
async def open_stores(url: str | Path, *, migrate: bool = True) -> AsyncIterator[Stores]:
    """Open (creating and migrating) the database `url` names and hand out its stores."""
    async with open_database(sqlite_path(url), migrate=migrate) as db:
        yield sqlite_stores(db)
