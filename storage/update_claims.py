"""Claims on Telegram update ids, so that an update re-sent to any worker acts once."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from storage.pruning import PruneSchedule
from storage.sql import Sql
from storage.timestamps import to_db

# Telegram keeps an unanswered update for a day; claims are remembered twice as long.
CLAIM_MEMORY = timedelta(days=2)
# A worker that holds a claim this long without finishing is taken to be dead: another worker
# may take the update over. Far above any command's handling time.
CLAIM_LEASE = timedelta(seconds=60)


class Claim(enum.Enum):
    MINE = "mine"  # act on it, then finish() or release()
    DONE = "done"  # acted on before: answer it and do nothing
    BUSY = "busy"  # another worker is acting on it now: ask Telegram to send it again later


class UpdateClaimStore:
    """Claim-then-act: a claim is taken in its own transaction before the update is handled,
    marked done after, and released when handling failed, so the re-sent update is handled
    again. A worker that dies between its command's effect and finish() leaves a claim that
    lapses after CLAIM_LEASE, and the update is then handled a second time: the window is the
    handling time of one command."""

    def __init__(
        self, db: Sql, *, lease: timedelta = CLAIM_LEASE, memory: timedelta = CLAIM_MEMORY
    ) -> None:
        self.db = db
        self.lease = lease
        self.memory = memory
        self._pruning = PruneSchedule(every=timedelta(hours=1))

    async def claim(self, update_id: int, now: datetime | None = None) -> Claim:
        now = now or datetime.now(UTC)
        # One statement, so a new update costs one round trip: taken when new, or when its
        # claim lapsed (that worker died).
        taken = await self.db.execute_alone(
            "INSERT INTO telegram_updates (update_id, state, claimed_at) "
            "VALUES (?, 'handling', ?) ON CONFLICT (update_id) DO UPDATE "
            "SET claimed_at = excluded.claimed_at "
            "WHERE telegram_updates.state = 'handling' AND telegram_updates.claimed_at < ?",
            (update_id, to_db(now), to_db(now - self.lease)),
        )
        if taken:
            claim = Claim.MINE
        else:
            rows = await self.db.fetch_all(
                "SELECT state FROM telegram_updates WHERE update_id = ?", (update_id,)
            )
            claim = Claim.BUSY if rows and rows[0][0] == "handling" else Claim.DONE
        if self._pruning.due(now.timestamp()):
            await self.prune(now)
        return claim

    async def finish(self, update_id: int) -> None:
        await self.db.execute_alone(
            "UPDATE telegram_updates SET state = 'done' WHERE update_id = ?", (update_id,)
        )

    async def release(self, update_id: int) -> None:
        """Give a claim back after a failed handling, so the re-sent update is handled."""
        await self.db.execute_alone(
            "DELETE FROM telegram_updates WHERE update_id = ? AND state = 'handling'",
            (update_id,),
        )

    async def prune(self, now: datetime) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "DELETE FROM telegram_updates WHERE claimed_at < ?", (to_db(now - self.memory),)
            )
