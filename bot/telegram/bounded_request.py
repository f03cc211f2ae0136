"""The bot's requests to the Bot API, at most a fixed number in flight at once.

httpcore's connection pool rescans its connections, and polls each idle one's socket, for
each request queued in it (encode/httpcore#1035). Measured by bench.webhook_workers (long
polling over HTTP, bursts of 100 updates), CPU per update: about 13 ms with
python-telegram-bot's default pool of 256 connections, 3.2-3.7 ms with a pool of 16, and
2.5-3.0 ms when, as here, calls also wait in a plain semaphore so that none queues inside
the pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.request import HTTPXRequest


class BoundedRequest(HTTPXRequest):
    """HTTPXRequest with `connections` connections and no more calls in flight than that."""

    def __init__(self, connections: int) -> None:
        # A call waits for its turn in the semaphore, not for a free connection in the pool.
        super().__init__(connection_pool_size=connections, pool_timeout=None)
        self._turns = asyncio.Semaphore(connections)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        async with self._turns:
            return await super().do_request(*args, **kwargs)
