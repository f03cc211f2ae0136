"""Durable poll votes per second: group commit through dispatch vs one commit per vote.

Both sides do the same work: the same `--voters` members vote `--rounds` times each (option
(voter + round) % 4, so every round changes every vote), after one warm-up vote outside the
clock, into a database file opened by storage.db.open_database (the bot's own WAL and
synchronous=FULL). The grouped side is the real path: the Services `dsbot run` builds
(cooldowns included), and each round all voters press a poll button at once, each press going
through dispatch and the /poll action handler into PollStore's group commit. The baseline,
measured in the same run, is the naive loop: one aiosqlite upsert and one commit per vote.

Transactions are counted, not inferred: a trace callback on each side's SQLite connection
counts the COMMITs (and any write outside a transaction). Every grouped press must be
answered with the vote notice (not an error, "busy" or "slow down"), and afterwards each
side's table must hold every voter's last acknowledged choice; otherwise the run exits 1.
Usage: .venv/bin/python -m bench.poll_votes [--voters 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bench.replies import ReplyCheck, fail_if_any, refusal_in, template_pattern
from bot.config import Settings
from bot.cooldowns import guarded
from bot.services import build_services
from handlers.model import Reply, Request, Services
from handlers.poll_view import labels_of
from storage.db import Database, open_database
from storage.poll_privacy import SECRET_KEY, voter_key, voter_secret
from storage.polls import DEEPSEEK_POLL_ID

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class TransactionCounter:
    """Counts committed write transactions from the statements SQLite runs (trace callback)."""

    def __init__(self) -> None:
        self.commits = 0
        self.autocommits = 0  # a write outside BEGIN ... COMMIT is a transaction of its own
        self._open = False

    def __call__(self, statement: str) -> None:
        word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if word == "BEGIN":
            self._open = True
        elif word in ("COMMIT", "END"):
            self.commits += 1
            self._open = False
        elif word == "ROLLBACK":
            self._open = False
        elif word in _WRITES and not self._open:
            self.autocommits += 1

    @property
    def transactions(self) -> int:
        return self.commits + self.autocommits

    async def watch(self, connection: aiosqlite.Connection) -> None:
        await connection.set_trace_callback(self)


@dataclass(frozen=True, slots=True)
class Side:
    votes: int  # acknowledged inside the clock
    seconds: float
    transactions: int


def key_of(secret: bytes, voter: int) -> str:
    """The stored key of a voter: both sides keep keyed hashes, never user ids."""
    return voter_key(secret, DEEPSEEK_POLL_ID, "telegram", str(voter))


async def stored_secret(connection: aiosqlite.Connection) -> bytes:
    rows = await connection.execute_fetchall(
        "SELECT value FROM bot_state WHERE key = ?", (SECRET_KEY,)
    )
    return bytes.fromhex(str(next(iter(rows))[0]))


def option_of(voter: int, round_: int) -> int:
    return (voter + round_) % 4


def vote_problem(reply: Reply, choice: str) -> str | None:
    """None when `reply` acknowledges a vote for `choice` in the DeepSeek poll."""
    if refusal := refusal_in(reply.plain_text() + "\n" + reply.notice):
        return refusal
    if reply.is_error:
        return "error reply"
    notice = template_pattern("poll.notice_vote", id=DEEPSEEK_POLL_ID, choice=choice)
    return None if notice.fullmatch(reply.notice) else "not the vote acknowledgement"


async def stored_problems(
    connection: aiosqlite.Connection, voters: int, rounds: int, check: ReplyCheck
) -> None:
    """Every voter's row must hold their last acknowledged choice (the warm-up voter too)."""
    rows = await connection.execute_fetchall(
        "SELECT user_id, choices FROM poll_votes WHERE poll_id = ? AND platform = 'telegram'",
        (DEEPSEEK_POLL_ID,),
    )
    held = {str(user): int(choices) for user, choices in rows}
    expected = {voter: 1 << option_of(voter, rounds - 1) for voter in range(voters)}
    expected[voters] = 1 << option_of(voters, 0)
    secret = await stored_secret(connection)
    wrong = sum(held.get(key_of(secret, voter)) != bits for voter, bits in expected.items())
    if wrong or len(held) != len(expected):
        check.record(
            f"committed rows not as acknowledged ({len(held)} rows for {len(expected)} "
            f"voters, {wrong} wrong)"
        )


# What `dsbot run` answers with: dispatch behind the production cooldowns.
ANSWER = guarded()


async def one_press(services: Services, voter: int, round_: int) -> Reply:
    return await ANSWER(
        Request(
            platform="telegram",
            user_id=str(voter),
            chat_id=f"-100{voter % 50}",
            chat_kind="group",
            action=f"poll:{DEEPSEEK_POLL_ID}:{option_of(voter, round_)}",
            delivery_id=f"{round_}/{voter}",
        ),
        services,
    )


def sqlite_connection(services: Services) -> aiosqlite.Connection:
    """The connection under the SQLite stores: the bench counts the transactions on it."""
    db = services.chat_settings.db
    assert isinstance(db, Database), "the bench runs on SQLite"
    return db.connection


async def grouped(path: Path, voters: int, rounds: int, check: ReplyCheck) -> Side:
    """`voters` concurrent presses per round through dispatch, production Services."""
    settings = Settings(dsbot_database=path, dsbot_market="offline", _env_file=None)  # type: ignore[call-arg]
    async with build_services(settings) as services:
        poll = await services.polls.get(DEEPSEEK_POLL_ID)
        assert poll is not None
        labels = labels_of(poll, "en")
        # Warm up imports and caches outside the clock.
        warm = await one_press(services, voters, 0)
        if problem := vote_problem(warm, labels[option_of(voters, 0)]):
            raise SystemExit(f"the warm-up vote was not acknowledged: {problem}")
        connection = sqlite_connection(services)
        counter = TransactionCounter()
        await counter.watch(connection)
        acknowledged = 0
        started = time.perf_counter()
        for round_ in range(rounds):
            replies = await asyncio.gather(
                *(one_press(services, voter, round_) for voter in range(voters))
            )
            for voter, reply in enumerate(replies):
                problem = vote_problem(reply, labels[option_of(voter, round_)])
                check.record(problem, reply.notice or reply.plain_text())
                acknowledged += problem is None
        seconds = time.perf_counter() - started
        await connection.set_trace_callback(None)
        await stored_problems(connection, voters, rounds, check)
    return Side(acknowledged, seconds, counter.transactions)


async def naive(path: Path, voters: int, rounds: int, check: ReplyCheck) -> Side:
    """One upsert and one commit per vote, in a loop, over the same schema and pragmas."""
    async with open_database(path) as db:
        connection = db.connection
        now = datetime.now(UTC).isoformat(timespec="seconds")
        async with db.transaction() as created:
            secret = await voter_secret(created, datetime.now(UTC))

        async def vote(voter: int, round_: int) -> None:
            await connection.execute("BEGIN IMMEDIATE")
            await connection.execute(
                "INSERT INTO poll_votes (poll_id, platform, user_id, choices, voted_at) "
                "VALUES (?, 'telegram', ?, ?, ?) ON CONFLICT (poll_id, platform, user_id) "
                "DO UPDATE SET choices = excluded.choices, voted_at = excluded.voted_at",
                (DEEPSEEK_POLL_ID, key_of(secret, voter), 1 << option_of(voter, round_), now),
            )
            await connection.commit()

        await vote(voters, 0)  # the same warm-up vote as the grouped side
        counter = TransactionCounter()
        await counter.watch(connection)
        started = time.perf_counter()
        for round_ in range(rounds):
            for voter in range(voters):
                await vote(voter, round_)
                check.record(None)  # acknowledged once its commit returned
        seconds = time.perf_counter() - started
        await connection.set_trace_callback(None)
        await stored_problems(connection, voters, rounds, check)
    return Side(voters * rounds, seconds, counter.transactions)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    voters, rounds = options.voters, options.rounds
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    checks = [ReplyCheck("naive loop"), ReplyCheck("grouped through dispatch")]
    slow = await naive(folder / "naive.sqlite3", voters, rounds, checks[0])
    fast = await grouped(folder / "grouped.sqlite3", voters, rounds, checks[1])
    fail_if_any(checks)
    naive_rate, grouped_rate = slow.votes / slow.seconds, fast.votes / fast.seconds
    print(f"python {sys.version.split()[0]}, database files in {folder} (WAL, synchronous=FULL)")
    print(
        f"{voters} voters x {rounds} rounds on each side, every vote acknowledged and found "
        "committed afterwards; transactions counted by a trace callback on the connection"
    )
    print(
        f"naive loop, one aiosqlite upsert + commit per vote: {slow.votes} votes in "
        f"{slow.seconds:.2f} s = {naive_rate:,.0f} durable votes/s ({slow.transactions} "
        "transactions)"
    )
    print(
        f"dispatch + /poll handler + group commit, {voters} concurrent voters per round: "
        f"{fast.votes} votes in {fast.seconds:.2f} s = {grouped_rate:,.0f} durable votes/s "
        f"({fast.transactions} transactions, {fast.votes / max(fast.transactions, 1):.0f} "
        "votes each)"
    )
    print(
        f"sqlite: {grouped_rate:.0f} votes/s grouped vs {naive_rate:.0f} naive = "
        f"{grouped_rate / naive_rate:.1f}x (goal >= 10x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
