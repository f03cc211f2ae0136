"""A voter killed with SIGKILL mid-stream loses no acknowledged vote and counts none twice."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.db import open_database
from storage.polls import DEEPSEEK_POLL_ID, PollStore
from tests.conftest import dsbot_environment
from tests.storage.poll_crash_voter import options_for
from tests.storage.vote_keys import votes_by_user

ROOT = Path(__file__).resolve().parents[2]
ACKS_BEFORE_KILL = 400
DEADLINE_SECONDS = 60


def read_acks_then_kill(process: subprocess.Popen[bytes]) -> list[str]:
    """Lines read until enough acknowledgements arrived; then SIGKILL and read what remains."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    deadline = time.monotonic() + DEADLINE_SECONDS
    # Complete lines: "ready" and then acknowledgements.
    while buffer.count(b"\n") <= ACKS_BEFORE_KILL:
        assert time.monotonic() < deadline, "the voter did not vote fast enough"
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        if selector.select(timeout=1):
            buffer += os.read(process.stdout.fileno(), 65536)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    buffer += process.stdout.read()
    # A line cut by the kill is not a complete acknowledgement.
    return buffer.decode().split("\n")[:-1]


async def test_acknowledged_votes_survive_sigkill_and_none_counts_twice(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    environment = dsbot_environment()
    environment.update({"DSBOT_DATABASE": str(database), "DSBOT_MARKET": "offline"})
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.storage.poll_crash_voter", "40"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = read_acks_then_kill(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    acknowledged: dict[str, list[int]] = {}
    for line in lines:
        if line.startswith("ack "):
            _, user, option = line.split()
            acknowledged.setdefault(user, []).append(int(option))
    assert sum(len(options) for options in acknowledged.values()) >= ACKS_BEFORE_KILL

    async with open_database(database) as db:
        async with db.connection.execute("PRAGMA integrity_check") as cursor:
            assert await cursor.fetchone() == ("ok",)
        stored = await votes_by_user(db.connection, DEEPSEEK_POLL_ID, "telegram", acknowledged)
        found = await PollStore(db).get_with_tally(DEEPSEEK_POLL_ID)

    for user, options in acknowledged.items():
        assert user in stored, f"acknowledged vote of {user} is missing"
        held = stored[user].bit_length() - 1
        assert stored[user] == 1 << held, f"{user} holds several options"
        first, second = options_for(user)
        assert options == [first, second][: len(options)]
        if len(options) == 2:
            # Its change was acknowledged: nothing may have undone it (not the redelivery).
            assert held == second, f"{user} holds {held}, acknowledged {options}"
        else:
            # The change may have been committed without its acknowledgement being printed.
            assert held in (first, second), f"{user} holds {held}, acknowledged {options}"
    assert found is not None
    tally = found[1]
    assert tally.voters == len(stored)
    assert sum(tally.counts) == len(stored)
