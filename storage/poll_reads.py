"""Reading polls and tallies, on either backend, inside a transaction the caller holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.poll_model import (
    DEEPSEEK_POLL_ID,
    PLATFORMS,
    PlatformTally,
    Poll,
    PollNotFound,
    PollOption,
    PollSummary,
    PollVoter,
    Tally,
    choice_indexes,
)
from storage.sql import Tx
from storage.timestamps import from_db, optional_from_db, to_db

_POLL_COLUMNS = (
    "id, platform, chat_id, question, question_zh, multi, created_by, created_at, "
    "closes_at, closed_at, hide_results, public_votes"
)


async def load_poll(tx: Tx, poll_id: int) -> Poll | None:
    row = await tx.fetch_one(f"SELECT {_POLL_COLUMNS} FROM polls WHERE id = ?", (poll_id,))
    if row is None:
        return None
    options = tuple(
        PollOption(int(index), str(label), label_zh)
        for index, label, label_zh in await tx.fetch_all(
            "SELECT idx, label, label_zh FROM poll_options WHERE poll_id = ? ORDER BY idx",
            (poll_id,),
        )
    )
    return Poll(
        id=int(row[0]),
        platform=row[1],
        chat_id=row[2],
        question=str(row[3]),
        question_zh=row[4],
        options=options,
        multi=bool(row[5]),
        created_by=row[6],
        created_at=from_db(row[7]),
        closes_at=optional_from_db(row[8]),
        closed_at=optional_from_db(row[9]),
        hide_results=bool(row[10]),
        public=bool(row[11]),
    )


async def tally(tx: Tx, poll: Poll) -> Tally:
    width = len(poll.options)
    counts = [0] * width
    per_platform: dict[str, list[int]] = {}
    voters_per_platform: dict[str, int] = {}
    rows = await tx.fetch_all(
        "SELECT platform, choices, COUNT(*) FROM poll_votes WHERE poll_id = ? "
        "GROUP BY platform, choices",
        (poll.id,),
    )
    for platform, choices, number in rows:
        platform_counts = per_platform.setdefault(str(platform), [0] * width)
        voters_per_platform[str(platform)] = voters_per_platform.get(str(platform), 0) + number
        for index in choice_indexes(int(choices)):
            if index < width:
                counts[index] += number
                platform_counts[index] += number
    known: list[str] = [name for name in PLATFORMS if name in per_platform]
    ordered = known + sorted(set(per_platform) - set(known))
    return Tally(
        poll_id=poll.id,
        voters=sum(voters_per_platform.values()),
        counts=tuple(counts),
        by_platform=tuple(
            PlatformTally(name, voters_per_platform[name], tuple(per_platform[name]))
            for name in ordered
        ),
    )


async def current_poll(
    tx: Tx,
    platform: str,
    chat_id: str,
    now: datetime,
    closed_within: timedelta,
) -> tuple[Poll, Tally]:
    """The chat's open poll, else its newest poll if that ended less than `closed_within`
    ago, else the DeepSeek poll, with its tally."""
    row = await tx.fetch_one(
        "SELECT id FROM polls WHERE platform = ? AND chat_id = ? AND closed_at IS NULL "
        "AND (closes_at IS NULL OR closes_at > ?) ORDER BY id DESC LIMIT 1",
        (platform, chat_id, to_db(now)),
    )
    if row is None and closed_within > timedelta(0):
        newest = await tx.fetch_one(
            "SELECT id FROM polls WHERE platform = ? AND chat_id = ? ORDER BY id DESC LIMIT 1",
            (platform, chat_id),
        )
        if newest is not None:
            own = await load_poll(tx, int(newest[0]))
            ended = own.ended_at(now) if own is not None else None
            if own is not None and ended is not None and ended > now - closed_within:
                return own, await tally(tx, own)
    poll = await load_poll(tx, int(row[0]) if row else DEEPSEEK_POLL_ID)
    if poll is None:
        raise PollNotFound("the DeepSeek poll is missing from the database")
    return poll, await tally(tx, poll)


async def chat_summaries(tx: Tx, platform: str, chat_id: str, limit: int) -> list[PollSummary]:
    """The chat's newest polls, then the global ones, each with its number of voters."""
    own = await tx.fetch_all(
        "SELECT id FROM polls WHERE platform = ? AND chat_id = ? ORDER BY id DESC LIMIT ?",
        (platform, chat_id, limit),
    )
    shared = await tx.fetch_all("SELECT id FROM polls WHERE platform IS NULL ORDER BY id")
    summaries = []
    for (poll_id,) in [*own, *shared]:
        poll = await load_poll(tx, int(poll_id))
        if poll is None:
            continue
        row = await tx.fetch_one("SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?", (poll_id,))
        summaries.append(PollSummary(poll, int(row[0]) if row else 0))
    return summaries


async def public_voters(tx: Tx, poll: Poll) -> list[PollVoter]:
    """Who voted for what in a public poll, by display name; nobody for an anonymous one."""
    if not poll.public:
        return []
    rows = await tx.fetch_all(
        "SELECT voter_name, platform, choices FROM poll_votes "
        "WHERE poll_id = ? AND voter_name IS NOT NULL ORDER BY voted_at, voter_name",
        (poll.id,),
    )
    return [
        PollVoter(str(name), str(platform), choice_indexes(int(choices)))
        for name, platform, choices in rows
    ]
