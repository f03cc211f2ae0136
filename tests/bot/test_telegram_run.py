"""`dsbot run` as a process against the fake Bot API: replies arrive, SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import dsbot_environment
from tests.fakes.telegram_api import FakeBotApi

GROUP = -1001_234_567_890
ADMIN = 42


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    telegram_fake.owners[GROUP] = ADMIN
    return telegram_fake


def environment(fake: FakeBotApi, database: Path) -> dict[str, str]:
    env = dsbot_environment()
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DSBOT_MARKET="offline",
        DSBOT_DATABASE=str(database),
    )
    return env


@contextlib.asynccontextmanager
async def dsbot_run(env: dict[str, str], cwd: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`dsbot run` (as `python -m bot run`), its output piped back to the test; killed at the
    end if the test left it running, so that a failed test leaves no bot behind."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_dsbot_run_answers_on_telegram_and_stops_cleanly_on_sigterm(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    database = tmp_path / "dsbot.sqlite3"
    async with dsbot_run(environment(fake, database), tmp_path) as process:
        await fake.wait_for("setMyCommands", 2, timeout=60)
        fake.send_command("/cost training")
        fake.send_command("/poll new Lunch? | Pizza | Sushi", chat_id=GROUP, user_id=ADMIN)
        await fake.wait_for("sendMessage", 2, timeout=30)
        (poll,) = (m for m in fake.chat_messages(GROUP) if m.buttons())

        # A vote and a slow reply are still in hand when the stop signal comes.
        fake.inject("answerCallbackQuery", delay=0.5)
        fake.inject("sendMessage", delay=0.5)
        fake.press(poll, poll.buttons()[0][1], user_id=7)
        fake.send_command("/about")
        await asyncio.gather(
            fake.wait_until_holding("answerCallbackQuery", timeout=30),
            fake.wait_until_holding("sendMessage", timeout=30),
        )
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 0, logged
    assert len(fake.sent("sendMessage")) == 3
    assert len(fake.sent("answerCallbackQuery")) == 1
    assert poll.edits == 1 and "1" in poll.plain
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM poll_votes").fetchone() == (1,)
    assert "stopped; database closed" in logged
    telegram_errors = [
        line for line in logged.splitlines() if " ERROR " in line and "telegram" in line
    ]
    assert telegram_errors == []
    assert fake.token not in logged and fake.token.split(":")[1] not in logged


async def test_a_rejected_token_stops_dsbot_run_with_a_configuration_error_that_hides_it(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    env = environment(fake, tmp_path / "dsbot.sqlite3")
    wrong = "7000000001:AAwrongTokenForTests-9876543210zyxwvutsr"
    env["TELEGRAM_BOT_TOKEN"] = wrong

    async with dsbot_run(env, tmp_path) as process:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 3, logged
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in logged
    assert wrong not in logged and wrong.split(":")[1] not in logged
    assert "Traceback" not in logged


async def test_sigterm_stops_dsbot_run_cleanly_while_telegram_is_still_unreachable(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    fake.inject("getMe", status=502, seconds=120)
    async with dsbot_run(environment(fake, tmp_path / "dsbot.sqlite3"), tmp_path) as process:
        while len(fake.attempts("getMe")) < 2:  # retrying, as it should
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)

    logged = stderr.decode()
    assert process.returncode == 0, logged
    assert "telegram: still connecting when asked to stop" in logged
    assert "stopped; database closed" in logged
