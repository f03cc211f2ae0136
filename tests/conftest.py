"""Shared fixtures: Services over an in-memory database, a fixed clock, and a network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.services import build_services
from handlers.model import Request, Services
from storage.db import Database
from storage.facts import Facts, load_facts
from storage.yahoo import reset_yfinance_state
from tests.fakes.yahoo import Bar, FakeYahoo, running_fake_yahoo, series_from_dataset
from tests.pg import Cluster, PostgresUnavailable, started_cluster

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
_DEAD_PROXY = {
    **dict.fromkeys(
        ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"),
        "http://127.0.0.1:9",
    ),
    **dict.fromkeys(("NO_PROXY", "no_proxy"), "127.0.0.1,localhost,::1"),
}
_PROXY_VARIABLES = tuple(_DEAD_PROXY)


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
    # yfinance talks through libcurl, which opens its own sockets: a stray request of it (or
    # of a child process) goes to a proxy address where nothing listens, and fails.
    saved = {name: os.environ.get(name) for name in _PROXY_VARIABLES}
    os.environ.update(_DEAD_PROXY)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


@pytest.fixture(scope="session")
def yf_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # yfinance's cache location is process-wide and fixed at first use: one for the session.
    return tmp_path_factory.mktemp("yfinance-cache")


@pytest.fixture
def recent_bars() -> dict[str, list[Bar]]:
    """Prices after the embedded window that the fake Yahoo serves; test modules override it."""
    return {}


@pytest.fixture
def fake_yahoo(
    facts: Facts, recent_bars: dict[str, list[Bar]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FakeYahoo]:
    """Yahoo on 127.0.0.1 serving the dataset plus `recent_bars`, with yfinance's state reset."""
    reset_yfinance_state()
    certs = tmp_path_factory.getbasetemp() / "certs"
    certs.mkdir(exist_ok=True)
    with running_fake_yahoo(series_from_dataset(facts.bars, recent_bars), certs) as fake:
        yield fake
    reset_yfinance_state()


@pytest.fixture(scope="session")
def facts() -> Facts:
    return load_facts()


def offline_settings(database: str | Path = ":memory:") -> Settings:
    """The bot's settings for a test: the database given, offline prices, no machine's .env."""
    return Settings(
        # A str may be a postgresql:// URL; Settings reads it as it reads DSBOT_DATABASE.
        dsbot_database=database,
        dsbot_market="offline",
        dsbot_lang="en",
        dsbot_tz="UTC",
        _env_file=None,  # type: ignore[call-arg]
    )


def sqlite_database(services: Services) -> Database:
    """The SQLite database under the Services, for tests that look at the raw tables."""
    db = services.chat_settings.db
    assert isinstance(db, Database), "these Services are not on SQLite"
    return db


@pytest.fixture
async def services(facts: Facts) -> AsyncIterator[Services]:
    # Offline: no test reaches Yahoo unless it injects a session to the fake itself.
    async with build_services(offline_settings(), facts=facts, clock=lambda: NOW) as built:
        yield built


def dsbot_environment(**settings: str) -> dict[str, str]:
    """This process's environment for a dsbot child, without any bot setting of the machine's.

    A developer's own tokens or database must never reach a test's subprocess; `settings`
    (e.g. DSBOT_DATABASE=...) are added on top.
    """
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DISCORD_", "DSBOT_"))
    }
    return {**inherited, **settings}


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


def a_started_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server, destroyed after; a test needing it fails (never skips) when the
    machine cannot run one."""
    try:
        cluster = started_cluster()
    except PostgresUnavailable as error:
        pytest.fail(f"PostgreSQL could not start for the tests: {error}", pytrace=False)
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The tests' own PostgreSQL server, started once."""
    yield from a_started_cluster()


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A server of one test alone, for a test that stops and starts it."""
    yield from a_started_cluster()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh, empty PostgreSQL database of this test alone, dropped after it."""
    url = pg_cluster.fresh_database()
    yield url
    pg_cluster.drop_database(url)
