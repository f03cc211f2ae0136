"""The Discord front end through the real discord.py client, against a fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

import pytest

from bot.discord.buttons import ActionButton
from bot.discord.frontend import COMMAND_HASH_KEY, DiscordFrontEnd, sync_commands
from bot.discord.render import (
    MAX_DESCRIPTION,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_MESSAGES,
    MAX_TITLE,
    render,
)
from bot.dispatch import dispatch
from bot.frontend import ChatUnreachable
from bot.logs import RedactSecrets
from handlers.i18n import text
from handlers.model import Button, Image, Reply, Request, Services, Table
from handlers.registry import REGISTRY
from tests.bot.conftest import DISCORD_TOKEN, StartDiscord, discord_settings, no_throttle
from tests.fakes.discord_api import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    FakeDiscord,
    RestCall,
)

EPHEMERAL = 64
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
FOLLOWUP = r"/webhooks/\d+/[^/]+"


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


def option(name: str, value: Any, kind: int = 3) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def subcommand(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


class HeldAnswers:
    """Dispatch whose answers to members wait until the test releases them one by one: an
    answer slower than the deferral deadline, for as long as the test needs."""

    def __init__(self) -> None:
        self._released = asyncio.Semaphore(0)

    def release(self) -> None:
        self._released.release()

    async def __call__(self, request: Request, services: Services) -> Reply:
        if not request.internal:
            await self._released.acquire()
        return await dispatch(request, services)


async def callback_for(fake: FakeDiscord, interaction: dict[str, Any]) -> RestCall:
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    (call,) = await fake.wait_for_call("POST", path)
    return call


def description(call: RestCall) -> str:
    return "\n".join(embed.get("description", "") for embed in call.json["data"]["embeds"])


# ---- start-up, sync, shutdown -------------------------------------------------------------


async def test_start_identifies_with_minimal_intents_and_no_message_content(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    session = fake.live_session
    assert session is not None and session.identify is not None
    intents = session.identify["intents"]
    message_content = 1 << 15
    guilds = 1 << 0
    assert intents == guilds
    assert not intents & message_content


async def test_every_command_is_synced_with_chinese_names_and_descriptions(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    by_name = {command["name"]: command for command in put.json}
    assert set(by_name) == {command.name for command in REGISTRY.commands}
    cost = by_name["cost"]
    assert cost["description_localizations"]["zh-CN"]
    assert cost["description_localizations"]["zh-TW"] == cost["description_localizations"]["zh-CN"]
    assert cost["name_localizations"]["zh-CN"] == "成本"
    assert [o["name"] for o in cost["options"]] == ["topic", "input", "output", "cache"]
    poll = by_name["poll"]
    subcommands = [o["name"] for o in poll["options"]]
    assert subcommands == [
        "show",
        "vote",
        "withdraw",
        "results",
        "new",
        "close",
        "list",
        "voters",
        "export",
    ]
    (new,) = [o for o in poll["options"] if o["name"] == "new"]
    boolean = 5
    flags = {
        o["name"]: o["type"] for o in new["options"] if o["name"] in ("hide-results", "public")
    }
    assert flags == {"hide-results": boolean, "public": boolean}


def names_by_locale(entry: dict[str, Any]) -> dict[str, str]:
    localized = entry.get("name_localizations") or {}
    return {locale: localized.get(locale, entry["name"]) for locale in ("en-US", "zh-CN", "zh-TW")}


async def test_names_along_every_command_path_are_distinct_in_every_locale(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    subcommand_type = 1
    checked = 0
    for command in put.json:
        options = command.get("options", [])
        subcommands = [o for o in options if o["type"] == subcommand_type]
        paths = [[command, sub, *sub.get("options", [])] for sub in subcommands]
        if not subcommands:
            paths = [[command, *options]]
        for locale in ("en-US", "zh-CN", "zh-TW"):
            siblings = [names_by_locale(sub)[locale] for sub in subcommands]
            assert len(set(siblings)) == len(siblings), (command["name"], locale, siblings)
            for path in paths:
                names = [names_by_locale(entry)[locale] for entry in path]
                assert len(set(names)) == len(names), (locale, names)
                checked += 1
    # The collision this guards against: /投票 投票 投票:
    poll = next(command for command in put.json if command["name"] == "poll")
    vote = next(o for o in poll["options"] if o["name"] == "vote")
    number = next(o for o in vote["options"] if o["name"] == "id")
    assert names_by_locale(poll)["zh-CN"] == "投票"
    assert names_by_locale(vote)["zh-CN"] != "投票"
    assert names_by_locale(number)["zh-CN"] == "编号"
    assert checked > len(put.json)


async def test_the_automatic_setting_is_labelled_in_the_members_language(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    settings = next(command for command in put.json if command["name"] == "settings")
    lang = next(o for o in settings["options"] if o["name"] == "lang")
    auto = next(choice for choice in lang["choices"] if choice["value"] == "auto")
    focused = {"name": "tz", "type": 3, "value": "", "focused": True}
    interaction = await fake.autocomplete("settings", [focused], locale="zh-CN")
    zone_choices = (await callback_for(fake, interaction)).json["data"]["choices"]

    assert auto["name"] == text("en", "discord.choice_lang_auto")
    assert auto["name_localizations"]["zh-CN"] == text("zh", "discord.choice_lang_auto")
    assert zone_choices[0] == {"name": text("zh", "discord.choice_tz_auto"), "value": "auto"}


async def test_settings_is_hidden_from_members_without_manage_server(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    by_name = {command["name"]: command for command in put.json}
    assert int(by_name["settings"]["default_member_permissions"]) == MANAGE_GUILD
    assert by_name["help"]["default_member_permissions"] is None


async def test_a_restart_with_the_same_commands_does_not_sync_again(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    for _ in range(2):
        running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=no_throttle())
        await running.start()
        await running.stop()
    assert len(fake.calls_to("PUT", r"/applications/\d+/commands")) == 1
    assert await services.bot_state.get(COMMAND_HASH_KEY)


async def test_a_changed_command_tree_is_synced_at_start(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    await services.bot_state.put(COMMAND_HASH_KEY, "hash-of-an-older-tree")
    running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=no_throttle())
    await running.start()
    await running.stop()
    assert len(fake.calls_to("PUT", r"/applications/\d+/commands")) == 1
    assert await services.bot_state.get(COMMAND_HASH_KEY) != "hash-of-an-older-tree"


async def test_sync_to_one_guild_uploads_to_that_guild_only(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    count = await sync_commands(discord_settings(tmp_path), services, GUILD_ID)
    (put,) = fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
    assert count == len(put.json) > 5
    assert fake.calls_to("PUT", r"/applications/\d+/commands") == []
    assert fake.sessions == []


async def test_clearing_a_guild_removes_its_test_copies_of_the_commands(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    await sync_commands(discord_settings(tmp_path), services, GUILD_ID)
    count = await sync_commands(discord_settings(tmp_path), services, GUILD_ID, clear=True)
    puts = fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
    assert count == 0
    assert [len(put.json) for put in puts][-1] == 0 < len(puts[0].json)


async def test_the_client_reconnects_after_the_gateway_drops(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    await fake.drop_gateway()
    await fake.wait_until_connected(sessions=2, timeout=10)
    interaction = await fake.slash("about")
    call = await callback_for(fake, interaction)
    assert "DeepSeek" in description(call)


# ---- replies ------------------------------------------------------------------------------


async def test_help_is_an_embed_sent_with_no_allowed_mentions(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("help")
    call = await callback_for(fake, interaction)
    assert call.json["type"] == 4
    data = call.json["data"]
    assert data["allowed_mentions"] == {"parse": []}
    assert data["embeds"][0]["title"].startswith("dsbot")
    assert "/cost" in description(call)
    assert not data.get("flags", 0) & EPHEMERAL


async def test_cost_options_are_billed_as_the_volumes_typed(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("cost", [option("input", "2M"), option("output", "500k")])
    call = await callback_for(fake, interaction)
    shown = description(call)
    # facts.json: R1 $0.55 per 1M input, $2.19 per 1M output; o1 $15 and $60.
    assert "$2.20" in shown  # 2 x 0.55 + 0.5 x 2.19
    assert "$60.00" in shown  # 2 x 15 + 0.5 x 60
    assert "$2.74" not in shown, "billed for the default 1M in and 1M out"
    assert not call.json["data"].get("flags", 0) & EPHEMERAL


async def test_a_user_error_is_ephemeral(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("outages", [option("zone", "Mars/Olympus_Mons")])
    call = await callback_for(fake, interaction)
    assert call.json["data"]["flags"] & EPHEMERAL
    assert "Mars/Olympus\\_Mons" in description(call)


async def test_a_chinese_locale_gets_a_chinese_reply(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("help", locale="zh-TW")
    call = await callback_for(fake, interaction)
    assert any("\u4e00" <= char <= "\u9fff" for char in description(call))


async def test_outages_zone_autocompletes(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    focused = {"name": "zone", "type": 3, "value": "shang", "focused": True}
    interaction = await fake.autocomplete("outages", [focused])
    call = await callback_for(fake, interaction)
    assert call.json["type"] == 8
    assert call.json["data"]["choices"][0]["value"] == "Asia/Shanghai"


async def test_a_slow_answer_is_deferred_then_the_original_response_edited(
    fake: FakeDiscord, start_discord: StartDiscord
) -> None:
    held = HeldAnswers()
    await start_discord(defer_after=0.0, dispatcher=held)
    interaction = await fake.slash("about")
    call = await callback_for(fake, interaction)
    held.release()
    (edit,) = await fake.wait_for_call("PATCH", ORIGINAL)
    assert call.json["type"] == 5
    assert "DeepSeek" in "".join(e.get("description", "") for e in edit.json["embeds"])
    assert edit.json["allowed_mentions"] == {"parse": []}


def retried_once_after_the_wait(fake: FakeDiscord, calls: list[RestCall]) -> RestCall:
    """The calls to one path were a 429 and then the same request, accepted, no sooner than
    the fake's retry_after; nothing else. Returns the accepted call."""
    limited, accepted = calls
    assert (limited.status, accepted.status) == (429, 200)
    assert accepted.json == limited.json and accepted.files == limited.files
    assert accepted.at - limited.at >= fake.retry_after
    return accepted


async def test_a_429_from_the_api_is_waited_out_and_retried(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    fake.retry_after = 0.25
    fake.rate_limits[CALLBACK] = 1
    interaction = await fake.slash("about")
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    await fake.wait_for_call("POST", path, 2)
    await fake.wait_for(lambda: fake.awaiting_response == 0)

    accepted = retried_once_after_the_wait(fake, fake.calls_to("POST", path))
    assert "DeepSeek" in description(accepted)


async def test_moderators_can_change_settings_and_others_cannot(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    member = await fake.slash("settings", [option("lang", "zh")])
    refused = await callback_for(fake, member)
    moderator = await fake.slash("settings", [option("lang", "zh")], permissions=MANAGE_GUILD)
    accepted = await callback_for(fake, moderator)
    assert refused.json["data"]["flags"] & EPHEMERAL
    assert not accepted.json["data"].get("flags", 0) & EPHEMERAL
    assert (await services.chat_settings.get("discord", str(CHANNEL_ID))).lang == "zh"


async def test_a_configured_moderator_role_counts_as_moderator(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    role = 1_100_000_000_000_000_042
    running = DiscordFrontEnd(
        discord_settings(tmp_path, dsbot_discord_mod_role=str(role)),
        services,
        tally=no_throttle(),
    )
    await running.start()
    try:
        interaction = await fake.slash("settings", [option("tz", "Asia/Tokyo")], roles=(role,))
        await callback_for(fake, interaction)
    finally:
        await running.stop()
    assert (await services.chat_settings.get("discord", str(CHANNEL_ID))).tz == "Asia/Tokyo"


# ---- proactive messages -------------------------------------------------------------------


async def test_send_posts_the_rendered_reply_to_the_channel(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    await discord_front_end.send(str(CHANNEL_ID), Reply(title="Recap", parts=("@everyone look",)))
    (post,) = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert post.json["allowed_mentions"] == {"parse": []}
    assert post.json["embeds"][0]["description"] == "@\u200beveryone look"


@pytest.mark.parametrize(("status", "code"), [(403, 50001), (403, 50013), (404, 10003)])
async def test_send_to_a_lost_channel_raises_chat_unreachable(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, status: int, code: int
) -> None:
    fake.channel_errors[CHANNEL_ID] = (status, code)
    with pytest.raises(ChatUnreachable):
        await discord_front_end.send(str(CHANNEL_ID), Reply(parts=("hello",)))


# ---- polls and buttons --------------------------------------------------------------------


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [button["custom_id"] for row in message["components"] for button in row["components"]]


async def test_a_poll_option_naming_everyone_does_not_ping(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    new = subcommand(
        "new", option("question", "Who is to blame?"), option("choices", "@everyone | @here <@&1>")
    )
    interaction = await fake.slash("poll", [new], permissions=MANAGE_GUILD)
    call = await callback_for(fake, interaction)
    data = call.json["data"]
    assert data["allowed_mentions"] == {"parse": []}
    shown = description(call)
    assert "@\u200beveryone" in shown and "@\u200bhere" in shown
    assert "@everyone" not in shown and "@here" not in shown
    assert len(custom_ids(data)) == 2


async def test_a_press_on_a_closed_poll_is_refused_privately_and_the_message_loses_its_buttons(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    new = subcommand("new", option("question", "Lunch?"), option("choices", "Pizza | Sushi"))
    created = await fake.slash("poll", [new], permissions=MANAGE_GUILD)
    posted = (await callback_for(fake, created)).json["data"]
    poll_id = custom_ids(posted)[0].split(":")[1]
    closing = subcommand("close", option("id", int(poll_id), kind=4))
    await callback_for(fake, await fake.slash("poll", [closing], permissions=MANAGE_GUILD))
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]

    press = await fake.press(fake.messages[message_id], custom_ids(posted)[0])
    refusal = await callback_for(fake, press)
    await fake.wait_for_call("PATCH", rf"/channels/{CHANNEL_ID}/messages/{message_id}")
    await discord_front_end.tally.drain()

    assert refusal.json["data"]["flags"] & EPHEMERAL
    assert refusal.json["data"]["content"] == text("en", "poll.closed_refused", id=poll_id)
    assert custom_ids(fake.messages[message_id]) == []


async def test_a_button_pressed_after_a_restart_votes_and_refreshes_the_message(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    before = DiscordFrontEnd(discord_settings(tmp_path), services, tally=no_throttle())
    await before.start()
    try:
        shown = await fake.slash("poll", [subcommand("show")])
        posted = (await callback_for(fake, shown)).json["data"]
    finally:
        await before.stop()
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    message = fake.messages[message_id]
    assert custom_ids(message) == custom_ids(posted)
    first_option = custom_ids(message)[0]

    after = DiscordFrontEnd(discord_settings(tmp_path), services, tally=no_throttle())
    await after.start()
    try:
        await fake.wait_until_connected(sessions=2)
        press = await fake.press(message, first_option)
        answered = await callback_for(fake, press)
        (refreshed,) = await fake.wait_for_call(
            "PATCH", rf"/channels/{CHANNEL_ID}/messages/{message_id}"
        )
    finally:
        await after.stop()
    assert answered.json["data"]["flags"] & EPHEMERAL
    assert "#" in answered.json["data"]["content"]
    assert refreshed.json["allowed_mentions"] == {"parse": []}
    assert "100%" in "".join(e["description"] for e in refreshed.json["embeds"])
    assert custom_ids(refreshed.json) == custom_ids(message)


async def test_a_slash_vote_answers_with_the_poll_and_a_private_notice(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("poll", [subcommand("vote", option("choices", "2"))])
    call = await callback_for(fake, interaction)
    (notice,) = await fake.wait_for_call("POST", FOLLOWUP)
    assert not call.json["data"].get("flags", 0) & EPHEMERAL
    assert "100%" in description(call)
    assert notice.json["flags"] & EPHEMERAL
    assert notice.json["allowed_mentions"] == {"parse": []}


async def test_poll_results_defer_first_then_edit_the_original_response(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("poll", [subcommand("results")])
    call = await callback_for(fake, interaction)
    (edit,) = await fake.wait_for_call("PATCH", ORIGINAL)
    assert call.json["type"] == 5
    assert edit.json["embeds"][0]["title"]
    assert edit.json["allowed_mentions"] == {"parse": []}
    ((name, png),) = edit.files
    assert png.startswith(b"\x89PNG")
    assert edit.json["embeds"][-1]["image"]["url"] == f"attachment://{name}"
    assert edit.json["attachments"][0]["description"].startswith("Bar chart of poll")


# ---- rendering within Discord's limits ----------------------------------------------------


def test_a_long_table_is_split_into_code_blocks_within_every_embed_limit() -> None:
    rows = tuple((f"row {n}", "x" * 60) for n in range(400))
    reply = Reply(title="T" * 300, parts=("intro *bold*", Table(("name", "value"), rows)))
    messages = render(reply, "en")
    embeds = [embed for message in messages for embed in message.embeds]
    assert 1 < len(messages) <= MAX_MESSAGES
    assert all(len(embed.description or "") <= MAX_DESCRIPTION for embed in embeds)
    assert all(sum(len(e) for e in m.embeds) <= MAX_EMBED_TOTAL for m in messages)
    assert all(len(m.embeds) <= MAX_EMBEDS for m in messages)
    assert len(embeds[0].title or "") <= MAX_TITLE
    assert embeds[0].description is not None and embeds[0].description.startswith(
        "intro \\*bold\\*"
    )
    bodies = [embed.description or "" for embed in embeds if "```" in (embed.description or "")]
    assert all(body.count("```") % 2 == 0 for body in bodies)
    assert messages[-1].embeds[-1].footer.text == text("en", "discord.trimmed")


def test_a_table_whose_header_is_blank_keeps_that_line_inside_its_code_block() -> None:
    # The input that made Telegram's split property fail: a code block keeps a blank line.
    reply = Reply(parts=(Table((" ",), ()), Table(("0",), ())))

    (message,) = render(reply, "en")

    assert message.embeds[0].description == "```\n\n-\n```\n\n```\n0\n-\n```"


def test_a_short_reply_is_one_embed_without_a_trim_note() -> None:
    (message,) = render(Reply(title="Hi", parts=("one", "two")), "zh")
    (embed,) = message.embeds
    assert embed.description == "one\n\ntwo"
    assert embed.footer.text is None


def test_images_are_attachments_shown_in_their_embed() -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    reply = Reply(parts=("chart",), images=(Image(png, "../poll 1.png", "a bar chart"),))
    (message,) = render(reply, "en")
    (file,) = message.files
    assert file.filename == "poll_1.png"
    assert file.description == "a bar chart"
    assert message.embeds[-1].image.url == f"attachment://{file.filename}"
    assert file.fp.read() == png


def test_a_table_cell_cannot_close_the_code_block_early() -> None:
    (message,) = render(Reply(parts=(Table(("a",), (("```@everyone",),)),)), "en")
    body = message.embeds[0].description or ""
    assert body.count("```") == 2


def test_buttons_carry_the_action_as_custom_id() -> None:
    reply = Reply(parts=("q",), buttons=(Button("1. Yes", "poll:7:0"), Button("2. No", "poll:7:1")))
    (message,) = render(reply, "en")
    assert message.view is not None
    assert [item.custom_id for item in message.view.children] == ["poll:7:0", "poll:7:1"]
    assert all(isinstance(item, ActionButton) for item in message.view.children)


# ---- secrets ------------------------------------------------------------------------------


async def test_the_token_never_appears_in_debug_logs(
    fake: FakeDiscord, services: Services, tmp_path: Path
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets([DISCORD_TOKEN]))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        running = DiscordFrontEnd(discord_settings(tmp_path), services, tally=no_throttle())
        await running.start()
        interaction = await fake.slash("about")
        await callback_for(fake, interaction)
        await running.stop()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    logged = stream.getvalue()
    assert "INTERACTION_CREATE" in logged
    assert DISCORD_TOKEN not in logged
    assert DISCORD_TOKEN.split(".")[-1] not in logged
    session = fake.sessions[0]
    assert session.identify is not None and session.identify["token"] == DISCORD_TOKEN


# ---- /stocks ------------------------------------------------------------------------------


async def test_stocks_ticker_autocompletes_from_the_dataset(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    focused = {"name": "ticker", "type": 3, "value": "nv", "focused": True}
    interaction = await fake.autocomplete("stocks", [focused])
    call = await callback_for(fake, interaction)
    values = [choice["value"] for choice in call.json["data"]["choices"]]
    assert "NVDA" in values
    assert set(values) <= set(services.facts.tickers())


async def test_stocks_defers_first_then_edits_in_the_answer_for_any_ticker(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    interaction = await fake.slash("stocks", [option("ticker", "NVDA")])
    call = await callback_for(fake, interaction)
    (edit,) = await fake.wait_for_call("PATCH", ORIGINAL)
    assert call.json["type"] == 5
    assert "NVDA" in "".join(e.get("description", "") for e in edit.json["embeds"])
    assert edit.json["allowed_mentions"] == {"parse": []}


async def test_an_error_after_deferring_replaces_the_placeholder_privately(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    results = subcommand("results", option("id", 987654, kind=4))
    interaction = await fake.slash("poll", [results])
    call = await callback_for(fake, interaction)
    await fake.wait_for_call("DELETE", ORIGINAL)
    (followup,) = await fake.wait_for_call("POST", FOLLOWUP)
    assert call.json["type"] == 5
    assert followup.json["flags"] & EPHEMERAL
    assert "987654" in followup.json["embeds"][0]["description"]


async def test_two_members_pressing_buttons_end_with_both_votes_in_the_message(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    shown = await fake.slash("poll", [subcommand("show")])
    await callback_for(fake, shown)
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    message = fake.messages[message_id]
    first, second = custom_ids(message)[:2]
    await fake.press(message, first, user_id=1_000_000_000_000_000_001)
    await fake.press(message, second, user_id=1_000_000_000_000_000_002)
    edited = rf"/channels/{CHANNEL_ID}/messages/{message_id}"
    await fake.wait_for(lambda: "Voters: 2" in str(fake.messages[message_id]["embeds"]))
    assert len(fake.calls_to("POST", CALLBACK)) == 3
    assert all(c.json["allowed_mentions"] == {"parse": []} for c in fake.calls_to("PATCH", edited))


# ---- platforms details --------------------------------------------------------------------


async def test_recap_forms_are_subcommands_with_typed_options(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    (put,) = fake.calls_to("PUT", r"/applications/\d+/commands")
    by_name = {command["name"]: command for command in put.json}
    recap = by_name["recap"]
    assert [o["name"] for o in recap["options"]] == ["status", "on", "off", "now"]
    on = next(o for o in recap["options"] if o["name"] == "on")
    assert [(o["name"], o["type"]) for o in on["options"]] == [("time", 3), ("zone", 3)]
    assert by_name["about"].get("options", []) == []
    interaction = await fake.slash("recap", [subcommand("on", option("time", "25:00"))])
    answer = await callback_for(fake, interaction)
    assert answer.json["data"]["flags"] & EPHEMERAL
    assert text("en", "recap.bad_time", value="25:00") in answer.json["data"]["embeds"][0][
        "description"
    ].replace("\\", "")


async def test_in_a_direct_message_the_member_may_change_their_own_settings(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    interaction = await fake.slash("settings", [option("lang", "zh")], guild=False)
    call = await callback_for(fake, interaction)
    assert not call.json["data"].get("flags", 0) & EPHEMERAL
    assert (await services.chat_settings.get("discord", str(CHANNEL_ID))).lang == "zh"


async def test_a_429_on_a_channel_post_is_waited_out_and_retried(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd
) -> None:
    fake.retry_after = 0.25
    fake.rate_limits[rf"/channels/{CHANNEL_ID}/messages"] = 1
    await discord_front_end.send(str(CHANNEL_ID), Reply(parts=("recap",)))

    posts = fake.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    accepted = retried_once_after_the_wait(fake, posts)
    assert accepted.json["embeds"][0]["description"] == "recap"


async def test_a_slow_button_press_is_acknowledged_first_and_the_notice_follows(
    fake: FakeDiscord, start_discord: StartDiscord
) -> None:
    held = HeldAnswers()
    await start_discord(defer_after=0.0, dispatcher=held)
    shown = await fake.slash("poll", [subcommand("show")])
    await callback_for(fake, shown)
    held.release()
    await fake.wait_for_call("PATCH", ORIGINAL)
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    message = fake.messages[message_id]
    press = await fake.press(message, custom_ids(message)[0])
    acknowledged = await callback_for(fake, press)
    held.release()
    (notice,) = await fake.wait_for_call("POST", FOLLOWUP)
    await fake.wait_for_call("PATCH", rf"/channels/{CHANNEL_ID}/messages/{message_id}")
    assert acknowledged.json["type"] == 6
    assert notice.json["flags"] & EPHEMERAL
