"""The front-end suites' fakes and running front ends: Telegram and Discord, each over HTTP.

`telegram_fake` is the fake Bot API and `telegram` a TelegramFrontEnd polling it;
`discord_fake` is the fake Discord (discord.py pointed at it) and `discord_front_end` a
connected DiscordFrontEnd. Both front ends run over the `services` fixture, so a module
whose front ends need other Services overrides `services`; one whose Telegram needs other
timings overrides `telegram_tuning`. A test that needs a second front end, or other options,
calls `start_telegram(...)` / `start_discord(...)`. A module whose tests call one of the
fakes `fake` says which with a small fixture of its own.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.cooldowns import Cooldowns, Rate, guarded
from bot.discord.frontend import DiscordFrontEnd
from bot.dispatch import Dispatch
from bot.health import Health, State
from bot.tally import TallyRefresher
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.model import Services
from storage.backends import Stores, open_stores
from tests.fakes.discord_api import FakeDiscord, point_discord_py_at
from tests.fakes.telegram_api import FakeBotApi

DISCORD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMg.canary.Discord-token-that-must-never-be-logged"

StartTelegram = Callable[..., Awaitable[TelegramFrontEnd]]
StartDiscord = Callable[..., Awaitable[DiscordFrontEnd]]


def unused_port() -> int:
    """A loopback port where nothing listens now: a fake started there later comes "back"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class StateLog:
    """Every state change a Health records, in order, and a way to wait for one."""

    def __init__(self, health: Health) -> None:
        self.health = health
        self.changes: list[tuple[str, State]] = []
        self._changed = asyncio.Event()
        health.listeners.append(self._record)

    def _record(self, component: str, state: State) -> None:
        self.changes.append((component, state))
        self._changed.set()

    def of(self, component: str) -> list[State]:
        return [state for name, state in self.changes if name == component]

    async def until(self, component: str, *states: State, timeout: float = 30.0) -> None:
        """Until `component` has gone through `states` in this order (others between)."""

        def seen() -> bool:
            wanted = iter(states)
            goal = next(wanted, None)
            for state in self.of(component):
                if state is goal:
                    goal = next(wanted, None)
            return goal is None

        async with asyncio.timeout(timeout):
            while not seen():
                self._changed.clear()
                await self._changed.wait()


def no_throttle() -> TallyRefresher:
    """Refreshes run at once: the throttling itself is tested with bot/tally.py."""
    return TallyRefresher(interval=0.0)


def telegram_settings(fake: FakeBotApi) -> Settings:
    return Settings(
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_base_url=fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )


def discord_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_bot_token": DISCORD_TOKEN,
        "dsbot_database": tmp_path / "dsbot.sqlite3",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def sqlite_stores(tmp_path: Path) -> AsyncIterator[Stores]:
    """Every store over a fresh SQLite file: one worker's view of a fleet's database."""
    async with open_stores(tmp_path / "dsbot.sqlite3") as opened:
        yield opened


@pytest.fixture
def tight_cooldowns() -> Dispatch:
    """Dispatch behind cooldowns that let a member send only two commands a minute."""
    return guarded(Cooldowns(per_user=Rate(2, 60.0), per_chat=Rate(100, 60.0)))


# -- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def telegram_fake() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi().start()
    yield api
    await api.close()


@pytest.fixture
def telegram_tuning() -> TelegramTuning:
    # Short polls and retries, so that a test waits for the bot in fractions of a second.
    return TelegramTuning(poll_timeout=1, retry_first_delay=0.05, retry_max_delay=0.2)


@pytest.fixture
async def start_telegram(
    telegram_fake: FakeBotApi, services: Services, telegram_tuning: TelegramTuning
) -> AsyncIterator[StartTelegram]:
    """Start a TelegramFrontEnd on the fake (over `services` unless given); stopped at the end."""
    running: list[TelegramFrontEnd] = []

    async def start(over: Services = services, **options: Any) -> TelegramFrontEnd:
        options.setdefault("tuning", telegram_tuning)
        front_end = TelegramFrontEnd(telegram_settings(telegram_fake), over, **options)
        await front_end.start()
        running.append(front_end)
        return front_end

    yield start
    for front_end in reversed(running):
        await front_end.stop()


@pytest.fixture
async def telegram(start_telegram: StartTelegram) -> TelegramFrontEnd:
    return await start_telegram()


# -- Discord --------------------------------------------------------------------------------


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        with point_discord_py_at(server):
            yield server
    finally:
        # A test that held the gateway's resumes back must not leave the client waiting.
        server.resumes_allowed.set()
        await server.close()


@pytest.fixture
async def start_discord(
    discord_fake: FakeDiscord, services: Services, tmp_path: Path
) -> AsyncIterator[StartDiscord]:
    """Start a DiscordFrontEnd (over `services` unless given) and wait until it is connected;
    stopped at the end. Options such as defer_after go to DiscordFrontEnd."""
    running: list[DiscordFrontEnd] = []

    async def start(over: Services = services, **options: Any) -> DiscordFrontEnd:
        front_end = DiscordFrontEnd(
            discord_settings(tmp_path), over, tally=no_throttle(), **options
        )
        await front_end.start()
        running.append(front_end)
        await discord_fake.wait_until_connected()
        return front_end

    try:
        yield start
    finally:
        for front_end in reversed(running):
            await front_end.stop()


@pytest.fixture
async def discord_front_end(start_discord: StartDiscord) -> DiscordFrontEnd:
    return await start_discord()
