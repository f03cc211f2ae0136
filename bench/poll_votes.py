"""Durable poll votes per second on both backends: group commit through dispatch vs naive.

For each backend, both sides do the same work: the same `--voters` members vote `--rounds`
times each (option (voter + round) % 4, so every round changes every vote), after one warm-up
vote and one warm-up round of every voter outside the clock. The grouped side is the real
path: the Services `dsbot run` builds (cooldowns included), and all voters press a poll
button at once, each pressing again as soon as their last press is answered (a closed loop:
nobody waits for a round to end), each press going through dispatch and the /poll action
handler into PollStore's group commit. The baseline,
measured in the same run on the same kind of database, is the naive loop: one upsert
committed per vote (SQLite: BEGIN IMMEDIATE, upsert, COMMIT on the bot's WAL file with
synchronous=FULL; PostgreSQL: one upsert in autocommit, one round trip each).

PostgreSQL is a throwaway cluster of the bench's own (tests/pg.py), started with the
server's durable defaults (fsync on, synchronous_commit on), not the tests' fsync=off.
Transactions are counted, not inferred: on SQLite a trace callback on each side's connection
counts the COMMITs; on PostgreSQL the transaction ids the server handed out (each write
transaction takes one; reading the next one takes none). Every grouped press must be answered
with the vote notice (not an error, "busy" or "slow down"), and afterwards each side's table
must hold every voter's last acknowledged choice; otherwise the run exits 1.
Usage: .venv/bin/python -m bench.poll_votes [--voters 1000] [--rounds 3] [--only sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from bench.replies import ReplyCheck, fail_if_any, refusal_in, template_pattern
from bot.config import Settings
from bot.cooldowns import guarded
from bot.dispatch import Dispatch
from bot.services import build_services
from handlers.model import Reply, Request, Services
from handlers.poll_view import labels_of
from storage.backends import open_sql
from storage.db import Database
from storage.poll_privacy import SECRET_KEY, voter_key, voter_secret
from storage.polls import DEEPSEEK_POLL_ID
from storage.sql import Sql, placeholders_for
from storage.urls import ServerUrl, database_location

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

    @property
    def rate(self) -> float:
        return self.votes / self.seconds


def key_of(secret: bytes, voter: int) -> str:
    """The stored key of a voter: both sides keep keyed hashes, never user ids."""
    return voter_key(secret, DEEPSEEK_POLL_ID, "telegram", str(voter))


# The untimed round each side votes first, so that both measure a database in use (its
# write-ahead log at its working size), not a new file's first growth: one grouped commit
# of a fresh file grows its WAL by hundreds of pages, and each such growth costs a journal
# commit of the file system on top of the fsync.
WARM_ROUND = -1


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


async def stored_problems(db: Sql, voters: int, rounds: int, check: ReplyCheck) -> None:
    """Every voter's row must hold their last acknowledged choice (the warm-up voter too)."""
    rows = await db.fetch_all(
        "SELECT user_id, choices FROM poll_votes WHERE poll_id = ? AND platform = 'telegram'",
        (DEEPSEEK_POLL_ID,),
    )
    held = {str(user): int(choices) for user, choices in rows}
    expected = {voter: 1 << option_of(voter, rounds - 1) for voter in range(voters)}
    expected[voters] = 1 << option_of(voters, 0)
    (secret_row,) = await db.fetch_all("SELECT value FROM bot_state WHERE key = ?", (SECRET_KEY,))
    secret = bytes.fromhex(str(secret_row[0]))
    wrong = sum(held.get(key_of(secret, voter)) != bits for voter, bits in expected.items())
    if wrong or len(held) != len(expected):
        check.record(
            f"committed rows not as acknowledged ({len(held)} rows for {len(expected)} "
            f"voters, {wrong} wrong)"
        )


async def one_press(services: Services, answer: Dispatch, voter: int, round_: int) -> Reply:
    return await answer(
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


class Transactions:
    """Counts the write transactions committed while the clock runs, on either backend."""

    def __init__(self, db: Sql) -> None:
        self.db = db
        self.sqlite = TransactionCounter()
        self._first_xid = 0

    async def start(self) -> None:
        if isinstance(self.db, Database):
            await self.sqlite.watch(self.db.connection)
        else:
            self._first_xid = await self._next_xid()

    async def stop(self) -> int:
        if isinstance(self.db, Database):
            await self.db.connection.set_trace_callback(None)
            return self.sqlite.transactions
        # Every PostgreSQL write transaction takes one transaction id; reading the next one
        # takes none.
        return await self._next_xid() - self._first_xid

    async def _next_xid(self) -> int:
        rows = await self.db.fetch_all("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
        return int(rows[0][0])


async def grouped(database: Path | ServerUrl, voters: int, rounds: int, check: ReplyCheck) -> Side:
    """`voters` concurrent presses per round through dispatch, production Services."""
    settings = Settings(dsbot_database=database, dsbot_market="offline", _env_file=None)  # type: ignore[call-arg]
    # What `dsbot run` answers with: dispatch behind the production cooldowns.
    answer = guarded()
    async with build_services(settings) as services:
        poll = await services.polls.get(DEEPSEEK_POLL_ID)
        assert poll is not None
        labels = labels_of(poll, "en")
        # Warm up imports and caches outside the clock.
        warm = await one_press(services, answer, voters, 0)
        if problem := vote_problem(warm, labels[option_of(voters, 0)]):
            raise SystemExit(f"the warm-up vote was not acknowledged: {problem}")
        warm_round = await asyncio.gather(
            *(one_press(services, answer, voter, WARM_ROUND) for voter in range(voters))
        )
        for voter, reply in enumerate(warm_round):
            if problem := vote_problem(reply, labels[option_of(voter, WARM_ROUND)]):
                raise SystemExit(f"a warm-up round vote was not acknowledged: {problem}")
        counter = Transactions(services.polls.db)
        await counter.start()
        answered: list[list[Reply | None]] = [[None] * voters for _ in range(rounds)]

        async def member(voter: int) -> None:
            # Each member presses again once the last press was answered, as a person does:
            # their votes stay in order, and nobody waits for anybody else's.
            for round_ in range(rounds):
                answered[round_][voter] = await one_press(services, answer, voter, round_)

        started = time.perf_counter()
        await asyncio.gather(*(member(voter) for voter in range(voters)))
        seconds = time.perf_counter() - started
        transactions = await counter.stop()
        # Checked once the clock has stopped: the naive side is not charged for checking.
        acknowledged = 0
        for round_, replies in enumerate(answered):
            for voter, reply in enumerate(replies):
                assert reply is not None
                problem = vote_problem(reply, labels[option_of(voter, round_)])
                check.record(problem, reply.notice or reply.plain_text())
                acknowledged += problem is None
        await stored_problems(services.polls.db, voters, rounds, check)
    return Side(acknowledged, seconds, transactions)


_UPSERT = (
    "INSERT INTO poll_votes (poll_id, platform, user_id, choices, voted_at) "
    "VALUES (?, 'telegram', ?, ?, ?) ON CONFLICT (poll_id, platform, user_id) "
    "DO UPDATE SET choices = excluded.choices, voted_at = excluded.voted_at"
)


def naive_vote(db: Sql, secret: bytes, now: str) -> Callable[[int, int], Awaitable[None]]:
    """One vote committed on its own, the plain way for each backend."""
    if isinstance(db, Database):
        connection = db.connection

        async def on_sqlite(voter: int, round_: int) -> None:
            await connection.execute("BEGIN IMMEDIATE")
            await connection.execute(
                _UPSERT,
                (DEEPSEEK_POLL_ID, key_of(secret, voter), 1 << option_of(voter, round_), now),
            )
            await connection.commit()

        return on_sqlite
    from storage.postgres import PostgresDatabase

    assert isinstance(db, PostgresDatabase)
    pool, upsert = db.pool, placeholders_for("postgresql", _UPSERT)

    async def on_postgresql(voter: int, round_: int) -> None:
        await pool.execute(
            upsert, DEEPSEEK_POLL_ID, key_of(secret, voter), 1 << option_of(voter, round_), now
        )

    return on_postgresql


async def naive(database: Path | ServerUrl, voters: int, rounds: int, check: ReplyCheck) -> Side:
    """One upsert and one commit per vote, in a loop, over the same schema and settings."""
    async with open_sql(database) as db:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        async with db.transaction() as created:
            secret = await voter_secret(created, datetime.now(UTC))
        vote = naive_vote(db, secret, now)
        await vote(voters, 0)  # the same warm-up vote and round as the grouped side
        for voter in range(voters):
            await vote(voter, WARM_ROUND)
        counter = Transactions(db)
        await counter.start()
        started = time.perf_counter()
        for round_ in range(rounds):
            for voter in range(voters):
                await vote(voter, round_)
                check.record(None)  # acknowledged once its commit returned
        seconds = time.perf_counter() - started
        transactions = await counter.stop()
        await stored_problems(db, voters, rounds, check)
    return Side(voters * rounds, seconds, transactions)


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    goal: float
    naive: Side
    grouped: Side

    @property
    def ratio(self) -> float:
        return self.grouped.rate / self.naive.rate

    def report(self) -> list[str]:
        slow, fast = self.naive, self.grouped
        return [
            f"{self.name} naive loop, one upsert + commit per vote: {slow.votes} votes in "
            f"{slow.seconds:.2f} s = {slow.rate:,.0f} durable votes/s "
            f"({slow.transactions} transactions)",
            f"{self.name} dispatch + /poll handler + group commit: {fast.votes} votes in "
            f"{fast.seconds:.2f} s = {fast.rate:,.0f} durable votes/s ({fast.transactions} "
            f"transactions, {fast.votes / max(fast.transactions, 1):.0f} votes each)",
        ]

    def last_line(self) -> str:
        return (
            f"{self.name}: {self.grouped.rate:.0f} votes/s grouped vs {self.naive.rate:.0f} "
            f"naive = {self.ratio:.1f}x (goal >= {self.goal:.0f}x)"
        )


async def measure(
    name: str,
    goal: float,
    databases: tuple[Path | ServerUrl, Path | ServerUrl],
    voters: int,
    rounds: int,
) -> Backend:
    checks = [ReplyCheck(f"{name} naive loop"), ReplyCheck(f"{name} grouped through dispatch")]
    slow = await naive(databases[0], voters, rounds, checks[0])
    fast = await grouped(databases[1], voters, rounds, checks[1])
    fail_if_any(checks)
    return Backend(name, goal, slow, fast)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    options = parser.parse_args()
    voters, rounds = options.voters, options.rounds
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    results: list[Backend] = []
    if options.only != "postgresql":
        files = (folder / "naive.sqlite3", folder / "grouped.sqlite3")
        results.append(await measure("sqlite", 10, files, voters, rounds))
    if options.only != "sqlite":
        from tests.pg import started_cluster

        cluster = await asyncio.to_thread(started_cluster, durable=True)
        try:
            urls = (
                database_location(await asyncio.to_thread(cluster.fresh_database)),
                database_location(await asyncio.to_thread(cluster.fresh_database)),
            )
            results.append(await measure("postgresql", 5, urls, voters, rounds))
        finally:
            await asyncio.to_thread(cluster.destroy)
    print(f"python {sys.version.split()[0]}; SQLite files in {folder} (WAL, synchronous=FULL)")
    print(
        f"{voters} voters x {rounds} rounds on each side, every vote acknowledged and found "
        "committed afterwards; write transactions counted while the clock ran"
    )
    for backend in results:
        print("\n".join(backend.report()))
    for backend in results:
        print(backend.last_line())


if __name__ == "__main__":
    asyncio.run(main())
