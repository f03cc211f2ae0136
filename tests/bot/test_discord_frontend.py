"""The Discord front end through the real discord.py client, against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.discord_frontend import COMMAND_HASH_KEY, DiscordFrontEnd, sync_commands
from bot.dispatch import dispatch
from bot.frontends import ChatUnreachable
from handlers.model import Reply, Services, Table
from handlers.registry import COMMANDS
from storage.bot_state import BotState
from tests.conftest import make_request
from tests.fakes.discord_api import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    FakeDiscord,
    RestCall,
    point_discord_py_at,
)

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMg.canary.Discord-token-that-must-never-be-logged"
EPHEMERAL = 64
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


class ImmediateTally:
    """Runs each refresh at once (the real TallyRefresher's throttling is tested on its own)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []

    def request(self, key: str, refresh: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.keys.append(key)
        self.tasks.append(asyncio.ensure_future(refresh()))

    async def drain(self) -> None:
        await asyncio.gather(*self.tasks)


def discord_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "discord_bot_token": TOKEN,
        "dsbot_database": tmp_path / "dsbot.sqlite3",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        with point_discord_py_at(server):
            yield server
    finally:
        await server.close()


@pytest.fixture
async def front_end(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> AsyncIterator[DiscordFrontEnd]:
    running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=ImmediateTally())
    await running.start()
    await fake.wait_until_connected()
    try:
        yield running
    finally:
        await running.stop()


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def subcommand(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


async def callback_for(fake: FakeDiscord, interaction: dict[str, Any]) -> RestCall:
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    (call,) = await fake.wait_for_call("POST", path)
    return call


def description(call: RestCall) -> str:
    return "\n".join(embed.get("description", "") for embed in call.json["data"]["embeds"])


# ---- start-up, sync, shutdown -------------------------------------------------------------


async def test_start_identifies_with_minimal_intents_and_no_message_content(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    session = fake.live_session
    assert session is not None and session.identify is not None
    intents = session.identify["intents"]
    message_content = 1 << 15
    guilds = 1 << 0
    assert intents == guilds
    assert not intents & message_content


async def test_every_command_is_synced_with_chinese_names_and_descriptions(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    by_name = {command["name"]: command for command in put.json}
    assert set(by_name) == {command.name for command in COMMANDS}
    cost = by_name["cost"]
    assert cost["description_localizations"]["zh-CN"]
    assert cost["description_localizations"]["zh-TW"] == cost["description_localizations"]["zh-CN"]
    assert cost["name_localizations"]["zh-CN"] == "成本"
    assert [o["name"] for o in cost["options"]] == ["input", "output", "cache"]
    poll = by_name["poll"]
    subcommands = {o["name"] for o in poll["options"]}
    assert {"show", "vote", "results", "new", "close", "list"} <= subcommands


async def test_settings_is_hidden_from_members_without_manage_server(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    by_name = {command["name"]: command for command in put.json}
    assert int(by_name["settings"]["default_member_permissions"]) == MANAGE_GUILD
    assert by_name["help"]["default_member_permissions"] is None


async def test_a_restart_with_the_same_commands_does_not_sync_again(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    for _ in range(2):
        running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=ImmediateTally())
        await running.start()
        await running.stop()
    assert len(fake.calls_to("PUT", r"/applications/\d+/commands")) == 1
    assert await BotState(services.db).get(COMMAND_HASH_KEY)


async def test_a_changed_command_tree_is_synced_at_start(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    await BotState(services.db).put(COMMAND_HASH_KEY, "hash-of-an-older-tree")
    running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=ImmediateTally())
    await running.start()
    await running.stop()
    assert len(fake.calls_to("PUT", r"/applications/\d+/commands")) == 1
    assert await BotState(services.db).get(COMMAND_HASH_KEY) != "hash-of-an-older-tree"


async def test_sync_to_one_guild_uploads_to_that_guild_only(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    count = await sync_commands(discord_settings(tmp_path), services, GUILD_ID)
    (put,) = fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
    assert count == len(put.json) > 5
    assert fake.calls_to("PUT", r"/applications/\d+/commands") == []
    assert fake.sessions == []


async def test_the_client_reconnects_after_the_gateway_drops(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    await fake.drop_gateway()
    await fake.wait_until_connected(sessions=2, timeout=10)
    interaction = await fake.slash("about")
    call = await callback_for(fake, interaction)
    assert "DeepSeek" in description(call)


# ---- replies ------------------------------------------------------------------------------


async def test_help_is_an_embed_sent_with_no_allowed_mentions(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("help")
    call = await callback_for(fake, interaction)
    assert call.json["type"] == 4
    data = call.json["data"]
    assert data["allowed_mentions"] == {"parse": []}
    assert data["embeds"][0]["title"].startswith("dsbot")
    assert "/cost" in description(call)
    assert not data.get("flags", 0) & EPHEMERAL


async def test_cost_options_are_read_as_the_text_command(
    fake: FakeDiscord, front_end: DiscordFrontEnd, services: Services
) -> None:
    interaction = await fake.slash("cost", [option("input", "2M"), option("output", "500k")])
    call = await callback_for(fake, interaction)
    expected = await dispatch(make_request("/cost 2M in 500k out", platform="discord"), services)
    table = next(part for part in expected.parts if isinstance(part, Table))
    assert table.rows[0][0] in description(call)
    assert not expected.is_error


async def test_a_user_error_is_ephemeral(fake: FakeDiscord, front_end: DiscordFrontEnd) -> None:
    interaction = await fake.slash("outages", [option("zone", "Mars/Olympus_Mons")])
    call = await callback_for(fake, interaction)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert "Mars/Olympus\\_Mons" in description(call)


async def test_a_chinese_locale_gets_a_chinese_reply(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("help", locale="zh-TW")
    call = await callback_for(fake, interaction)
    assert any("\u4e00" <= char <= "\u9fff" for char in description(call))


async def test_outages_zone_autocompletes(fake: FakeDiscord, front_end: DiscordFrontEnd) -> None:
    focused = {"name": "zone", "type": 3, "value": "shang", "focused": True}
    interaction = await fake.autocomplete("outages", [focused])
    call = await callback_for(fake, interaction)
    assert call.json["type"] == 8
    assert call.json["data"]["choices"][0]["value"] == "Asia/Shanghai"


async def test_a_slow_answer_is_deferred_then_the_original_response_edited(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    running = DiscordFrontEnd(
        discord_settings(tmp_path), services, tally=ImmediateTally(), defer_after=0.0
    )
    await running.start()
    try:
        interaction = await fake.slash("about")
        call = await callback_for(fake, interaction)
        (edit,) = await fake.wait_for_call("PATCH", ORIGINAL)
    finally:
        await running.stop()
    assert call.json["type"] == 5
    assert "DeepSeek" in "".join(e.get("description", "") for e in edit.json["embeds"])
    assert edit.json["allowed_mentions"] == {"parse": []}


async def test_a_429_from_the_api_is_waited_out_and_retried(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    fake.rate_limits[CALLBACK] = 1
    interaction = await fake.slash("about")
    calls = await fake.wait_for_call(
        "POST", rf"/interactions/{interaction['id']}/[^/]+/callback", 2
    )
    assert [c.json for c in calls[:1]] == [calls[1].json]
    assert fake.rate_limits[CALLBACK] == 0


async def test_moderators_can_change_settings_and_others_cannot(
    fake: FakeDiscord, front_end: DiscordFrontEnd, services: Services
) -> None:
    member = await fake.slash("settings", [option("lang", "zh")])
    refused = await callback_for(fake, member)
    moderator = await fake.slash("settings", [option("lang", "zh")], permissions=MANAGE_GUILD)
    accepted = await callback_for(fake, moderator)
    assert refused.json["data"]["flags"] & EPHEMERAL
    assert not accepted.json["data"].get("flags", 0) & EPHEMERAL
    assert (await services.db.chat_settings("discord", str(CHANNEL_ID))).lang == "zh"


async def test_a_configured_moderator_role_counts_as_moderator(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    role = 1_100_000_000_000_000_042
    running = DiscordFrontEnd(
        discord_settings(tmp_path, dsbot_discord_mod_role=str(role)),
        services,
        tally=ImmediateTally(),
    )
    await running.start()
    try:
        interaction = await fake.slash("settings", [option("tz", "Asia/Tokyo")], roles=(role,))
        await callback_for(fake, interaction)
    finally:
        await running.stop()
    assert (await services.db.chat_settings("discord", str(CHANNEL_ID))).tz == "Asia/Tokyo"


# ---- proactive messages -------------------------------------------------------------------


async def test_send_posts_the_rendered_reply_to_the_channel(
    fake: FakeDiscord, front_end: DiscordFrontEnd
) -> None:
    await front_end.send(str(CHANNEL_ID), Reply(title="Recap", parts=("@everyone look",)))
    (post,) = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert post.json["allowed_mentions"] == {"parse": []}
    assert post.json["embeds"][0]["description"] == "@\u200beveryone look"


@pytest.mark.parametrize(("status", "code"), [(403, 50001), (403, 50013), (404, 10003)])
async def test_send_to_a_lost_channel_raises_chat_unreachable(
    fake: FakeDiscord, front_end: DiscordFrontEnd, status: int, code: int
) -> None:
    fake.channel_errors[CHANNEL_ID] = (status, code)
    with pytest.raises(ChatUnreachable):
        await front_end.send(str(CHANNEL_ID), Reply(parts=("hello",)))
