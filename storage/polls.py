"""Polls, their options and one vote per person, with concurrent votes committed together.

Votes go through a group commit: every vote waiting while a transaction is being written is
applied in the next single transaction, and each voter hears back only after that
transaction has committed. SQLite's cost is the commit (an fsync with synchronous=FULL), so
a burst of N votes costs a handful of commits instead of N, and nothing is acknowledged early.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import aiosqlite

from storage.db import Database, StorageBusy

log = logging.getLogger(__name__)

DEEPSEEK_POLL_ID = 1
# Telegram redelivers an unconfirmed update for up to a day; delivery ids are kept twice as long.
PRESS_MEMORY = timedelta(days=2)
_PRUNE_EVERY = timedelta(hours=1)
MIN_OPTIONS, MAX_OPTIONS = 2, 10
PLATFORMS = ("telegram", "discord", "console")


class PollError(Exception):
    """A poll operation that cannot be carried out as asked."""


class PollNotFound(PollError):
    """No such poll, or it belongs to another chat (the two are not told apart on purpose)."""


class PollClosed(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} is closed")
        self.poll = poll


class NoSuchOption(PollError):
    def __init__(self, poll: Poll, index: int) -> None:
        super().__init__(f"poll {poll.id} has no option {index}")
        self.poll = poll
        self.index = index


class ChatHasOpenPoll(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} is still open in this chat")
        self.poll = poll


class TooManyChoices(PollError):
    def __init__(self, poll: Poll) -> None:
        super().__init__(f"poll {poll.id} takes one choice")
        self.poll = poll


class GlobalPollFixed(PollError):
    """The shared polls belong to no chat, so no chat's moderators may close them."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _bits(options: Iterable[int]) -> int:
    return sum(1 << index for index in set(options))


def _indexes(bits: int) -> frozenset[int]:
    return frozenset(index for index in range(MAX_OPTIONS) if bits >> index & 1)


@dataclass(frozen=True, slots=True)
class PollOption:
    index: int
    label: str
    label_zh: str | None = None


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    platform: str | None
    chat_id: str | None
    question: str
    question_zh: str | None
    options: tuple[PollOption, ...]
    multi: bool
    created_by: str | None
    created_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None

    @property
    def is_global(self) -> bool:
        return self.platform is None

    def belongs_to(self, platform: str, chat_id: str) -> bool:
        return self.is_global or (self.platform == platform and self.chat_id == chat_id)

    def ended_at(self, now: datetime) -> datetime | None:
        """When the poll closed, or None while it is open; expiry counts without a sweep."""
        if self.closed_at is not None:
            return self.closed_at
        if self.closes_at is not None and self.closes_at <= now:
            return self.closes_at
        return None

    def is_open(self, now: datetime) -> bool:
        return self.ended_at(now) is None


@dataclass(frozen=True, slots=True)
class PlatformTally:
    platform: str
    voters: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Tally:
    poll_id: int
    voters: int
    counts: tuple[int, ...]
    by_platform: tuple[PlatformTally, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """What the voter now holds, and the tally right after the commit that recorded it.

    `changed` is False when the vote was already what was asked, or the press a redelivery.
    """

    poll: Poll
    choices: frozenset[int]
    changed: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class PollSummary:
    poll: Poll
    voters: int


@dataclass(frozen=True, slots=True)
class _VoteOp:
    poll_id: int
    platform: str
    chat_id: str
    user_id: str
    # "toggle" is a button press; "set" replaces the vote with exactly `options`.
    kind: Literal["toggle", "set"]
    options: frozenset[int]
    now: datetime
    delivery_id: str = ""


@dataclass(slots=True)
class _Pending:
    op: _VoteOp
    future: asyncio.Future[VoteOutcome] = field(repr=False)


_POLL_COLUMNS = (
    "id, platform, chat_id, question, question_zh, multi, created_by, created_at, "
    "closes_at, closed_at"
)


class PollStore:
    """Polls over the bot's one connection; every public method is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None
        # Figures for the benchmark and tests: how many vote transactions carried how many votes.
        self.batches = 0
        self.batched_votes = 0
        self._pruned_at: datetime | None = None

    # -- reading ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read that never sees a vote batch that is still being written."""
        async with self.db.lock:
            connection = self.db.connection
            await connection.execute("BEGIN")
            try:
                yield connection
            finally:
                await connection.execute("COMMIT")

    async def get(self, poll_id: int) -> Poll | None:
        async with self._snapshot() as connection:
            return await _load_poll(connection, poll_id)

    async def get_with_tally(self, poll_id: int) -> tuple[Poll, Tally] | None:
        async with self._snapshot() as connection:
            poll = await _load_poll(connection, poll_id)
            if poll is None:
                return None
            return poll, await _tally(connection, poll)

    async def current(
        self,
        platform: str,
        chat_id: str,
        now: datetime,
        closed_within: timedelta = timedelta(0),
    ) -> tuple[Poll, Tally]:
        """The chat's open poll, else its newest poll if that ended less than `closed_within`
        ago, else the DeepSeek poll, with its tally."""
        async with self._snapshot() as connection:
            async with connection.execute(
                "SELECT id FROM polls WHERE platform = ? AND chat_id = ? AND closed_at IS NULL "
                "AND (closes_at IS NULL OR closes_at > ?) ORDER BY id DESC LIMIT 1",
                (platform, chat_id, _iso(now)),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None and closed_within > timedelta(0):
                async with connection.execute(
                    "SELECT id FROM polls WHERE platform = ? AND chat_id = ? "
                    "ORDER BY id DESC LIMIT 1",
                    (platform, chat_id),
                ) as cursor:
                    newest = await cursor.fetchone()
                if newest is not None:
                    own = await _load_poll(connection, int(newest[0]))
                    ended = own.ended_at(now) if own is not None else None
                    if own is not None and ended is not None and ended > now - closed_within:
                        return own, await _tally(connection, own)
            poll = await _load_poll(connection, int(row[0]) if row else DEEPSEEK_POLL_ID)
            if poll is None:
                raise PollNotFound("the DeepSeek poll is missing from the database")
            return poll, await _tally(connection, poll)

    async def list_for_chat(
        self, platform: str, chat_id: str, limit: int = 10
    ) -> list[PollSummary]:
        """The chat's newest polls, then the global ones, each with its number of voters."""
        async with self._snapshot() as connection:
            async with connection.execute(
                "SELECT id FROM (SELECT id FROM polls WHERE platform = ? AND chat_id = ? "
                "ORDER BY id DESC LIMIT ?) UNION ALL "
                "SELECT id FROM (SELECT id FROM polls WHERE platform IS NULL ORDER BY id)",
                (platform, chat_id, limit),
            ) as cursor:
                ids = [int(row[0]) for row in await cursor.fetchall()]
            summaries = []
            for poll_id in ids:
                poll = await _load_poll(connection, poll_id)
                if poll is None:
                    continue
                async with connection.execute(
                    "SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?", (poll_id,)
                ) as cursor:
                    row = await cursor.fetchone()
                summaries.append(PollSummary(poll, int(row[0]) if row else 0))
            return summaries

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
                existing = await _load_poll(connection, int(row[0]))
                assert existing is not None
                raise ChatHasOpenPoll(existing)
            cursor = await connection.execute(
                "INSERT INTO polls (platform, chat_id, question, multi, created_by, created_at, "
                "closes_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    platform,
                    chat_id,
                    question,
                    int(multi),
                    created_by,
                    _iso(now),
                    _iso(closes_at) if closes_at else None,
                ),
            )
            poll_id = cursor.lastrowid
            assert poll_id is not None
            await connection.executemany(
                "INSERT INTO poll_options (poll_id, idx, label) VALUES (?, ?, ?)",
                [(poll_id, index, label) for index, label in enumerate(options)],
            )
            poll = await _load_poll(connection, poll_id)
            assert poll is not None
            return poll

    async def close(self, poll_id: int, platform: str, chat_id: str, now: datetime) -> Poll:
        """Close a chat's poll now; PollClosed if it already was (by hand or by its time)."""
        async with self.db.transaction() as connection:
            poll = await _load_poll(connection, poll_id)
            if poll is None or not poll.belongs_to(platform, chat_id):
                raise PollNotFound(poll_id)
            if poll.is_global:
                raise GlobalPollFixed(poll_id)
            if not poll.is_open(now):
                await _mark_expired(connection, now, platform, chat_id)
                raise PollClosed(poll)
            await connection.execute(
                "UPDATE polls SET closed_at = ? WHERE id = ?", (_iso(now), poll_id)
            )
            closed = await _load_poll(connection, poll_id)
            assert closed is not None
            return closed

    async def close_expired(self, now: datetime) -> list[Poll]:
        """Record the closing of every poll whose time ran out, including while the bot was
        stopped, and return them (for announcing). Votes never depend on this having run."""
        async with self.db.transaction() as connection:
            async with connection.execute(
                "SELECT id FROM polls WHERE closed_at IS NULL AND closes_at <= ?", (_iso(now),)
            ) as cursor:
                ids = [int(row[0]) for row in await cursor.fetchall()]
            await _mark_expired(connection, now)
            polls = [await _load_poll(connection, poll_id) for poll_id in ids]
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
    ) -> VoteOutcome:
        """A button press: vote, change (single choice), or withdraw by pressing it again;
        multi-choice polls toggle the option. A press whose delivery id was seen is ignored."""
        return await self._submit(
            _VoteOp(
                poll_id, platform, chat_id, user_id, "toggle", frozenset({option}), now, delivery_id
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
    ) -> VoteOutcome:
        """Make the vote exactly `options` (empty withdraws it); repeating it changes nothing."""
        return await self._submit(
            _VoteOp(poll_id, platform, chat_id, user_id, "set", frozenset(options), now)
        )

    async def _submit(self, op: _VoteOp) -> VoteOutcome:
        future: asyncio.Future[VoteOutcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(op, future))
        # The writer is a task of its own so that a voter who gives up (cancelled) cannot
        # strand the others whose votes are in the same batch.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        return await future

    async def _write_batches(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._apply(batch)
        except StorageBusy as error:
            # Retried one by one, each vote would wait out the busy timeout again.
            for pending in batch:
                _settle(pending.future, error)
            return
        except Exception as error:
            if len(batch) > 1:
                # Something unexpected in one vote must not cost the others theirs.
                log.warning(
                    "a batch of %d votes failed (%s); retrying one by one", len(batch), error
                )
                for pending in batch:
                    await self._write([pending])
                return
            _settle(batch[0].future, error)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            _settle(pending.future, outcome)

    async def _apply(self, batch: list[_Pending]) -> list[VoteOutcome | PollError]:
        ops = [pending.op for pending in batch]
        now = max(op.now for op in ops)
        async with self.db.transaction() as connection:
            held = await _apply_votes(connection, ops)
            if self._pruned_at is None or now - self._pruned_at >= _PRUNE_EVERY:
                await connection.execute(
                    "DELETE FROM poll_presses WHERE pressed_at < ?", (_iso(now - PRESS_MEMORY),)
                )
                self._pruned_at = now
            touched = {item[0].id: item[0] for item in held if not isinstance(item, PollError)}
            tallies = {poll_id: await _tally(connection, poll) for poll_id, poll in touched.items()}
        self.batches += 1
        self.batched_votes += len(batch)
        return [
            item
            if isinstance(item, PollError)
            else VoteOutcome(item[0], item[1], item[2], tallies[item[0].id])
            for item in held
        ]


def _settle(
    future: asyncio.Future[VoteOutcome], result: VoteOutcome | PollError | Exception
) -> None:
    if future.done():
        return
    if isinstance(result, VoteOutcome):
        future.set_result(result)
    else:
        future.set_exception(result)


VoteKey = tuple[int, str, str]
# Row values per statement stay far below SQLite's limit on bound parameters.
_CHUNK = 300


def _chunks(items: Sequence[tuple[object, ...]]) -> Iterable[Sequence[tuple[object, ...]]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _fetch_matching(
    connection: aiosqlite.Connection, select: str, columns: str, keys: Sequence[tuple[object, ...]]
) -> list[aiosqlite.Row]:
    """Rows whose `columns` equal one of `keys`: one statement per chunk, not one per key."""
    rows: list[aiosqlite.Row] = []
    for chunk in _chunks(keys):
        placeholders = ", ".join("(" + ", ".join("?" * len(key)) + ")" for key in chunk)
        parameters = [value for key in chunk for value in key]
        rows.extend(
            await connection.execute_fetchall(
                f"{select} WHERE ({columns}) IN (VALUES {placeholders})", parameters
            )
        )
    return rows


def _check(poll: Poll | None, op: _VoteOp) -> Poll:
    if poll is None or not poll.belongs_to(op.platform, op.chat_id):
        raise PollNotFound(op.poll_id)
    if not poll.is_open(op.now):
        raise PollClosed(poll)
    for index in op.options:
        if not 0 <= index < len(poll.options):
            raise NoSuchOption(poll, index)
    if op.kind == "set" and not poll.multi and len(op.options) > 1:
        raise TooManyChoices(poll)
    return poll


async def _apply_votes(
    connection: aiosqlite.Connection, ops: Sequence[_VoteOp]
) -> list[tuple[Poll, frozenset[int], bool] | PollError]:
    """Apply a batch of votes in order, with a fixed number of statements per batch.

    Each statement is a round trip to aiosqlite's thread, which costs more than the SQL:
    the current votes and seen deliveries are read for the whole batch at once, the votes
    are worked out here in arrival order, and the results are written with executemany.
    """
    polls: dict[int, Poll | None] = {}
    for poll_id in dict.fromkeys(op.poll_id for op in ops):
        polls[poll_id] = await _load_poll(connection, poll_id)
    checked: list[Poll | PollError] = []
    for op in ops:
        try:
            checked.append(_check(polls[op.poll_id], op))
        except PollError as error:
            checked.append(error)
    valid = [op for op, poll in zip(ops, checked, strict=True) if isinstance(poll, Poll)]
    keys: list[tuple[object, ...]] = list(
        dict.fromkeys((op.poll_id, op.platform, op.user_id) for op in valid)
    )
    before: dict[VoteKey, int] = {
        (int(row[0]), str(row[1]), str(row[2])): int(row[3])
        for row in await _fetch_matching(
            connection,
            "SELECT poll_id, platform, user_id, choices FROM poll_votes",
            "poll_id, platform, user_id",
            keys,
        )
    }
    deliveries: list[tuple[object, ...]] = list(
        dict.fromkeys((op.platform, op.delivery_id) for op in valid if op.delivery_id)
    )
    seen = {
        (str(row[0]), str(row[1]))
        for row in await _fetch_matching(
            connection,
            "SELECT platform, delivery_id FROM poll_presses",
            "platform, delivery_id",
            deliveries,
        )
    }
    state = dict(before)
    new_presses: list[tuple[str, str, str]] = []
    held: list[tuple[Poll, frozenset[int], bool] | PollError] = []
    for op, poll in zip(ops, checked, strict=True):
        if isinstance(poll, PollError):
            held.append(poll)
            continue
        key = (poll.id, op.platform, op.user_id)
        current = state.get(key, 0)
        if op.delivery_id:
            if (op.platform, op.delivery_id) in seen:
                held.append((poll, _indexes(current), False))
                continue
            seen.add((op.platform, op.delivery_id))
            new_presses.append((op.platform, op.delivery_id, _iso(op.now)))
        wanted = _bits(op.options)
        if op.kind == "set":
            new = wanted
        elif poll.multi:
            new = current ^ wanted
        else:
            new = 0 if current == wanted else wanted
        state[key] = new
        held.append((poll, _indexes(new), new != current))
    now = _iso(max((op.now for op in ops), default=datetime.now(UTC)))
    changed = [key for key, choices in state.items() if choices != before.get(key, 0)]
    upserts = [(*key, state[key], now) for key in changed if state[key]]
    deletes = [key for key in changed if not state[key]]
    if new_presses:
        await connection.executemany(
            "INSERT INTO poll_presses (platform, delivery_id, pressed_at) VALUES (?, ?, ?)",
            new_presses,
        )
    if upserts:
        await connection.executemany(
            "INSERT INTO poll_votes (poll_id, platform, user_id, choices, voted_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, platform, user_id) "
            "DO UPDATE SET choices = excluded.choices, voted_at = excluded.voted_at",
            upserts,
        )
    if deletes:
        await connection.executemany(
            "DELETE FROM poll_votes WHERE poll_id = ? AND platform = ? AND user_id = ?", deletes
        )
    return held


async def _load_poll(connection: aiosqlite.Connection, poll_id: int) -> Poll | None:
    rows = list(
        await connection.execute_fetchall(
            f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,)
        )
    )
    if not rows:
        return None
    row = rows[0]
    options = tuple(
        PollOption(int(index), str(label), label_zh)
        for index, label, label_zh in await connection.execute_fetchall(
            "SELECT idx, label, label_zh FROM poll_options WHERE poll_id = ? ORDER BY idx",
            (poll_id,),
        )
    )
    created_at = _parse(row[7])
    assert created_at is not None
    return Poll(
        id=int(row[0]),
        platform=row[1],
        chat_id=row[2],
        question=str(row[3]),
        question_zh=row[4],
        options=options,
        multi=bool(row[5]),
        created_by=row[6],
        created_at=created_at,
        closes_at=_parse(row[8]),
        closed_at=_parse(row[9]),
    )


async def _tally(connection: aiosqlite.Connection, poll: Poll) -> Tally:
    width = len(poll.options)
    counts = [0] * width
    per_platform: dict[str, list[int]] = {}
    voters_per_platform: dict[str, int] = {}
    rows = await connection.execute_fetchall(
        "SELECT platform, choices, COUNT(*) FROM poll_votes WHERE poll_id = ? "
        "GROUP BY platform, choices",
        (poll.id,),
    )
    for platform, choices, number in rows:
        platform_counts = per_platform.setdefault(str(platform), [0] * width)
        voters_per_platform[str(platform)] = voters_per_platform.get(str(platform), 0) + number
        for index in _indexes(int(choices)):
            if index < width:
                counts[index] += number
                platform_counts[index] += number
    ordered = [name for name in PLATFORMS if name in per_platform]
    ordered += sorted(set(per_platform) - set(PLATFORMS))
    return Tally(
        poll_id=poll.id,
        voters=sum(voters_per_platform.values()),
        counts=tuple(counts),
        by_platform=tuple(
            PlatformTally(name, voters_per_platform[name], tuple(per_platform[name]))
            for name in ordered
        ),
    )


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
            (_iso(now),),
        )
    else:
        await connection.execute(
            "UPDATE polls SET closed_at = closes_at WHERE closed_at IS NULL AND closes_at <= ? "
            "AND platform = ? AND chat_id = ?",
            (_iso(now), platform, chat_id),
        )
