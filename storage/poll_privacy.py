"""Who voted, kept no more than one vote per person needs: keyed hashes instead of user ids.

A vote row is keyed by HMAC-SHA256(secret, "poll|platform|user id") in hex, where the secret
is generated once per installation and kept in bot_state. The same person's rows in two
polls share nothing, and the table alone never tells who voted. The secret's first
creation also rewrites the rows written before it existed (raw ids), in the same
transaction: no row can be keyed by an id once a secret exists.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from storage.sql import Tx
from storage.timestamps import to_db

SECRET_KEY = "poll_voter_secret"
SECRET_BYTES = 32


def voter_key(secret: bytes, poll_id: int, platform: str, user_id: str) -> str:
    message = f"{poll_id}|{platform}|{user_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


async def voter_secret(tx: Tx, now: datetime) -> bytes:
    """The installation's secret, created (and the older rows rewritten) on first use.

    Runs inside the caller's write transaction, serialised with every other process's
    (PostgreSQL's transactions may run side by side), so only one can create it.
    """
    row = await tx.fetch_one("SELECT value FROM bot_state WHERE key = ?", (SECRET_KEY,))
    if row is None:
        await tx.serialise(SECRET_KEY)
        row = await tx.fetch_one("SELECT value FROM bot_state WHERE key = ?", (SECRET_KEY,))
    if row is not None:
        return bytes.fromhex(str(row[0]))
    secret = secrets.token_bytes(SECRET_BYTES)
    await tx.execute(
        "INSERT INTO bot_state (key, value, updated_at) VALUES (?, ?, ?)",
        (SECRET_KEY, secret.hex(), to_db(now)),
    )
    raw = await tx.fetch_all("SELECT poll_id, platform, user_id FROM poll_votes")
    await tx.executemany(
        "UPDATE poll_votes SET user_id = ?, voter_name = NULL "
        "WHERE poll_id = ? AND platform = ? AND user_id = ?",
        [
            (voter_key(secret, int(poll_id), str(platform), str(user)), poll_id, platform, user)
            for poll_id, platform, user in raw
        ],
    )
    return secret
