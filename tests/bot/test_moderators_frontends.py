"""Who counts as a moderator on each platform: the cases the front-end suites do not cover.

Already tested there: Telegram member / administrator / creator from getChatMember and its
one-minute cache (tests/bot/test_telegram_frontend.py); Discord Manage Server, a configured
role by id and direct messages (tests/bot/test_discord_frontend.py). Here: posting as a
channel, a getChatMember that fails (closed, not open), Discord's Administrator permission,
a role configured by name, and a role that is not the configured one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.discord_frontend import DiscordFrontEnd
from bot.tally import TallyRefresher
from bot.telegram_frontend import TelegramFrontEnd, TelegramTuning
from handlers.i18n import text
from handlers.model import Services
from tests.fakes.discord_api import CHANNEL_ID, MOD_ROLE_ID, FakeDiscord, point_discord_py_at
from tests.fakes.telegram_api import FakeBotApi, StoredMessage

GROUP = -1001_234_567_890
MEMBER = 7
# The user Telegram shows as the sender of an anonymous administrator's message.
GROUP_ANONYMOUS_BOT = 1_087_968_824
FAST = TelegramTuning(poll_timeout=1, retry_first_delay=0.05, retry_max_delay=0.2)
DISCORD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMg.moderators.Discord-token-for-moderator-tests"
ADMINISTRATOR = 1 << 3
OTHER_ROLE_ID = 1_100_000_000_000_000_043
EPHEMERAL = 64


# -- Telegram -------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi().start()
    yield api
    await api.close()


@pytest.fixture
async def telegram(fake: FakeBotApi, services: Services) -> AsyncIterator[TelegramFrontEnd]:
    settings = Settings(
        telegram_bot_token=SecretStr(fake.token),
        telegram_api_base_url=fake.base_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    front_end = TelegramFrontEnd(settings, services, tuning=FAST)
    await front_end.start()
    yield front_end
    await front_end.stop()


async def group_reply(fake: FakeBotApi, line: str, **sender: Any) -> StoredMessage:
    before = len(fake.sent("sendMessage"))
    fake.send_command(line, chat_id=GROUP, **sender)
    sent = await fake.wait_for("sendMessage", before + 1)
    (message,) = (m for m in fake.chat_messages(GROUP) if m.html == sent[before]["text"])
    return message


async def test_posting_as_a_channel_does_not_make_a_member_a_moderator(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    channel = {"id": -1009_999_999_999, "type": "channel", "title": "My own channel"}

    refused = await group_reply(fake, "/settings lang zh", user_id=MEMBER, sender_chat=channel)

    assert refused.plain == text("en", "core.moderators_only")
    assert (await services.db.chat_settings("telegram", str(GROUP))).lang is None


async def test_an_anonymous_administrator_posting_as_the_group_is_a_moderator(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    group = fake.chat(GROUP)

    accepted = await group_reply(
        fake, "/settings lang zh", user_id=GROUP_ANONYMOUS_BOT, sender_chat=group
    )

    assert accepted.plain == text("zh", "settings.lang_set")
    assert (await services.db.chat_settings("telegram", str(GROUP))).lang == "zh"


async def test_when_telegram_cannot_say_who_is_an_administrator_the_answer_is_no(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    fake.owners[GROUP] = MEMBER
    fake.inject("getChatMember", status=400, description="Bad Request: user not found")

    refused = await group_reply(fake, "/settings lang zh", user_id=MEMBER)

    assert refused.plain == text("en", "core.moderators_only")
    assert (await services.db.chat_settings("telegram", str(GROUP))).lang is None


# -- Discord --------------------------------------------------------------------------------


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    server.roles[OTHER_ROLE_ID] = "Regulars"
    await server.start()
    try:
        with point_discord_py_at(server):
            yield server
    finally:
        await server.close()


async def discord_settings_change(
    discord_fake: FakeDiscord,
    services: Services,
    tmp_path: Path,
    *,
    mod_role: str | None,
    permissions: int,
    roles: tuple[int, ...],
) -> bool:
    """Run `/settings tz Asia/Tokyo` as such a member; whether the chat's zone changed."""
    settings = Settings(
        discord_bot_token=SecretStr(DISCORD_TOKEN),
        dsbot_database=tmp_path / "dsbot.sqlite3",
        dsbot_discord_mod_role=mod_role,
        _env_file=None,  # type: ignore[call-arg]
    )
    running = DiscordFrontEnd(settings, services, tally=TallyRefresher(interval=0.0))
    await running.start()
    try:
        await discord_fake.wait_until_connected()
        option = {"name": "tz", "type": 3, "value": "Asia/Tokyo"}
        interaction = await discord_fake.slash(
            "settings", [option], permissions=permissions, roles=roles
        )
        (callback,) = await discord_fake.wait_for_call(
            "POST", rf"/interactions/{interaction['id']}/[^/]+/callback"
        )
    finally:
        await running.stop()
    changed = (await services.db.chat_settings("discord", str(CHANNEL_ID))).tz == "Asia/Tokyo"
    refused = bool(callback.json["data"].get("flags", 0) & EPHEMERAL)
    assert refused != changed
    return changed


async def test_the_administrator_permission_counts_as_moderator(
    discord_fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    assert await discord_settings_change(
        discord_fake, services, tmp_path, mod_role=None, permissions=ADMINISTRATOR, roles=()
    )


async def test_a_moderator_role_can_be_configured_by_name(
    discord_fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    assert await discord_settings_change(
        discord_fake,
        services,
        tmp_path,
        mod_role="Moderators",
        permissions=0,
        roles=(MOD_ROLE_ID,),
    )


async def test_another_role_does_not_make_a_moderator(
    discord_fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    assert not await discord_settings_change(
        discord_fake,
        services,
        tmp_path,
        mod_role="Moderators",
        permissions=0,
        roles=(OTHER_ROLE_ID,),
    )
