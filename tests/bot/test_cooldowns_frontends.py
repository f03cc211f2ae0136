"""A member flooding the bot on Telegram or Discord gets a polite reply, not silence.

The front ends run over the Services that `dsbot run` builds (bot.services.build_services,
cooldowns included), not the bare test Services, so this checks the production composition.
The cooldown arithmetic itself is tested in tests/handlers/test_cooldowns.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.cooldowns import guarded
from bot.discord.frontend import DiscordFrontEnd
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from handlers.i18n import text
from handlers.model import Services
from tests.bot.conftest import StartDiscord, StartTelegram
from tests.fakes.discord_api import FakeDiscord, RestCall
from tests.fakes.telegram_api import FakeBotApi

GROUP = -1001_234_567_890
FLOODER, CALM = 7, 8
# More than the 10 commands in 10 seconds a member may send; sent within about a second, so
# at most one unit of capacity drips back meanwhile.
BURST = 15
SLOW_DOWN = text("en", "core.slow_down")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    """In place of the bare test Services, what `dsbot run` builds: both front ends use it."""
    settings = Settings(
        dsbot_database=tmp_path / "dsbot.sqlite3",
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )
    async with build_services(settings) as services:
        yield services


@pytest.fixture
async def telegram(start_telegram: StartTelegram) -> TelegramFrontEnd:
    """The Telegram front end as `dsbot run` builds it: dispatch behind the cooldowns."""
    return await start_telegram(dispatcher=guarded())


@pytest.fixture
async def discord_front_end(start_discord: StartDiscord) -> DiscordFrontEnd:
    """The Discord front end as `dsbot run` builds it: dispatch behind the cooldowns."""
    return await start_discord(dispatcher=guarded())


# -- Telegram -------------------------------------------------------------------------------


def telegram_answers(fake: FakeBotApi, commands: list[dict[str, Any]]) -> list[str]:
    """The text of the bot's first message answering each command, in order ("" if none)."""
    first: dict[int, str] = {}
    for params in fake.sent("sendMessage"):
        replied = (params.get("reply_parameters") or {}).get("message_id")
        if replied is not None:
            first.setdefault(int(replied), str(params["text"]))
    return [first.get(update["message"]["message_id"], "") for update in commands]


async def test_a_flooding_telegram_member_is_told_to_slow_down_once_and_others_are_answered(
    telegram_fake: FakeBotApi, telegram: TelegramFrontEnd
) -> None:
    # More than the 20 messages a minute Telegram lets a bot post in a group: answering every
    # refused command there would itself flood the group and hold up everyone's answers.
    burst = 40
    flood = [
        telegram_fake.send_command("/about", chat_id=GROUP, user_id=FLOODER) for _ in range(burst)
    ]
    calm = [telegram_fake.send_command("/about", chat_id=GROUP, user_id=CALM)]
    await telegram_fake.wait_for("sendMessage", 12, timeout=30)  # >= 10 answers, 1 notice, calm
    # Stopping finishes every update the bot has in hand: no answer can come after it.
    await telegram_fake.wait_until_fetched()
    await telegram.stop()

    answers = [answer for answer in telegram_answers(telegram_fake, flood) if answer]
    refused = [answer for answer in answers if answer == SLOW_DOWN]
    assert len(refused) == 1
    assert 10 <= len(answers) - len(refused) <= 12  # the burst, plus what dripped back
    (calm_answer,) = telegram_answers(telegram_fake, calm)
    assert calm_answer and calm_answer != SLOW_DOWN


# -- Discord --------------------------------------------------------------------------------


async def discord_answer(fake: FakeDiscord, interaction: dict[str, Any]) -> RestCall:
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    (call,) = await fake.wait_for_call("POST", path, timeout=30)
    return call


def is_slow_down(call: RestCall) -> bool:
    return SLOW_DOWN in json.dumps(call.json, ensure_ascii=False)


async def test_a_flooding_discord_member_is_told_to_slow_down_privately_and_others_are_answered(
    discord_fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    flooder, calm = 1_000_000_000_000_000_007, 1_000_000_000_000_000_008
    flood = [await discord_fake.slash("about", user_id=flooder) for _ in range(BURST)]
    answers = [await discord_answer(discord_fake, interaction) for interaction in flood]
    calm_answer = await discord_answer(
        discord_fake, await discord_fake.slash("about", user_id=calm)
    )

    refused = [call for call in answers if is_slow_down(call)]
    assert 1 <= len(refused) <= BURST - 10
    assert len(answers) - len(refused) >= 10
    assert all(call.json["data"]["flags"] & 64 for call in refused)  # only the flooder sees it
    assert not is_slow_down(calm_answer)
