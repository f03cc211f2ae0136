"""Refresh leases: which process redraws a live tally message next, shared through the database."""

from __future__ import annotations

from storage.sql import Sql

# Leases whose time passed this long ago are deleted (the next vote takes a fresh one).
_FORGET_AFTER_MS = 86_400_000
_PRUNE_EVERY_MS = 3_600_000


class RefreshLeaseStore:
    """One row per message: when its next refresh is due. A lease is free once its time has
    come; taking it sets the next refresh an interval after the last one (or now)."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self._pruned_at = 0

    async def take(self, key: str, now_ms: int, interval_ms: int) -> int | None:
        """The time (ms) this process must refresh `key` at, or None when another process's
        refresh is still to come (it reads the data after now, so it shows this vote too)."""
        async with self.db.transaction() as tx:
            taken = await tx.execute(
                "INSERT INTO tally_refreshes (message_key, due_at) VALUES (?, ?) "
                "ON CONFLICT (message_key) DO UPDATE SET due_at = CASE "
                "WHEN tally_refreshes.due_at + ? > ? THEN tally_refreshes.due_at + ? ELSE ? END "
                "WHERE tally_refreshes.due_at <= ?",
                (key, now_ms, interval_ms, now_ms, interval_ms, now_ms, now_ms),
            )
            if not taken:
                return None
            row = await tx.fetch_one(
                "SELECT due_at FROM tally_refreshes WHERE message_key = ?", (key,)
            )
        if now_ms - self._pruned_at > _PRUNE_EVERY_MS:
            self._pruned_at = now_ms
            async with self.db.transaction() as tx:
                await tx.execute(
                    "DELETE FROM tally_refreshes WHERE due_at < ?", (now_ms - _FORGET_AFTER_MS,)
                )
        return int(row[0]) if row is not None else now_ms

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
