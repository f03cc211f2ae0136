"""Shared fixtures: Services over an in-memory database, a fixed clock, and a network guard."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from handlers.model import Request, Services
from storage.db import open_database
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.polls import PollStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


class NetworkLeak(AssertionError):
    """A test tried to reach something other than this machine."""


def _is_loopback(host: Any) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def no_network() -> Iterator[None]:
    """Any connection or name lookup beyond 127.0.0.1 / ::1 fails the test that made it."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise NetworkLeak(f"test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise NetworkLeak(f"test tried to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


@pytest.fixture(scope="session")
def facts() -> Facts:
    return load_facts()


@pytest.fixture
async def services(facts: Facts) -> AsyncIterator[Services]:
    async with open_database(":memory:") as db:
        # Offline: no test reaches Yahoo unless it injects a session to the fake itself.
        market = MarketData(facts, db, mode="offline", clock=lambda: NOW)
        yield Services(facts=facts, db=db, polls=PollStore(db), clock=lambda: NOW, market=market)


def make_request(line: str = "", **fields: Any) -> Request:
    """A console request for "/command args", with any Request field overridden."""
    from bot.dispatch import parse_command

    parsed = parse_command(line) if line else None
    base: dict[str, Any] = {
        "platform": "console",
        "user_id": "alice",
        "chat_id": "chat-1",
        "command": parsed.name if parsed else "",
        "text": parsed.text if parsed else "",
    }
    base.update(fields)
    return Request(**base)
