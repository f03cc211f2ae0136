"""What every front end's hostile-input suite checks the same way: database rows, logs, polls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.dispatch import dispatch
from handlers.model import Services
from storage.poll_model import Platform
from tests.conftest import make_request, sqlite_database
from tests.storage.vote_keys import votes_by_user

# Tables a hostile request may still write, and why: the market cache is refilled from the
# embedded snapshot by any /stocks, and recap_requests is the per-chat cooldown of /recap now.
CACHE_TABLES = frozenset(
    {"market_closes", "market_spans", "market_latest", "market_unknown", "market_charts"}
    | {"recap_requests"}
)


@dataclass(frozen=True)
class TableSnapshot:
    rows: dict[str, list[tuple[object, ...]]]

    def changes_since(self, before: TableSnapshot) -> dict[str, str]:
        """Tables (other than caches) whose rows differ, with a short account of how."""
        changed = {}
        for table in sorted(set(self.rows) | set(before.rows)):
            if table in CACHE_TABLES:
                continue
            old, new = set(before.rows.get(table, [])), set(self.rows.get(table, []))
            if old != new:
                changed[table] = (
                    f"+{sorted(map(str, new - old))[:3]} -{sorted(map(str, old - new))[:3]}"
                )
        return changed


async def snapshot_tables(services: Services) -> TableSnapshot:
    """Every row of every table, for comparing before and after a run."""
    connection = sqlite_database(services).connection
    names = await connection.execute_fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    rows = {}
    for (name,) in names:
        rows[str(name)] = [
            tuple(row) for row in await connection.execute_fetchall(f'SELECT * FROM "{name}"')
        ]
    return TableSnapshot(rows)


def error_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@dataclass(frozen=True)
class PollFixtures:
    other_chat: int  # an open poll of a chat that is not the one under test
    closed: int  # a closed poll of the chat under test


async def poll_fixtures(
    services: Services, platform: Platform, chat_of: Callable[[int], str]
) -> PollFixtures:
    """An open poll in chat_of(0); a closed poll in chat_of(1), created and closed there."""
    made = []
    for number in (0, 1):
        request = make_request(
            "/poll new Which lab? | DeepSeek | OpenAI",
            platform=platform,
            chat_id=chat_of(number),
            chat_kind="group",
            is_admin=True,
            user_id="moderator",
        )
        reply = await dispatch(request, services)
        assert not reply.is_error, reply.plain_text()
        poll, _ = await services.polls.current(platform, chat_of(number), services.clock())
        made.append(poll.id)
    closing = make_request(
        f"/poll close {made[1]}",
        platform=platform,
        chat_id=chat_of(1),
        chat_kind="group",
        is_admin=True,
        user_id="moderator",
    )
    assert not (await dispatch(closing, services)).is_error
    return PollFixtures(other_chat=made[0], closed=made[1])


async def votes_of(services: Services, platform: str, user_id: str) -> list[tuple[object, ...]]:
    """(poll, choices) of every vote the user holds, found by the documented voter keys."""
    connection = sqlite_database(services).connection
    found: list[tuple[object, ...]] = []
    for (poll_id,) in await connection.execute_fetchall("SELECT id FROM polls ORDER BY id"):
        votes = await votes_by_user(connection, int(poll_id), platform, [user_id])
        if user_id in votes:
            found.append((int(poll_id), votes[user_id]))
    return found
