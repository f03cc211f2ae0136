"""Both front ends in one `run_front_ends`, each platform coming and going on its own.

The real python-telegram-bot and discord.py talk to the fakes on 127.0.0.1. Each test
starts a fake late, on a port where nothing listened when the bot started, as a platform
that is down (or a server whose network is not up yet) and then comes back. The back-off is
shortened for the test; production's is tested with the supervisor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.discord.frontend import DiscordFrontEnd
from bot.frontend import FrontEnd
from bot.health import Health, State
from bot.metrics import Metrics
from bot.runner import run_front_ends
from bot.supervisor import Backoff
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.model import Services
from tests.bot.conftest import DISCORD_TOKEN, StateLog, no_throttle, unused_port
from tests.fakes.discord_api import FakeDiscord, point_discord_py_at
from tests.fakes.telegram_api import FakeBotApi

FAST = Backoff(first=0.05, cap=0.5)
TUNING = TelegramTuning(poll_timeout=1, retry_first_delay=0.05, retry_max_delay=0.2)
CALLBACK = r"/interactions/{}/[^/]+/callback"


def settings(telegram: FakeBotApi, tmp_path: Path) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(telegram.token),
        telegram_api_base_url=telegram.base_url,
        discord_bot_token=SecretStr(DISCORD_TOKEN),
        dsbot_database=tmp_path / "dsbot.sqlite3",
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )


def front_ends(
    settings: Settings, services: Services, metrics: Metrics | None = None
) -> list[FrontEnd]:
    return [
        TelegramFrontEnd(settings, services, tuning=TUNING),
        DiscordFrontEnd(settings, services, tally=no_throttle()),
    ]


@contextlib.asynccontextmanager
async def running(settings: Settings, health: Health) -> AsyncIterator[None]:
    """The bot running until the block ends; then it must stop cleanly (exit code 0)."""
    stop = asyncio.Event()
    bot = asyncio.create_task(
        run_front_ends(settings, stop=stop, health=health, backoff=FAST, make_front_ends=front_ends)
    )
    try:
        yield
    finally:
        stop.set()
        assert await asyncio.wait_for(bot, timeout=60) == 0


@contextlib.contextmanager
def discord_down_on_a_port() -> Iterator[FakeDiscord]:
    """A fake Discord that discord.py is pointed at but that does not listen yet."""
    fake = FakeDiscord()
    fake.port = unused_port()
    with point_discord_py_at(fake):
        yield fake


async def answers_on_discord(fake: FakeDiscord, timeout: float) -> None:
    interaction = await fake.slash("about")
    await fake.wait_for_call("POST", CALLBACK.format(interaction["id"]), timeout=timeout)


async def test_with_discord_unreachable_telegram_answers_at_once_and_discord_joins_later(
    telegram_fake: FakeBotApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    health = Health()
    states = StateLog(health)
    with discord_down_on_a_port() as discord:
        try:
            async with running(settings(telegram_fake, tmp_path), health):
                await states.until("discord", State.RETRYING, timeout=10)
                telegram_fake.send_command("/about")
                await telegram_fake.wait_for("sendMessage", timeout=10)
                assert health.states["discord"] is not State.CONNECTED

                await discord.start()
                await discord.wait_until_connected(timeout=90)
                await answers_on_discord(discord, timeout=10)
                await states.until("discord", State.CONNECTED, timeout=10)
                await states.until("scheduler", State.CONNECTED, timeout=60)
                assert health.ready()
        finally:
            await discord.close()

    supervised = [r for r in caplog.records if r.name == "bot.supervisor"]
    retries = [r.getMessage() for r in supervised if "retrying in" in r.getMessage()]
    assert retries and all(line.startswith("discord: unreachable (") for line in retries)
    assert [r for r in supervised if r.exc_info] == []


async def test_with_telegram_unreachable_discord_answers_and_a_telegram_outage_stalls_nothing(
    discord_fake: FakeDiscord, tmp_path: Path
) -> None:
    health = Health()
    states = StateLog(health)
    telegram = FakeBotApi()
    telegram.port = unused_port()
    try:
        async with running(settings(telegram, tmp_path), health):
            await discord_fake.wait_until_connected(timeout=30)
            await answers_on_discord(discord_fake, timeout=10)
            assert health.states["telegram"] is State.CONNECTING  # still asking getMe

            await telegram.start()
            await states.until("telegram", State.CONNECTED, timeout=30)
            telegram.send_command("/about")
            await telegram.wait_for("sendMessage", timeout=10)

            await telegram.refuse_connections()
            await states.until("telegram", State.CONNECTED, State.LOST, timeout=30)
            await answers_on_discord(discord_fake, timeout=10)
            assert health.states["telegram"] is State.LOST
            assert not health.ready()

            await telegram.accept_connections()
            await states.until("telegram", State.LOST, State.CONNECTED, timeout=30)
            telegram.send_command("/about")
            await telegram.wait_for("sendMessage", 2, timeout=30)
            await states.until("scheduler", State.CONNECTED, timeout=60)
            assert health.ready()
    finally:
        await telegram.close()


async def test_a_discord_connection_that_ends_while_running_is_restarted(
    telegram_fake: FakeBotApi, tmp_path: Path
) -> None:
    health = Health()
    states = StateLog(health)
    with discord_down_on_a_port() as first:
        await first.start()
        async with running(settings(telegram_fake, tmp_path), health):
            await first.wait_until_connected(timeout=30)
            await states.until("discord", State.CONNECTED, timeout=10)

            await first.close()  # Discord goes away mid-run, gateway and all
            await states.until("discord", State.LOST, State.RETRYING, timeout=30)
            telegram_fake.send_command("/about")
            await telegram_fake.wait_for("sendMessage", timeout=10)

            second = FakeDiscord()
            second.port = first.port
            await second.start()
            try:
                await second.wait_until_connected(timeout=90)
                await answers_on_discord(second, timeout=10)
                await states.until("discord", State.RETRYING, State.CONNECTED, timeout=10)
            finally:
                await second.close()

    assert second.sessions[0].identify is not None, "not a new session: it was not restarted"
