"""The Telegram rate limiter in a fleet: each message waits for the send time the database
reserved for it, and this process's own limits take over when the database fails."""

from __future__ import annotations

from typing import Any

import pytest

from bot.telegram.limiter import PatientRateLimiter
from bot.telegram.tuning import TelegramTuning
from storage.backends import Stores
from storage.flood_limits import FloodLimitStore, Rate
from storage.sql import StorageUnavailable

NOW = 1_737_990_000.0


@pytest.fixture
def stores(sqlite_stores: Stores) -> Stores:
    return sqlite_stores


class Sleeps:
    def __init__(self) -> None:
        self.waited: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waited.append(seconds)


async def sent() -> bool:
    return True


async def send(limiter: PatientRateLimiter, chat_id: int) -> Any:
    return await limiter.process_request(
        sent, (), {}, "sendMessage", {"chat_id": chat_id, "text": "hi"}, None
    )


async def test_a_groups_messages_past_its_burst_wait_their_reserved_turn(
    stores: Stores,
) -> None:
    sleeps = Sleeps()
    limiter = PatientRateLimiter(
        TelegramTuning(), sleep=sleeps, shared=stores.flood_limits, wall=lambda: NOW
    )
    # Another worker has already sent the group's twenty messages of this minute.
    for _ in range(20):
        await stores.flood_limits.reserve({"chat:-1001": Rate.per(20, 60)}, int(NOW * 1000))

    assert await send(limiter, -1001) is True
    assert await send(limiter, -1001) is True

    assert sleeps.waited == [pytest.approx(3.0), pytest.approx(6.0)]


async def test_a_private_chat_counts_only_against_the_bots_own_limit(stores: Stores) -> None:
    sleeps = Sleeps()
    limiter = PatientRateLimiter(
        TelegramTuning(), sleep=sleeps, shared=stores.flood_limits, wall=lambda: NOW
    )
    for _ in range(20):
        await stores.flood_limits.reserve({"chat:-1001": Rate.per(20, 60)}, int(NOW * 1000))

    assert await send(limiter, 1001) is True

    assert sleeps.waited == []


class Unreachable(FloodLimitStore):
    async def reserve(self, scopes: dict[str, Rate], now_ms: int) -> int:
        raise StorageUnavailable("the database is restarting")


async def test_without_the_database_messages_still_go_within_this_processs_limits(
    stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = PatientRateLimiter(TelegramTuning(), shared=Unreachable(stores.db))

    assert await send(limiter, -1001) is True
    assert "flood limits are unavailable" in caplog.text
