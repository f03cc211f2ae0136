"""Building the long-lived Services once, for every front end and for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.config import Settings
from handlers.model import Services
from storage.db import open_database
from storage.facts import load_facts
from storage.polls import PollStore


def utc_now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def build_services(settings: Settings) -> AsyncIterator[Services]:
    """Load and check the dataset, open the database, and hand out the Services."""
    facts = load_facts()
    async with open_database(settings.dsbot_database) as db:
        yield Services(
            facts=facts,
            db=db,
            polls=PollStore(db),
            clock=utc_now,
            default_lang=settings.dsbot_lang,
            default_tz=ZoneInfo(settings.dsbot_tz),
        )
