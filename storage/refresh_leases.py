"""Refresh leases: which worker redraws a live tally message, shared through the database."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from storage.pruning import PruneSchedule
from storage.sql import Sql

# Leases whose time passed this long ago are deleted (the next vote takes a fresh one).
_FORGET_AFTER_MS = 86_400_000


class Lease(NamedTuple):
    """Granted: redraw at `at_ms`, then `finish`. Refused: the holder's lease lapses at `at_ms`."""

    granted: bool
    at_ms: int


class RefreshLeaseStore:
    """One row per message. One worker at a time holds a message's lease and redraws it; a
    vote that comes in meanwhile marks the message to be redrawn once more by that holder,
    which then reads data committed after the vote. So a message's edits never overlap, even
    across machines, and the last one shows the last vote. A holder that does not finish
    within `hold_ms` is taken to be dead: the next vote's worker takes the lease over."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self._pruning = PruneSchedule(every=timedelta(hours=1))

    async def take(self, key: str, holder: str, now_ms: int, hold_ms: int) -> Lease:
        """The lease of `key` for `holder`; refused while a live holder has it, which is then
        marked to redraw once more (reading the data after this vote)."""
        async with self.db.transaction() as tx:
            await tx.serialise(f"tally_refreshes:{key}")
            row = await tx.fetch_one(
                "SELECT due_at, holder, held_until FROM tally_refreshes WHERE message_key = ?",
                (key,),
            )
            if row is None:
                await tx.execute(
                    "INSERT INTO tally_refreshes (message_key, due_at, holder, held_until) "
                    "VALUES (?, ?, ?, ?)",
                    (key, now_ms, holder, now_ms + hold_ms),
                )
                lease = Lease(True, now_ms)
            elif row[1] is not None and row[1] != holder and int(row[2]) > now_ms:
                await tx.execute(
                    "UPDATE tally_refreshes SET again = 1 WHERE message_key = ?", (key,)
                )
                lease = Lease(False, int(row[2]))
            else:
                lease = Lease(True, max(now_ms, int(row[0])))
                await tx.execute(
                    "UPDATE tally_refreshes SET holder = ?, held_until = ?, again = 0 "
                    "WHERE message_key = ?",
                    (holder, lease.at_ms + hold_ms, key),
                )
        if self._pruning.due(now_ms / 1000):
            await self._prune(now_ms)
        return lease

    async def take_over(self, key: str, holder: str, now_ms: int, hold_ms: int) -> Lease | None:
        """After a refused `take`, at the time it named: the lease when its holder died
        holding it; refused while the holder lives on; None once it let go (having redrawn
        after every vote that asked it to)."""
        async with self.db.transaction() as tx:
            await tx.serialise(f"tally_refreshes:{key}")
            row = await tx.fetch_one(
                "SELECT holder, held_until FROM tally_refreshes WHERE message_key = ?", (key,)
            )
            if row is None or row[0] is None:
                return None
            if int(row[1]) > now_ms:
                return Lease(False, int(row[1]))
            await tx.execute(
                "UPDATE tally_refreshes SET holder = ?, held_until = ?, again = 0 "
                "WHERE message_key = ?",
                (holder, now_ms + hold_ms, key),
            )
        return Lease(True, now_ms)

    async def finish(
        self, key: str, holder: str, now_ms: int, interval_ms: int, hold_ms: int
    ) -> int | None:
        """`holder` has redrawn `key`: the time to redraw it again when a vote came in during
        the redraw (the lease still held), or None (the lease released, or lost to another)."""
        due = now_ms + interval_ms
        async with self.db.transaction() as tx:
            await tx.serialise(f"tally_refreshes:{key}")
            row = await tx.fetch_one(
                "SELECT holder, again FROM tally_refreshes WHERE message_key = ?", (key,)
            )
            if row is None or row[0] != holder:
                return None
            if int(row[1]):
                await tx.execute(
                    "UPDATE tally_refreshes SET due_at = ?, held_until = ?, again = 0 "
                    "WHERE message_key = ?",
                    (due, due + hold_ms, key),
                )
                return due
            await tx.execute(
                "UPDATE tally_refreshes SET due_at = ?, holder = NULL, held_until = 0 "
                "WHERE message_key = ?",
                (due, key),
            )
        return None

    async def shows_new(self, key: str, shown: str) -> bool:
        """Record that `key` is about to show `shown` (a hash); False when it already does."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "INSERT INTO tally_refreshes (message_key, due_at, shown) VALUES (?, 0, ?) "
                "ON CONFLICT (message_key) DO UPDATE SET shown = excluded.shown "
                "WHERE tally_refreshes.shown IS NULL OR tally_refreshes.shown <> excluded.shown",
                (key, shown),
            )
        return bool(changed)

    async def forget_shown(self, key: str) -> None:
        """After a failed edit: what the message shows is not known any more."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE tally_refreshes SET shown = NULL WHERE message_key = ?", (key,)
            )

    async def _prune(self, now_ms: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM tally_refreshes WHERE due_at < ? AND held_until < ?",
                (now_ms - _FORGET_AFTER_MS, now_ms),
            )
