"""The SQLite poll store: reading polls and tallies, creating and closing polls, and votes.

Reads run in one read transaction (Database.snapshot), creating and closing in one write
transaction, and votes go through the group commit of storage/poll_votes.py, where each
vote's transaction may carry other votes that arrived meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import aiosqlite

from storage.db import Database
from storage.poll_model import (
    DEEPSEEK_POLL_ID,
    MAX_OPTIONS,
    MIN_OPTIONS,
    PLATFORMS,
    ChatHasOpenPoll,
    GlobalPollFixed,
    NoSuchOption,
    PlatformTally,
    Poll,
    PollClosed,
    PollError,
    PollNotFound,
    PollOption,
    PollSummary,
    PollVoter,
    Tally,
    TooManyChoices,
    VoteOutcome,
)
from storage.poll_privacy import voter_secret
from storage.poll_reads import chat_summaries, current_poll, load_poll, public_voters, tally
from storage.poll_votes import PRESS_MEMORY, GroupCommit, VoteOp
from storage.timestamps import optional_to_db, to_db

# The values are defined in storage/poll_model.py; importing them from here keeps working.
__all__ = [
    "DEEPSEEK_POLL_ID",
    "MAX_OPTIONS",
    "MIN_OPTIONS",
    "PLATFORMS",
    "PRESS_MEMORY",
    "ChatHasOpenPoll",
    "GlobalPollFixed",
    "NoSuchOption",
    "PlatformTally",
    "Poll",
    "PollClosed",
    "PollError",
    "PollNotFound",
    "PollOption",
    "PollSummary",
    "PollVoter",
    "SqlitePollStore",
    "Tally",
    "TooManyChoices",
    "VoteOutcome",
]


class SqlitePollStore:
    """Polls over the bot's one connection; every public method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._votes = GroupCommit(db)

    @property
    def batches(self) -> int:
        return self._votes.batches

    @property
    def batched_votes(self) -> int:
        return self._votes.batched_votes

    # -- reading ---------------------------------------------------------------------------

    async def get(self, poll_id: int) -> Poll | None:
        async with self.db.snapshot() as connection:
            return await load_poll(connection, poll_id)

    async def get_with_tally(self, poll_id: int) -> tuple[Poll, Tally] | None:
        async with self.db.snapshot() as connection:
            poll = await load_poll(connection, poll_id)
            if poll is None:
                return None
            return poll, await tally(connection, poll)

    async def current(
        self,
        platform: str,
        chat_id: str,
        now: datetime,
        closed_within: timedelta = timedelta(0),
    ) -> tuple[Poll, Tally]:
        """The chat's open poll, else its newest poll if that ended less than `closed_within`
        ago, else the DeepSeek poll, with its tally."""
        async with self.db.snapshot() as connection:
            return await current_poll(connection, platform, chat_id, now, closed_within)

    async def list_for_chat(
        self, platform: str, chat_id: str, limit: int = 10
    ) -> list[PollSummary]:
        """The chat's newest polls, then the global ones, each with its number of voters."""
        async with self.db.snapshot() as connection:
            return await chat_summaries(connection, platform, chat_id, limit)

    # -- creating and closing --------------------------------------------------------------

    async def create(
        self,
        *,
        platform: str,
        chat_id: str,
        question: str,
        options: Sequence[str],
        multi: bool,
        closes_at: datetime | None,
        created_by: str,
        now: datetime,
        hide_results: bool = False,
        public: bool = False,
    ) -> Poll:
        """A new poll in the chat; ChatHasOpenPoll while another one is still open there."""
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            raise ValueError(f"a poll needs {MIN_OPTIONS} to {MAX_OPTIONS} options")
        async with self.db.transaction() as connection:
            await _mark_expired(connection, now, platform, chat_id)
            async with connection.execute(
                "SELECT id FROM polls WHERE platform = ? AND chat_id = ? AND closed_at IS NULL",
                (platform, chat_id),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None:
                existing = await load_poll(connection, int(row[0]))
                assert existing is not None
                raise ChatHasOpenPoll(existing)
            cursor = await connection.execute(
                "INSERT INTO polls (platform, chat_id, question, multi, created_by, created_at, "
                "closes_at, hide_results, public_votes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    platform,
                    chat_id,
                    question,
                    int(multi),
                    created_by,
                    to_db(now),
                    optional_to_db(closes_at),
                    int(hide_results),
                    int(public),
                ),
            )
            poll_id = cursor.lastrowid
            assert poll_id is not None
            await connection.executemany(
                "INSERT INTO poll_options (poll_id, idx, label) VALUES (?, ?, ?)",
                [(poll_id, index, label) for index, label in enumerate(options)],
            )
            poll = await load_poll(connection, poll_id)
            assert poll is not None
            return poll

    async def close(self, poll_id: int, platform: str, chat_id: str, now: datetime) -> Poll:
        """Close a chat's poll now; PollClosed if it already was (by hand or by its time)."""
        async with self.db.transaction() as connection:
            poll = await load_poll(connection, poll_id)
            if poll is None or not poll.belongs_to(platform, chat_id):
                raise PollNotFound(poll_id)
            if poll.is_global:
                raise GlobalPollFixed(poll_id)
            if not poll.is_open(now):
                await _mark_expired(connection, now, platform, chat_id)
                raise PollClosed(poll)
            await connection.execute(
                "UPDATE polls SET closed_at = ? WHERE id = ?", (to_db(now), poll_id)
            )
            closed = await load_poll(connection, poll_id)
            assert closed is not None
            return closed

    async def close_expired(self, now: datetime) -> list[Poll]:
        """Record the closing of every poll whose time ran out, including while the bot was
        stopped, and return them (for announcing). Votes never depend on this having run."""
        async with self.db.transaction() as connection:
            async with connection.execute(
                "SELECT id FROM polls WHERE closed_at IS NULL AND closes_at <= ?", (to_db(now),)
            ) as cursor:
                ids = [int(row[0]) for row in await cursor.fetchall()]
            await _mark_expired(connection, now)
            polls = [await load_poll(connection, poll_id) for poll_id in ids]
            return [poll for poll in polls if poll is not None]

    # -- voting ----------------------------------------------------------------------------

    async def press(
        self,
        poll_id: int,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        option: int,
        now: datetime,
        delivery_id: str = "",
        user_name: str = "",
    ) -> VoteOutcome:
        """A button press: vote, change (single choice), or withdraw by pressing it again;
        multi-choice polls toggle the option. A press whose delivery id was seen is ignored."""
        return await self._votes.submit(
            VoteOp(
                poll_id,
                platform,
                chat_id,
                user_id,
                "toggle",
                frozenset({option}),
                now,
                delivery_id,
                user_name,
            )
        )

    async def set_choices(
        self,
        poll_id: int,
        *,
        platform: str,
        chat_id: str,
        user_id: str,
        options: Iterable[int],
        now: datetime,
        user_name: str = "",
    ) -> VoteOutcome:
        """Make the vote exactly `options` (empty withdraws it); repeating it changes nothing."""
        return await self._votes.submit(
            VoteOp(
                poll_id,
                platform,
                chat_id,
                user_id,
                "set",
                frozenset(options),
                now,
                user_name=user_name,
            )
        )

    async def voters(self, poll_id: int) -> list[PollVoter]:
        """Who voted for what, by display name: public polls only, nobody for anonymous ones."""
        async with self.db.snapshot() as connection:
            poll = await load_poll(connection, poll_id)
            return [] if poll is None else await public_voters(connection, poll)

    # -- announcing the close ----------------------------------------------------------

    async def prepare(self, now: datetime) -> None:
        """At start: create the voter secret once, keying any vote stored by id before it."""
        async with self.db.transaction() as connection:
            await voter_secret(connection, now)

    async def showing_chats(self, poll_id: int) -> list[tuple[str, str]]:
        """Every (platform, chat) that showed the poll: those owed its closing announcement.

        The one place that says which chats those are; today a poll's own chat.
        """
        poll = await self.get(poll_id)
        if poll is None or poll.platform is None or poll.chat_id is None:
            return []
        return [(poll.platform, poll.chat_id)]

    async def unannounced(self, now: datetime) -> list[Poll]:
        """Polls that have ended, by hand or by their time, whose announcing is not done."""
        async with self.db.snapshot() as connection:
            rows = await connection.execute_fetchall(
                "SELECT id FROM polls WHERE announced = 0 "
                "AND (closed_at IS NOT NULL OR closes_at <= ?) ORDER BY id",
                (to_db(now),),
            )
            polls = [await load_poll(connection, int(row[0])) for row in rows]
        return [poll for poll in polls if poll is not None]

    async def claim_announcement(
        self, poll_id: int, platform: str, chat_id: str, now: datetime
    ) -> bool:
        """Take the poll's closing announcement in a chat; False if it was taken before."""
        async with self.db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO poll_announcements (poll_id, platform, chat_id, claimed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (poll_id, platform, chat_id) DO NOTHING",
                (poll_id, platform, chat_id, to_db(now)),
            )
            return cursor.rowcount > 0

    async def finish_announcing(self, poll_id: int) -> None:
        """Every chat owed the announcement has been claimed: stop looking at the poll."""
        async with self.db.transaction() as connection:
            await connection.execute("UPDATE polls SET announced = 1 WHERE id = ?", (poll_id,))


async def _mark_expired(
    connection: aiosqlite.Connection,
    now: datetime,
    platform: str | None = None,
    chat_id: str | None = None,
) -> None:
    # closed_at takes the moment the time ran out, not the moment somebody noticed.
    if platform is None:
        await connection.execute(
            "UPDATE polls SET closed_at = closes_at WHERE closed_at IS NULL AND closes_at <= ?",
            (to_db(now),),
        )
    else:
        await connection.execute(
            "UPDATE polls SET closed_at = closes_at WHERE closed_at IS NULL AND closes_at <= ? "
            "AND platform = ? AND chat_id = ?",
            (to_db(now), platform, chat_id),
        )
