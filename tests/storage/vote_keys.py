"""Reading who a stored vote belongs to, the way docs/polls.md says votes are keyed.

The store keeps no user id: a vote row's user_id is HMAC-SHA256 of "poll|platform|user id"
under the installation's secret in bot_state. A test that knows which users voted maps
the rows back to them here, independently of the store's own code.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import aiosqlite

SECRET_KEY = "poll_voter_secret"


async def installation_secret(connection: aiosqlite.Connection) -> bytes:
    rows = list(
        await connection.execute_fetchall(
            "SELECT value FROM bot_state WHERE key = ?", (SECRET_KEY,)
        )
    )
    assert rows, "no voter secret in bot_state"
    return bytes.fromhex(str(rows[0][0]))


def documented_key(secret: bytes, poll_id: int, platform: str, user: str) -> str:
    return hmac.new(secret, f"{poll_id}|{platform}|{user}".encode(), hashlib.sha256).hexdigest()


async def votes_by_user(
    connection: aiosqlite.Connection,
    poll_id: int,
    platform: str,
    users: Iterable[str] = (),
) -> dict[str, int]:
    """{user: choices} for the rows of `users`; any other row stays under its stored key."""
    rows = list(
        await connection.execute_fetchall(
            "SELECT user_id, choices FROM poll_votes WHERE poll_id = ? AND platform = ?",
            (poll_id, platform),
        )
    )
    if not rows:
        return {}
    secret = await installation_secret(connection)
    owner = {documented_key(secret, poll_id, platform, user): user for user in users}
    return {owner.get(str(key), str(key)): int(choices) for key, choices in rows}
