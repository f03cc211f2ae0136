"""Durable poll votes per second on one PostgreSQL from 1, 2 and 3 bot processes at once.

Each process is what a Telegram worker is below its HTTP layer: the Services `dsbot run`
builds on DSBOT_DATABASE=postgresql://... (its own asyncpg pool), answering presses through
dispatch behind the production cooldowns, into PollStore. It votes `--voters` members of its
own (distinct from the other processes') `--rounds` times each, every round all at once,
option (voter + round) % 4, after one warm-up vote outside the clock. The processes start
together on a line from this one; the figure is all their acknowledged votes over the time
from that start to the last one's end. Every press must be answered with the vote notice,
and afterwards the table must hold every voter's last choice; otherwise the run exits 1.

The server is the tests' throwaway cluster (tests/pg.py: 127.0.0.1, fsync off), on the same
machine and cores as the bot processes, so more processes share the same CPUs: the figures
show the cost per vote and where it goes, not how it would scale over more machines.
Usage: .venv/bin/python -m bench.pg_votes [--voters 500] [--rounds 3] [--processes 1 2 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

from bench.poll_votes import one_press, option_of, vote_problem
from bench.replies import ReplyCheck, fail_if_any
from bot.config import Settings
from bot.cooldowns import guarded
from bot.services import build_services
from handlers.poll_view import labels_of
from storage.backends import open_stores
from storage.polls import DEEPSEEK_POLL_ID
from storage.urls import database_location

ROOT = Path(__file__).resolve().parents[1]


def server_cpu(data: Path) -> float:
    """CPU seconds used so far by the PostgreSQL server: the postmaster and its children."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid, parent = int(stat.parent.name), int(fields[1])
        if postmaster in (pid, parent):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def child(url: str, first: int, voters: int, rounds: int) -> None:
    """One bot process: ready, wait for the start line, vote, print what it did as JSON."""
    settings = Settings(
        dsbot_database=database_location(url), dsbot_market="offline", _env_file=None
    )  # type: ignore[call-arg]
    check = ReplyCheck(f"process voting from {first}")
    async with build_services(settings) as services:
        poll = await services.polls.get(DEEPSEEK_POLL_ID)
        assert poll is not None
        labels = labels_of(poll, "en")
        answer = guarded()
        warm = await one_press(services, answer, first + voters, 0)
        if problem := vote_problem(warm, labels[option_of(first + voters, 0)]):
            raise SystemExit(f"the warm-up vote was not acknowledged: {problem}")
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu, started = cpu_seconds(), time.perf_counter()
        batches = services.polls.batches
        acknowledged = 0
        for round_ in range(rounds):
            replies = await asyncio.gather(
                *(
                    one_press(services, answer, voter, round_)
                    for voter in range(first, first + voters)
                )
            )
            for voter, reply in zip(range(first, first + voters), replies, strict=True):
                problem = vote_problem(reply, labels[option_of(voter, round_)])
                check.record(problem, reply.notice or reply.plain_text())
                acknowledged += problem is None
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        batches = services.polls.batches - batches
        fail_if_any([check])
        figures = {"votes": acknowledged, "seconds": seconds, "cpu": cpu, "batches": batches}
        print(json.dumps(figures), flush=True)
        # Connected until told: the server's CPU is read while its backends still exist.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def stored_votes(url: str) -> int:
    async with open_stores(database_location(url)) as stores:
        found = await stores.polls.get_with_tally(DEEPSEEK_POLL_ID)
    assert found is not None
    _, tally = found
    return int(tally.voters)


async def run(url: str, data: Path, processes: int, voters: int, rounds: int) -> dict[str, float]:
    async with open_stores(database_location(url)):
        pass  # migrated once, not by the racing processes
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.pg_votes",
            "--child",
            url,
            str(number * (voters + 1)),
            str(voters),
            str(rounds),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for number in range(processes)
    ]
    for process in children:
        assert process.stdout is not None
        if await process.stdout.readline() != b"ready\n":
            raise SystemExit("a voting process did not start")
    started, server = time.perf_counter(), server_cpu(data)
    for process in children:
        assert process.stdin is not None
        process.stdin.write(b"go\n")
    lines = await asyncio.gather(*(p.stdout.readline() for p in children if p.stdout))
    wall, server = time.perf_counter() - started, server_cpu(data) - server
    await asyncio.gather(*(p.communicate(b"\n") for p in children))
    if any(p.returncode != 0 for p in children) or not all(lines):
        raise SystemExit("a voting process failed (see above)")
    results = [json.loads(line) for line in lines]
    votes = sum(r["votes"] for r in results)
    stored = await stored_votes(url)
    expected = processes * (voters + 1)  # each process's voters and its warm-up voter
    if stored != expected:
        raise SystemExit(f"{stored} voters stored, {expected} voted")
    return {
        "votes": votes,
        "wall": wall,
        "slowest": max(r["seconds"] for r in results),
        "cpu": sum(r["cpu"] for r in results),
        "server": server,
        "batches": sum(r["batches"] for r in results),
    }


async def main(options: argparse.Namespace) -> None:
    from tests.pg import started_cluster  # the tests' throwaway server, not a dependency

    cluster = started_cluster()
    try:
        print(
            f"python {sys.version.split()[0]}, PostgreSQL on 127.0.0.1 (tests/pg.py, fsync=off), "
            f"{options.voters} voters x {options.rounds} rounds per process, every vote "
            "acknowledged and found stored afterwards"
        )
        base = None
        for processes in options.processes:
            url = cluster.fresh_database()
            figures = await run(url, cluster.data, processes, options.voters, options.rounds)
            cluster.drop_database(url)
            rate = figures["votes"] / figures["wall"]
            base = base or rate
            print(
                f"{processes} process(es): {figures['votes']:.0f} votes in {figures['wall']:.2f} s "
                f"= {rate:,.0f} votes/s ({rate / base:.2f}x of 1); CPU per vote: bot "
                f"{1000 * figures['cpu'] / figures['votes']:.2f} ms, PostgreSQL "
                f"{1000 * figures['server'] / figures['votes']:.2f} ms; "
                f"{figures['votes'] / max(figures['batches'], 1):.1f} votes per transaction"
            )
    finally:
        cluster.destroy()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        url, first, voters, rounds = sys.argv[2:6]
        asyncio.run(child(url, int(first), int(voters), int(rounds)))
    else:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--voters", type=int, default=500)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
        asyncio.run(main(parser.parse_args()))
