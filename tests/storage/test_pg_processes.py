"""Three real processes on one PostgreSQL database, pressing and claiming at the same moment.

Each runs tests/storage/pg_presser.py; all of them wait at a barrier (a line on stdin, sent
to every process once all have said "ready"), then vote, redeliver, claim and read at once.
One run serves every test here: starting processes is the slow part.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from storage.backends import open_stores
from storage.poll_model import Tally
from storage.subscriptions import Schedule
from tests.pg import Cluster

PROCESSES = 3
CREATED = datetime(2025, 1, 27, 15, 0, tzinfo=UTC)
EXPIRED_POLLS = 4


@dataclass(frozen=True, slots=True)
class Run:
    reports: list[dict[str, Any]]
    multi: tuple[Tally, int]  # the tally and the number of vote rows
    single: tuple[Tally, int]
    expired_poll_ids: list[int]


async def arrange(url: str) -> tuple[list[int], list[int]]:
    """The two polls the processes vote in (multiple and single choice, each in a chat of
    its own: -100 and its id), 12 recap subscribers, and polls whose time ran out."""
    async with open_stores(url) as stores:
        voted = []
        for multi in (True, False):
            poll = await stores.polls.create(
                platform="telegram",
                chat_id=f"-100{len(voted) + 2}",
                question="Lunch?",
                options=["Noodles", "Rice", "Soup", "Salad"],
                multi=multi,
                closes_at=None,
                created_by="7",
                now=CREATED,
            )
            assert poll.chat_id == f"-100{poll.id}"
            voted.append(poll.id)
        expired = []
        for n in range(EXPIRED_POLLS):
            ending = await stores.polls.create(
                platform="telegram",
                chat_id=f"ending-{n}",
                question="Soon over?",
                options=["Yes", "No"],
                multi=False,
                closes_at=CREATED + timedelta(minutes=1),
                created_by="7",
                now=CREATED,
            )
            expired.append(ending.id)
        schedule = Schedule(time(16, 15), ZoneInfo("America/New_York"))
        for n in range(12):
            await stores.subscriptions.subscribe(
                "telegram", f"recap-{n}", schedule, "en", "7", CREATED
            )
    return voted, expired


async def outcome(url: str, poll_id: int) -> tuple[Tally, int]:
    async with open_stores(url) as stores:
        found = await stores.polls.get_with_tally(poll_id)
        assert found is not None
        rows = await stores.db.fetch_all(
            "SELECT count(*) FROM poll_votes WHERE poll_id = ?", (poll_id,)
        )
    return found[1], int(rows[0][0])


def run_processes(url: str, polls: list[int]) -> list[dict[str, Any]]:
    arguments = [str(poll_id) for poll_id in polls]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.storage.pg_presser", url, str(index), *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(PROCESSES)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            ready = process.stdout.readline().strip()
            assert ready == "ready", process.communicate(timeout=60)[1][-2000:]
        for process in processes:  # the barrier opens for all of them at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-2000:]
            # Nothing logged: a batch that failed and was retried vote by vote would be.
            assert err == "", err[-2000:]
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=30)


@pytest.fixture(scope="module")
def run(pg_cluster: Cluster) -> Iterator[Run]:
    url = pg_cluster.fresh_database()
    try:
        (multi, single), expired = asyncio.run(arrange(url))
        reports = run_processes(url, [multi, single])
        yield Run(
            reports, asyncio.run(outcome(url, multi)), asyncio.run(outcome(url, single)), expired
        )
    finally:
        pg_cluster.drop_database(url)


def test_presses_of_one_user_from_three_processes_at_once_all_count_in_one_vote(
    run: Run,
) -> None:
    tally, rows = run.multi

    # u0..u29 toggled Noodles, Rice and Soup, one option from each process; r0..r9 Salad once.
    assert tally.counts == (30, 30, 30, 10)
    assert (tally.voters, rows) == (40, 40)


def test_votes_changed_and_withdrawn_while_other_processes_vote_end_as_the_last_choice(
    run: Run,
) -> None:
    tally, rows = run.single

    # c0..c2 voted Noodles then changed to Soup; w0..w2 voted Rice, then withdrew it.
    assert tally.counts == (0, 0, 3, 0)
    assert (tally.voters, rows) == (3, 3)


def test_a_press_redelivered_to_three_processes_is_counted_by_exactly_one_of_them(
    run: Run,
) -> None:
    counted = Counter(delivery for report in run.reports for delivery in report["shared_counted"])

    assert counted == {f"shared/{n}": 1 for n in range(10)}


def test_each_chats_recap_is_claimed_by_exactly_one_process(run: Run) -> None:
    claimed = Counter(chat for report in run.reports for chat in report["recaps_claimed"])

    assert claimed == {f"recap-{n}": 1 for n in range(12)}


def test_each_expired_poll_is_closed_and_its_announcement_claimed_by_exactly_one_process(
    run: Run,
) -> None:
    closed = Counter(poll for report in run.reports for poll in report["polls_closed"])
    announced = Counter(poll for report in run.reports for poll in report["announcements_claimed"])

    assert closed == {poll: 1 for poll in run.expired_poll_ids}
    assert announced == {poll: 1 for poll in run.expired_poll_ids}


def test_the_chart_and_price_one_process_cached_are_read_by_the_others(run: Run) -> None:
    # b"\x89PNG\r\n\x1a\n-shared" as hex, the chart process 0 stored before the barrier.
    assert [report["chart"] for report in run.reports[1:]] == ["89504e470d0a1a0a2d736861726564"] * 2
    assert [report["latest"] for report in run.reports[1:]] == [118.42, 118.42]
