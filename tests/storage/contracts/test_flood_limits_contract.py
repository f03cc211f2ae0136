"""The flood limits' contract: a burst goes at once, then one message a spacing, per scope;
a message in two scopes waits for the stricter; many workers reserving at once keep the rate.

Written against the flood-limit store's public methods alone; conftest.py runs it on every
backend.
"""

from __future__ import annotations

import asyncio

import pytest

from storage.backends import Stores
from storage.flood_limits import FloodLimitStore, Rate

NOW = 1_737_990_000_000
BOT = Rate.per(30, 1)
GROUP = Rate.per(20, 60)


@pytest.fixture
def flood(stores: Stores) -> FloodLimitStore:
    return stores.flood_limits


async def test_a_groups_first_twenty_messages_go_at_once(flood: FloodLimitStore) -> None:
    times = [await flood.reserve({"chat:-1001": GROUP}, NOW) for _ in range(20)]

    assert times == [NOW] * 20


async def test_after_the_burst_a_group_gets_one_message_every_three_seconds(
    flood: FloodLimitStore,
) -> None:
    for _ in range(20):
        await flood.reserve({"chat:-1001": GROUP}, NOW)

    later = [await flood.reserve({"chat:-1001": GROUP}, NOW + 10) for _ in range(3)]

    assert later == [NOW + 3_000, NOW + 6_000, NOW + 9_000]


async def test_a_drained_bucket_allows_a_burst_again(flood: FloodLimitStore) -> None:
    for _ in range(25):
        await flood.reserve({"chat:-1001": GROUP}, NOW)

    an_hour_on = NOW + 3_600_000
    assert [await flood.reserve({"chat:-1001": GROUP}, an_hour_on) for _ in range(20)] == [
        an_hour_on
    ] * 20


async def test_each_group_has_its_own_bucket(flood: FloodLimitStore) -> None:
    for _ in range(20):
        await flood.reserve({"chat:-1001": GROUP}, NOW)

    assert await flood.reserve({"chat:-1002": GROUP}, NOW) == NOW


async def test_a_message_waits_for_the_stricter_of_its_scopes(flood: FloodLimitStore) -> None:
    for _ in range(30):
        await flood.reserve({"all": BOT}, NOW)

    assert await flood.reserve({"all": BOT, "chat:-1001": GROUP}, NOW) == NOW + 34


async def test_the_bots_limit_holds_in_every_second_across_many_workers(
    flood: FloodLimitStore,
) -> None:
    times = await asyncio.gather(*(flood.reserve({"all": BOT}, NOW) for _ in range(90)))

    # The bucket: 30 at once, then one every 33 1/3 ms, whoever reserved first.
    for place, time in enumerate(sorted(times)):
        assert time >= NOW + max(place - 29, 0) * 1000 / 30, place
    assert sorted(times)[29] == NOW
