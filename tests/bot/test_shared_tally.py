"""The fleet-wide tally refresher: several workers over one database redraw a message one at a
time, in order, the last redraw after the last vote; a holder that died is taken over."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.shared_tally import SharedTallyRefresher
from storage.backends import Stores
from storage.refresh_leases import Lease, RefreshLeaseStore
from storage.sql import StorageUnavailable

KEY = ("telegram", "-1001234567890", "17")


@pytest.fixture
def stores(sqlite_stores: Stores) -> Stores:
    return sqlite_stores


class Message:
    """A poll message: votes counted, redraws that read the count and take a while to land."""

    def __init__(self) -> None:
        self.votes = 0
        self.shown: list[int] = []
        self.in_flight = 0
        self.overlaps = 0

    async def redraw(self) -> None:
        self.in_flight += 1
        self.overlaps += self.in_flight > 1
        read = self.votes
        await asyncio.sleep(random.uniform(0.005, 0.03))
        self.shown.append(read)
        self.in_flight -= 1


def worker(stores: Stores, *, hold: float = 30.0) -> SharedTallyRefresher:
    return SharedTallyRefresher(stores.refresh_leases, interval=0.05, hold=hold)


async def test_three_workers_redraw_one_at_a_time_and_end_on_the_last_vote(
    stores: Stores,
) -> None:
    workers = [worker(stores) for _ in range(3)]
    message = Message()

    for vote in range(150):
        message.votes += 1
        workers[vote % 3].request(KEY, message.redraw)
        await asyncio.sleep(random.uniform(0, 0.004))
    await asyncio.gather(*(w.drain() for w in workers))

    assert message.overlaps == 0
    assert message.shown[-1] == 150
    assert message.shown == sorted(message.shown)
    # Throttled: far fewer redraws than votes.
    assert len(message.shown) < 40


async def test_a_vote_on_another_worker_during_a_redraw_is_shown_by_the_holder(
    stores: Stores,
) -> None:
    holder, other = worker(stores), worker(stores)
    message = Message()
    message.votes = 1
    holder.request(KEY, message.redraw)
    while not message.in_flight:  # the holder's redraw has read 1 and is on its way
        await asyncio.sleep(0.001)

    message.votes = 2
    other.request(KEY, message.redraw)
    await asyncio.gather(holder.drain(), other.drain())

    assert message.shown == [1, 2]


async def test_a_holder_that_died_mid_redraw_is_taken_over_when_its_lease_lapses(
    stores: Stores,
) -> None:
    dying, survivor = worker(stores, hold=0.3), worker(stores, hold=0.3)
    message = Message()
    hung = asyncio.Event()

    async def never_lands() -> None:
        await hung.wait()

    message.votes = 1
    dying.request(KEY, never_lands)
    await asyncio.sleep(0.05)
    message.votes = 2
    survivor.request(KEY, message.redraw)
    await asyncio.sleep(0.05)
    assert message.shown == []
    for task in list(dying._tasks.values()):  # the process is killed: nothing more of it runs
        task.cancel()

    for _ in range(200):
        if message.shown:
            break
        await asyncio.sleep(0.025)
    await survivor.drain()

    assert message.shown == [2]


async def test_a_worker_shutting_down_does_not_wait_for_another_holder(stores: Stores) -> None:
    holder, leaving = worker(stores), worker(stores)
    release = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    holder.request(KEY, slow)
    await asyncio.sleep(0.05)
    leaving.request(KEY, Message().redraw)
    await asyncio.sleep(0.05)

    await asyncio.wait_for(leaving.drain(), timeout=1)

    release.set()
    await holder.drain()


class UnreachableLeases(RefreshLeaseStore):
    async def take(self, key: str, holder: str, now_ms: int, hold_ms: int) -> Lease:
        raise StorageUnavailable("the database is restarting")


async def test_without_its_database_a_worker_still_redraws(stores: Stores) -> None:
    refresher = SharedTallyRefresher(UnreachableLeases(stores.db), interval=0.05)
    message = Message()

    message.votes = 1
    refresher.request(KEY, message.redraw)
    await refresher.drain()

    assert message.shown == [1]
