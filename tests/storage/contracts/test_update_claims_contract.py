"""The update claims' contract: an update id acts once across workers, a failed handling is
handled again, a dead worker's claim lapses, and old claims are forgotten.

Written against the claim store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.backends import Stores
from storage.update_claims import CLAIM_LEASE, CLAIM_MEMORY, Claim, UpdateClaimStore

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
UPDATE = 918_273_645


@pytest.fixture
def claims(stores: Stores) -> UpdateClaimStore:
    return stores.update_claims


async def test_a_new_update_is_the_claimers(claims: UpdateClaimStore) -> None:
    assert await claims.claim(UPDATE, NOW) is Claim.MINE


async def test_an_update_in_hand_is_busy_for_another_worker(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)

    assert await claims.claim(UPDATE, NOW + timedelta(seconds=1)) is Claim.BUSY


async def test_a_finished_update_is_done_for_everyone_after(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)
    await claims.finish(UPDATE)

    assert await claims.claim(UPDATE, NOW + timedelta(seconds=1)) is Claim.DONE
    assert await claims.claim(UPDATE, NOW + CLAIM_LEASE * 2) is Claim.DONE


async def test_a_released_update_is_handled_again(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)
    await claims.release(UPDATE)

    assert await claims.claim(UPDATE, NOW + timedelta(seconds=1)) is Claim.MINE


async def test_a_finished_update_is_not_released(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)
    await claims.finish(UPDATE)
    await claims.release(UPDATE)

    assert await claims.claim(UPDATE, NOW + timedelta(seconds=1)) is Claim.DONE


async def test_a_dead_workers_claim_lapses_after_the_lease(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)

    assert await claims.claim(UPDATE, NOW + CLAIM_LEASE - timedelta(seconds=1)) is Claim.BUSY
    assert await claims.claim(UPDATE, NOW + CLAIM_LEASE + timedelta(seconds=1)) is Claim.MINE


async def test_of_many_workers_claiming_at_once_exactly_one_acts(
    claims: UpdateClaimStore,
) -> None:
    outcomes = await asyncio.gather(*(claims.claim(UPDATE, NOW) for _ in range(12)))

    assert outcomes.count(Claim.MINE) == 1
    assert outcomes.count(Claim.BUSY) == 11


async def test_claims_older_than_the_memory_are_forgotten(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)
    await claims.finish(UPDATE)

    await claims.prune(NOW + CLAIM_MEMORY + timedelta(seconds=1))

    assert await claims.claim(UPDATE, NOW + CLAIM_MEMORY + timedelta(seconds=2)) is Claim.MINE


async def test_claims_within_the_memory_are_kept(claims: UpdateClaimStore) -> None:
    await claims.claim(UPDATE, NOW)
    await claims.finish(UPDATE)

    await claims.prune(NOW + CLAIM_MEMORY - timedelta(seconds=1))

    assert await claims.claim(UPDATE, NOW + CLAIM_MEMORY) is Claim.DONE


async def test_updates_claimed_together_are_each_judged_on_their_own(
    claims: UpdateClaimStore,
) -> None:
    finished, in_hand = UPDATE + 1, UPDATE + 2
    await claims.claim(finished, NOW)
    await claims.finish(finished)
    await claims.claim(in_hand, NOW)
    new = [UPDATE + 10 + n for n in range(20)]

    outcomes = await asyncio.gather(
        *(claims.claim(update, NOW) for update in [*new, finished, in_hand, new[0]])
    )

    assert outcomes == [Claim.MINE] * 20 + [Claim.DONE, Claim.BUSY, Claim.BUSY]


async def test_updates_finished_together_are_all_done(claims: UpdateClaimStore) -> None:
    updates = [UPDATE + n for n in range(20)]
    for update in updates:
        await claims.claim(update, NOW)

    await asyncio.gather(*(claims.finish(update) for update in updates))

    later = NOW + CLAIM_LEASE * 2
    assert await asyncio.gather(*(claims.claim(u, later) for u in updates)) == [Claim.DONE] * 20
