"""Who counts as a moderator on each platform: the cases the front-end suites do not cover.

Already tested there: Telegram member / administrator / creator from getChatMember and its
one-minute cache (tests/bot/test_telegram_frontend.py); Discord Manage Server, a configured
role by id and direct messages (tests/bot/test_discord_frontend.py). Here: posting as a
channel, a getChatMember that fails (closed, not open), Discord's Administrator permission,
a role configured by name, and a role that is not the configured one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.discord.frontend import DiscordFrontEnd
from bot.telegram.frontend import TelegramFrontEnd
from handlers.i18n import text
from handlers.model import Services
from tests.bot.conftest import discord_settings, no_throttle
from tests.fakes.discord_api import CHANNEL_ID, MOD_ROLE_ID, FakeDiscord
from tests.fakes.telegram_api import FakeBotApi, StoredMessage

GROUP = -1001_234_567_890
MEMBER = 7
# The user Telegram shows as the sender of an anonymous administrator's message.
GROUP_ANONYMOUS_BOT = 1_087_968_824
ADMINISTRATOR = 1 << 3
OTHER_ROLE_ID = 1_100_000_000_000_000_043
EPHEMERAL = 64


# -- Telegram -------------------------------------------------------------------------------


@pytest.fixture
def fake(telegram_fake: FakeBotApi) -> FakeBotApi:
    return telegram_fake


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
    assert (await services.chat_settings.get("telegram", str(GROUP))).lang is None


async def test_an_anonymous_administrator_posting_as_the_group_is_a_moderator(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    group = fake.chat(GROUP)

    accepted = await group_reply(
        fake, "/settings lang zh", user_id=GROUP_ANONYMOUS_BOT, sender_chat=group
    )

    assert accepted.plain == text("zh", "settings.lang_set")
    assert (await services.chat_settings.get("telegram", str(GROUP))).lang == "zh"


async def test_when_telegram_cannot_say_who_is_an_administrator_the_answer_is_no(
    fake: FakeBotApi, telegram: TelegramFrontEnd, services: Services
) -> None:
    fake.owners[GROUP] = MEMBER
    fake.inject("getChatMember", status=400, description="Bad Request: user not found")

    refused = await group_reply(fake, "/settings lang zh", user_id=MEMBER)

    assert refused.plain == text("en", "core.moderators_only")
    assert (await services.chat_settings.get("telegram", str(GROUP))).lang is None


# -- Discord --------------------------------------------------------------------------------


@pytest.fixture
def discord_fake(discord_fake: FakeDiscord) -> FakeDiscord:
    # A second role on the server, so that holding some role is not mistaken for moderating.
    discord_fake.roles[OTHER_ROLE_ID] = "Regulars"
    return discord_fake


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
    settings = discord_settings(tmp_path, dsbot_discord_mod_role=mod_role)
    running = DiscordFrontEnd(settings, services, tally=no_throttle())
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
    changed = (await services.chat_settings.get("discord", str(CHANNEL_ID))).tz == "Asia/Tokyo"
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
