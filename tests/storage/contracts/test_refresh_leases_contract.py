"""The refresh leases' contract: one holder a message, a vote during its redraw makes it redraw
once more, a dead holder's lease is taken over, and one message's lease is not another's.

Written against the lease store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

import asyncio

import pytest

from storage.backends import Stores
from storage.refresh_leases import Lease, RefreshLeaseStore

KEY = "telegram:-1001234567890:17"
NOW = 1_737_990_000_000
INTERVAL = 1_000
HOLD = 30_000


@pytest.fixture
def leases(stores: Stores) -> RefreshLeaseStore:
    return stores.refresh_leases


async def test_the_first_worker_gets_the_lease_at_once(leases: RefreshLeaseStore) -> None:
    assert await leases.take(KEY, "a", NOW, HOLD) == Lease(True, NOW)


async def test_a_second_worker_is_refused_until_the_holders_lease_lapses(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)

    assert await leases.take(KEY, "b", NOW + 5, HOLD) == Lease(False, NOW + HOLD)


async def test_a_holder_that_nobody_asked_again_lets_go_after_its_redraw(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)

    assert await leases.finish(KEY, "a", NOW + 200, INTERVAL, HOLD) is None
    # The next redraw waits out the interval from the end of the last one.
    assert await leases.take(KEY, "b", NOW + 300, HOLD) == Lease(True, NOW + 200 + INTERVAL)


async def test_a_vote_during_the_redraw_makes_the_holder_redraw_once_more(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)
    await leases.take(KEY, "b", NOW + 50, HOLD)
    await leases.take(KEY, "c", NOW + 60, HOLD)

    assert await leases.finish(KEY, "a", NOW + 200, INTERVAL, HOLD) == NOW + 200 + INTERVAL
    assert await leases.finish(KEY, "a", NOW + 1_300, INTERVAL, HOLD) is None


async def test_the_holder_of_a_repeated_redraw_keeps_the_lease_meanwhile(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)
    await leases.take(KEY, "b", NOW + 50, HOLD)
    again = await leases.finish(KEY, "a", NOW + 200, INTERVAL, HOLD)
    assert again is not None

    refused = await leases.take(KEY, "b", NOW + 300, HOLD)

    assert refused == Lease(False, again + HOLD)


async def test_a_lapsed_holder_is_taken_over_by_a_watcher(leases: RefreshLeaseStore) -> None:
    await leases.take(KEY, "a", NOW, HOLD)
    refused = await leases.take(KEY, "b", NOW + 10, HOLD)

    assert await leases.take_over(KEY, "b", refused.at_ms - 1, HOLD) == Lease(False, NOW + HOLD)
    assert await leases.take_over(KEY, "b", refused.at_ms, HOLD) == Lease(True, refused.at_ms)
    # The dead holder's late finish changes nothing: the lease is b's now.
    assert await leases.finish(KEY, "a", refused.at_ms + 1, INTERVAL, HOLD) is None
    assert await leases.take(KEY, "c", refused.at_ms + 2, HOLD) == Lease(
        False, refused.at_ms + HOLD
    )


async def test_a_watcher_finds_nothing_to_take_over_once_the_holder_let_go(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)
    await leases.take(KEY, "b", NOW + 10, HOLD)
    await leases.finish(KEY, "a", NOW + 100, INTERVAL, HOLD)
    await leases.finish(KEY, "a", NOW + 1_200, INTERVAL, HOLD)

    assert await leases.take_over(KEY, "b", NOW + HOLD, HOLD) is None


async def test_a_worker_may_take_a_lapsed_lease_by_voting(leases: RefreshLeaseStore) -> None:
    await leases.take(KEY, "a", NOW, HOLD)

    assert await leases.take(KEY, "b", NOW + HOLD, HOLD) == Lease(True, NOW + HOLD)


async def test_each_message_has_its_own_lease(leases: RefreshLeaseStore) -> None:
    await leases.take(KEY, "a", NOW, HOLD)

    assert await leases.take("discord:1100:1200", "b", NOW, HOLD) == Lease(True, NOW)


async def test_of_many_workers_taking_at_once_exactly_one_holds(
    leases: RefreshLeaseStore,
) -> None:
    taken = await asyncio.gather(*(leases.take(KEY, f"w{n}", NOW, HOLD) for n in range(12)))

    assert sum(lease.granted for lease in taken) == 1


async def test_what_a_message_shows_is_recorded_once(leases: RefreshLeaseStore) -> None:
    assert await leases.shows_new(KEY, "hash-1") is True
    assert await leases.shows_new(KEY, "hash-1") is False
    assert await leases.shows_new(KEY, "hash-2") is True
    await leases.forget_shown(KEY)
    assert await leases.shows_new(KEY, "hash-2") is True


async def test_what_a_message_shows_does_not_disturb_its_lease(
    leases: RefreshLeaseStore,
) -> None:
    await leases.take(KEY, "a", NOW, HOLD)
    await leases.shows_new(KEY, "hash-1")

    assert await leases.take(KEY, "b", NOW + 1, HOLD) == Lease(False, NOW + HOLD)
