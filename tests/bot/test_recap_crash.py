"""A recap fan-out killed with SIGKILL half-way, then restarted: no chat gets the recap twice.

The sender (tests/bot/recap_crash_sender.py) is a separate process running the real
RecapScheduler and TelegramFrontEnd against the fake Bot API served by this test. It is
killed once part of the chats have their photo, then started again on the same database
and runs to the end. The fake counts what each chat received.

A recap is claimed in the database before it is sent (bot/scheduler.py), so a chat that was
claimed but whose send had not happened when the process died misses that session's recap:
that is the documented price of never sending twice. The test checks that those chats are
among the ones claimed and not confirmed, and that they are few: the chats claimed ahead of
their turn (CLAIM_AHEAD) and the sends that had just begun (BURST at once).
"""

from __future__ import annotations

import asyncio
import collections
import signal
import sys
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import BURST, CLAIM_AHEAD, MAX_IN_FLIGHT
from storage.backends import open_stores
from storage.db import open_database
from storage.subscriptions import Schedule
from storage.trading_calendar import nyse_calendar
from tests.bot.recap_crash_sender import DUE, write_sessions
from tests.conftest import dsbot_environment
from tests.fakes.telegram_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CHATS = 100
SENT_BEFORE_KILL = 20
FIRST_GROUP = -1001_500_000_001
SESSION = DUE.date().isoformat()


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    return telegram_fake


async def subscribe_chats(database: Path) -> list[str]:
    chats = [str(chat) for chat in range(FIRST_GROUP, FIRST_GROUP - CHATS, -1)]
    async with open_stores(database) as stores:
        store = stores.subscriptions
        schedule = Schedule(time(16, 15), ZoneInfo("America/New_York"))
        for number, chat in enumerate(chats):
            lang = "zh" if number % 3 == 0 else "en"
            await store.subscribe("telegram", chat, schedule, lang, "42", DUE - timedelta(days=1))
    return chats


async def start_sender(
    database: Path, sessions: Path, fake: FakeBotApi
) -> asyncio.subprocess.Process:
    environment = dsbot_environment()
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bot.recap_crash_sender",
        str(database),
        fake.base_url,
        fake.token,
        str(sessions),
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def received(fake: FakeBotApi) -> collections.Counter[str]:
    """Messages (texts and photos) each chat was sent successfully."""
    counts: collections.Counter[str] = collections.Counter()
    for method in ("sendMessage", "sendPhoto"):
        for params in fake.sent(method):
            counts[str(params["chat_id"])] += 1
    return counts


async def until_delivered(
    fake: FakeBotApi, process: asyncio.subprocess.Process, count: int, timeout: float = 60
) -> None:
    """Wait until `count` chats have their recap (a photo or a text, as the recap renders)."""
    async with asyncio.timeout(timeout):
        while sum(received(fake).values()) < count:
            if process.returncode is not None:
                assert process.stderr is not None
                error = (await process.stderr.read()).decode()
                raise AssertionError(f"the sender ended early: {error}")
            await asyncio.sleep(0.005)


async def claims(database: Path) -> dict[str, tuple[str | None, str | None]]:
    async with open_database(database) as db:
        rows = await db.connection.execute_fetchall(
            "SELECT chat_id, handled_session, last_sent_session FROM recap_subscriptions"
        )
    return {str(chat): (handled, sent) for chat, handled, sent in rows}


async def test_a_recap_fan_out_killed_half_way_and_restarted_sends_no_chat_a_second_recap(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    chats = await subscribe_chats(database)
    sessions = tmp_path / "sessions.json"
    write_sessions(nyse_calendar(), sessions)

    first = await start_sender(database, sessions, fake)
    try:
        await until_delivered(fake, first, SENT_BEFORE_KILL)
        first.send_signal(signal.SIGKILL)
        await asyncio.wait_for(first.wait(), 10)
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    assert first.returncode == -signal.SIGKILL
    before_restart = received(fake)
    assert SENT_BEFORE_KILL <= sum(before_restart.values()) < CHATS, "not killed half-way"

    second = await start_sender(database, sessions, fake)
    out, err = await asyncio.wait_for(second.communicate(), 60)
    assert second.returncode == 0, err.decode()
    assert b"done sent=" in out

    counts = received(fake)
    stored = await claims(database)
    assert max(counts.values()) == 1, f"sent twice: {[c for c, n in counts.items() if n > 1]}"
    assert all(chat in chats for chat in counts)
    assert sum(counts.values()) > sum(before_restart.values()), "the restart sent nothing"
    confirmed = {chat for chat, (_, sent) in stored.items() if sent == SESSION}
    claimed_only = {chat for chat, (handled, sent) in stored.items() if handled == SESSION} - (
        confirmed
    )
    assert all(handled == SESSION for handled, _ in stored.values()), "a chat was left unhandled"
    assert all(counts[chat] == 1 for chat in confirmed)
    missed = {chat for chat in chats if counts[chat] == 0}
    # The documented trade-off: claimed before the kill, never sent, not sent again.
    assert missed <= claimed_only
    assert len(missed) <= CLAIM_AHEAD + BURST, f"{len(missed)} chats lost their recap"
    assert len(claimed_only) <= MAX_IN_FLIGHT
