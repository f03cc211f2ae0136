"""Durable poll votes per second: group commit through dispatch vs one commit per vote.

Both sides write to a database file with the bot's own settings (WAL, synchronous=FULL),
and every vote counted here was committed before it was acknowledged. The grouped side is
the real path: 1,000 voters press poll buttons concurrently, each press going through
dispatch and the /poll action handler into PollStore's group commit. The baseline, measured
in the same run, is the naive loop: one aiosqlite upsert and one commit per vote.
Usage: .venv/bin/python -m bench.poll_votes [--voters 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.dispatch import dispatch
from bot.services import build_services
from handlers.model import Request, Services
from storage.db import open_database
from storage.polls import DEEPSEEK_POLL_ID


async def one_press(services: Services, voter: int, round_: int) -> None:
    option = (voter + round_) % 4
    reply = await dispatch(
        Request(
            platform="telegram",
            user_id=str(voter),
            chat_id=f"-100{voter % 50}",
            chat_kind="group",
            action=f"poll:{DEEPSEEK_POLL_ID}:{option}",
            delivery_id=f"{round_}/{voter}",
        ),
        services,
    )
    if reply.is_error or not reply.notice:
        raise SystemExit(f"vote {voter}/{round_} failed: {reply.plain_text()}")


async def grouped(path: Path, voters: int, rounds: int) -> tuple[int, float, int]:
    """Votes, seconds, transactions: `voters` concurrent presses per round through dispatch."""
    os.environ["DSBOT_DATABASE"] = str(path)
    os.environ["DSBOT_MARKET"] = "offline"
    async with build_services(Settings()) as services:
        # Warm up imports and caches outside the clock.
        await one_press(services, voters + 1, 0)
        batches_before = services.polls.batches
        started = time.perf_counter()
        for round_ in range(rounds):
            await asyncio.gather(*(one_press(services, voter, round_) for voter in range(voters)))
        seconds = time.perf_counter() - started
        found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)
        assert found is not None and found[1].voters == voters + 1, "votes went missing"
        return voters * rounds, seconds, services.polls.batches - batches_before


async def naive(path: Path, votes: int, voters: int) -> tuple[int, float]:
    """One upsert and one commit per vote, in a loop, over the same schema and pragmas."""
    async with open_database(path) as db:
        connection = db.connection
        now = datetime.now(UTC).isoformat(timespec="seconds")
        started = time.perf_counter()
        for number in range(votes):
            voter, round_ = number % voters, number // voters
            await connection.execute("BEGIN IMMEDIATE")
            await connection.execute(
                "INSERT INTO poll_votes (poll_id, platform, user_id, choices, voted_at) "
                "VALUES (?, 'telegram', ?, ?, ?) ON CONFLICT (poll_id, platform, user_id) "
                "DO UPDATE SET choices = excluded.choices, voted_at = excluded.voted_at",
                (DEEPSEEK_POLL_ID, str(voter), 1 << ((voter + round_) % 4), now),
            )
            await connection.commit()
        return votes, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    naive_votes, naive_seconds = await naive(
        folder / "naive.sqlite3", options.voters, options.voters
    )
    votes, seconds, batches = await grouped(
        folder / "grouped.sqlite3", options.voters, options.rounds
    )
    naive_rate, grouped_rate = naive_votes / naive_seconds, votes / seconds
    print(f"python {sys.version.split()[0]}, database files in {folder} (WAL, synchronous=FULL)")
    print(
        f"naive loop, one aiosqlite upsert + commit per vote: {naive_votes} votes in "
        f"{naive_seconds:.2f} s = {naive_rate:,.0f} durable votes/s"
    )
    print(
        f"dispatch + /poll handler + group commit, {options.voters} concurrent voters x "
        f"{options.rounds} rounds: {votes} votes in {seconds:.2f} s = {grouped_rate:,.0f} "
        f"durable votes/s ({batches} transactions, {votes / max(batches, 1):.0f} votes each)"
    )
    print(f"ratio: {grouped_rate / naive_rate:.1f}x the naive loop (goal >= 5x)")


if __name__ == "__main__":
    asyncio.run(main())
