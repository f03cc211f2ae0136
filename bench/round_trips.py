"""Counting PostgreSQL round trips on the client: every message exchange asyncpg waits on.

Part of bench.webhook_workers. asyncpg's Connection sends everything through its protocol
object, one awaited call per exchange with the server (a simple query such as BEGIN, COMMIT
or the pool's reset on release; a prepare on a statement-cache miss; a bind-and-execute; an
executemany, pipelined, waited on once). While `counting()` is active, each connection made
gets a protocol wrapped to count those calls, by kind, so no server-side extension
(pg_stat_statements) is needed and nothing is counted twice.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from asyncpg.connection import Connection

# The protocol calls that each wait on one answer of the server.
_EXCHANGES = (
    "query",
    "prepare",
    "bind_execute",
    "bind_execute_many",
    "bind",
    "execute",
    "close_statement",
    "copy_in",
    "copy_out",
)


class _CountingProtocol:
    def __init__(self, inner: Any, counts: Counter[str]) -> None:
        self._inner = inner
        self._counts = counts

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if name not in _EXCHANGES:
            return found
        counts = self._counts

        def counted(*args: Any, **kwargs: Any) -> Any:
            kind = name
            if name == "query" and args:
                first = (str(args[0]).split(None, 1) or [""])[0].rstrip(";").upper()
                kind = {"BEGIN": "begin", "COMMIT": "commit", "ROLLBACK": "rollback"}.get(
                    first, "reset" if "RESET ALL" in str(args[0]) else "query"
                )
            counts[kind] += 1
            return found(*args, **kwargs)

        return counted


@contextlib.contextmanager
def counting() -> Iterator[Counter[str]]:
    """Round trips of every asyncpg connection opened meanwhile, by kind."""
    counts: Counter[str] = Counter()
    original: Callable[..., None] = Connection.__init__

    def init(self: Connection[Any], protocol: Any, *args: Any, **kwargs: Any) -> None:
        original(self, _CountingProtocol(protocol, counts), *args, **kwargs)

    Connection.__init__ = init  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Connection.__init__ = original  # type: ignore[method-assign]


def total(counts: Counter[str]) -> int:
    return sum(counts.values())
