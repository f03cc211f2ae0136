"""Claims on Telegram update ids, so that an update re-sent to any worker acts once."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from storage.batching import Batched, chunked
from storage.pruning import PruneSchedule
from storage.sql import Sql, placeholder_list
from storage.timestamps import to_db

# Telegram keeps an unanswered update for a day; claims are remembered twice as long.
CLAIM_MEMORY = timedelta(days=2)
# A worker that holds a claim this long without finishing is taken to be dead: another worker
# may take the update over. Far above any command's handling time.
CLAIM_LEASE = timedelta(seconds=60)
# Update ids per statement: a burst's claims in a few statements of a few shapes.
CLAIM_CHUNK = 64


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
        # Claims, and their ends, arriving together are written together (a statement per
        # chunk of up to 64): a burst of commands costs a few round trips, not two each.
        self._claims: Batched[tuple[int, datetime], Claim] = Batched(self._claim_all)
        self._finishes: Batched[int, None] = Batched(self._finish_all)

    async def claim(self, update_id: int, now: datetime | None = None) -> Claim:
        """MINE when the update is new, or its claim lapsed (that worker died)."""
        return await self._claims.submit((update_id, now or datetime.now(UTC)))

    async def finish(self, update_id: int) -> None:
        await self._finishes.submit(update_id)

    async def _claim_all(self, asked: list[tuple[int, datetime]]) -> list[Claim]:
        # An update asked for twice in one batch (POSTed twice at once) is claimed by its
        # first ask; the later ones are BUSY, as they would be a moment later.
        claimer: dict[int, int] = {}
        for index, (update_id, _) in enumerate(asked):
            claimer.setdefault(update_id, index)
        # Only a claim lapsed for every ask of the batch is taken over.
        lapsed_before = to_db(min(at for _, at in asked) - self.lease)
        mine: set[int] = set()
        for chunk in chunked(list(claimer), CLAIM_CHUNK):
            rows = [(update_id, to_db(asked[claimer[update_id]][1])) for update_id in chunk]
            values = ", ".join("(?, 'handling', ?)" for _ in rows)
            taken = await self.db.fetch_alone(
                "INSERT INTO telegram_updates (update_id, state, claimed_at) "
                f"VALUES {values} ON CONFLICT (update_id) DO UPDATE "
                "SET claimed_at = excluded.claimed_at "
                "WHERE telegram_updates.state = 'handling' AND telegram_updates.claimed_at < ? "
                "RETURNING update_id",
                [*(value for row in rows for value in row), lapsed_before],
            )
            mine.update(int(row[0]) for row in taken)
        done: set[int] = set()
        others = [update_id for update_id in claimer if update_id not in mine]
        for chunk in chunked(others, CLAIM_CHUNK):
            found = await self.db.fetch_all(
                "SELECT update_id FROM telegram_updates "
                f"WHERE update_id IN ({placeholder_list(len(chunk))}) "
                "AND state = 'done'",
                chunk,
            )
            done.update(int(row[0]) for row in found)
        now = max(at for _, at in asked)
        if self._pruning.due(now.timestamp()):
            await self.prune(now)
        return [
            Claim.MINE
            if update_id in mine and claimer[update_id] == index
            else Claim.DONE
            if update_id in done
            else Claim.BUSY
            for index, (update_id, _) in enumerate(asked)
        ]

    async def _finish_all(self, update_ids: list[int]) -> list[None]:
        for chunk in chunked(list(dict.fromkeys(update_ids)), CLAIM_CHUNK):
            await self.db.execute_alone(
                "UPDATE telegram_updates SET state = 'done' "
                f"WHERE update_id IN ({placeholder_list(len(chunk))})",
                chunk,
            )
        return [None] * len(update_ids)

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
