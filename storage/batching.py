"""Work that arrives together written together: one statement for a burst, not one each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Value = TypeVar("Value")
Result = TypeVar("Result")


class Batched(Generic[Item, Result]):
    """Calls `write` with every item submitted while the previous call ran, one call at a
    time; each submitter gets its own item's result once the call has returned.

    `write` returns one result per item, in order, or raises, and then every item of that
    call fails with the error. The writer is a task of its own, so a submitter who gives up
    (cancelled) cannot strand the others of its batch.
    """

    def __init__(self, write: Callable[[list[Item]], Awaitable[list[Result]]]) -> None:
        self._write = write
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        return await future

    async def _write_batches(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                results = await self._write([item for item, _ in batch])
            except BaseException as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(error, Exception):
                    raise
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)


def chunked(items: Sequence[Value], largest: int) -> Iterator[Sequence[Value]]:
    """`items` in chunks of `largest`, then halving sizes down to 1 (`largest` a power of
    two): a statement per chunk, and only a few statement texts, each prepared once per
    connection, instead of one per batch size (asyncpg caches 100 per connection)."""
    while items:
        size = min(1 << (len(items).bit_length() - 1), largest)
        yield items[:size]
        items = items[size:]
