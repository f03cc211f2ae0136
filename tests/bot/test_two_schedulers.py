"""Two scheduler processes by mistake, on one PostgreSQL: each chat still gets each recap and
each closing announcement exactly once, through the claims in the database.

Each process (tests/bot/scheduler_process.py) runs the real RecapScheduler and PollClosingJob
with the real Telegram front end against the fake Bot API served here, on its own connections
to the database. Both are told to start at the same moment, so they race for every claim; the
fake counts what each chat received.
"""

from __future__ import annotations

import asyncio
import collections
import re
import sys
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from storage.backends import open_stores
from storage.subscriptions import Schedule
from storage.trading_calendar import nyse_calendar
from storage.urls import database_location
from tests.bot.recap_crash_sender import DUE, write_sessions
from tests.conftest import dsbot_environment
from tests.fakes.telegram_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
RECAP_CHATS = [str(chat) for chat in range(-1001_600_000_001, -1001_600_000_061, -1)]
POLL_CHATS = [str(chat) for chat in range(-1001_700_000_001, -1001_700_000_021, -1)]


async def prepare(database: str) -> None:
    """60 chats subscribed to the recap due at DUE; 20 chats whose poll closed before it."""
    async with open_stores(database_location(database)) as stores:
        schedule = Schedule(time(16, 15), ZoneInfo("America/New_York"))
        for chat in RECAP_CHATS:
            await stores.subscriptions.subscribe(
                "telegram", chat, schedule, "en", "42", DUE - timedelta(days=1)
            )
        for chat in POLL_CHATS:
            await stores.polls.create(
                platform="telegram",
                chat_id=chat,
                question="Lunch?",
                options=["Pizza", "Sushi"],
                multi=False,
                closes_at=DUE - timedelta(hours=1),
                created_by="42",
                now=DUE - timedelta(hours=3),
            )


async def start_scheduler(
    database: str, sessions: Path, fake: FakeBotApi
) -> asyncio.subprocess.Process:
    environment = dsbot_environment()
    # What a scheduler process of a deployment runs with (docs/scaling.md).
    environment["DSBOT_ROLES"] = "scheduler"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.scheduler_process",
        database,
        fake.base_url,
        fake.token,
        str(sessions),
        cwd=ROOT,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    assert line == b"ready\n", line + (await process.stderr.read() if process.stderr else b"")
    return process


def received(fake: FakeBotApi, chats: list[str]) -> collections.Counter[str]:
    """Messages (texts and photos) each of `chats` was sent."""
    counts: collections.Counter[str] = collections.Counter({chat: 0 for chat in chats})
    for method in ("sendMessage", "sendPhoto"):
        for params in fake.sent(method):
            if str(params["chat_id"]) in counts:
                counts[str(params["chat_id"])] += 1
    return counts


async def test_two_scheduler_processes_send_each_chat_its_recap_and_announcement_once(
    telegram_fake: FakeBotApi, tmp_path: Path, pg_url: str
) -> None:
    await prepare(pg_url)
    sessions = tmp_path / "sessions.json"
    write_sessions(nyse_calendar(), sessions)
    first = await start_scheduler(pg_url, sessions, telegram_fake)
    second = await start_scheduler(pg_url, sessions, telegram_fake)

    outputs = await asyncio.gather(
        *(asyncio.wait_for(p.communicate(b"go\n"), 120) for p in (first, second))
    )

    for process, (_, stderr) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
    done = [re.findall(rb"done recaps=(\d+) announcements=(\d+)", out)[0] for out, _ in outputs]
    recaps = received(telegram_fake, RECAP_CHATS)
    announcements = received(telegram_fake, POLL_CHATS)
    assert set(recaps.values()) == {1}, recaps
    assert set(announcements.values()) == {1}, announcements
    # Between them the two sent each once; `done` shows how they shared the work.
    assert sum(int(r) for r, _ in done) == 60, done
    assert sum(int(a) for _, a in done) == 20, done
