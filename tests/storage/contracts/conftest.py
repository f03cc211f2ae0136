"""The backends every store contract runs on: add one to BACKENDS and every suite covers it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.backends import Stores, open_stores

BACKENDS = ["sqlite", "postgresql"]


def backend_url(backend: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of `backend` for one test."""
    if backend == "sqlite":
        return f"sqlite:{folder / 'contract.sqlite3'}"
    if backend == "postgresql":
        # Asked for here, so a run of the SQLite cases alone never starts a server.
        return str(request.getfixturevalue("pg_url"))
    raise ValueError(f"no contract set-up for the backend {backend!r}")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where this test's database lives; opening it again is a restart of the bot."""
    return backend_url(str(request.param), tmp_path, request)


@pytest.fixture
async def stores(store_url: str) -> AsyncIterator[Stores]:
    async with open_stores(store_url) as opened:
        yield opened
