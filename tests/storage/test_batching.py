"""Batched: what arrives while a batch is written goes in the next one, and results and
errors reach each submitter."""

from __future__ import annotations

import asyncio

import pytest

from storage.batching import Batched, chunked


class Writer:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def write(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0.01)  # a statement's round trip
        if self.fail_on in items:
            raise RuntimeError("the statement failed")
        return [item * 10 for item in items]


async def test_items_submitted_together_are_written_in_one_call() -> None:
    writer = Writer()
    batched = Batched(writer.write)

    results = await asyncio.gather(*(batched.submit(n) for n in range(50)))

    assert results == [n * 10 for n in range(50)]
    assert writer.batches == [list(range(50))]


async def test_items_arriving_during_a_write_go_in_the_next_call() -> None:
    writer = Writer()
    batched = Batched(writer.write)
    first = asyncio.ensure_future(batched.submit(1))
    await asyncio.sleep(0.001)  # the first call is under way

    later = await asyncio.gather(batched.submit(2), batched.submit(3))

    assert (await first, later) == (10, [20, 30])
    assert writer.batches == [[1], [2, 3]]


async def test_a_failed_call_fails_its_batch_alone() -> None:
    writer = Writer(fail_on=2)
    batched = Batched(writer.write)

    outcomes = await asyncio.gather(batched.submit(1), batched.submit(2), return_exceptions=True)
    after = await batched.submit(3)

    assert [type(outcome) for outcome in outcomes] == [RuntimeError, RuntimeError]
    assert after == 30


async def test_a_submitter_who_gives_up_does_not_strand_the_others() -> None:
    writer = Writer()
    batched = Batched(writer.write)
    leaving = asyncio.ensure_future(batched.submit(1))
    staying = asyncio.ensure_future(batched.submit(2))
    await asyncio.sleep(0.001)

    leaving.cancel()

    assert await staying == 20
    with pytest.raises(asyncio.CancelledError):
        await leaving


def test_chunks_are_the_largest_size_then_halving_sizes_and_keep_every_item() -> None:
    items = list(range(1000))

    chunks = list(chunked(items, 256))

    assert [len(chunk) for chunk in chunks] == [256, 256, 256, 128, 64, 32, 8]
    assert [item for chunk in chunks for item in chunk] == items
    assert list(chunked([], 256)) == []
