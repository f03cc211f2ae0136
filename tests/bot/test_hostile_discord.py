"""The hostile corpus through the real discord.py client, against the fake gateway and REST API.

Slash commands carry the hostile strings as option values (each string in one of the
commands' string options, taking turns) and buttons carry forged custom_ids, all sent at
once as INTERACTION_CREATE events; the `services` fixture has no cooldowns. Every
interaction must be responded to with a catalogued answer, every payload must forbid
mentions, user text must arrive with its Markdown and mentions escaped, and a member who is
not a moderator must not change a single row of the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.discord.frontend import DiscordFrontEnd
from bot.dispatch import Dispatch
from handlers.i18n import text
from handlers.model import Services
from tests.bot.conftest import StartDiscord, discord_settings, no_throttle
from tests.bot.hostile_checks import error_records, poll_fixtures, snapshot_tables
from tests.fakes.discord_api import (
    APPLICATION_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    EVERYDAY_PERMISSIONS,
    MANAGE_GUILD,
    FakeDiscord,
    RestCall,
    user_payload,
)
from tests.hostile_inputs import HOSTILE_ACTIONS, HOSTILE_INPUTS, forged_poll_actions

SORRY = {text("en", "core.sorry"), text("zh", "core.sorry")}
FENCED = re.compile(r"```[\s\S]*?```")
ESCAPED = re.compile(r"\\[\s\S]")
RAW_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>")
MASKED_LINK = re.compile(r"\[[^\]]+\]\([^)]+\)")
LINE_MARKUP = re.compile(r"^(#{1,3} |>>?>? |\s*- )", re.MULTILINE)


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


@pytest.fixture
async def discord_front_end(start_discord: StartDiscord) -> DiscordFrontEnd:
    return await start_discord(defer_after=2.0)


def option(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": 3, "value": value}


def subcommand(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "type": 1, "options": list(options)}


# Where a hostile string can go: every string option of every command.
SLOTS: list[tuple[str, Any]] = [
    ("stocks", lambda h: [option("ticker", h)]),
    ("cost", lambda h: [option("input", h), option("output", h)]),
    ("outages", lambda h: [option("zone", h)]),
    ("settings", lambda h: [option("tz", h)]),
    ("settings", lambda h: [option("lang", h)]),
    ("poll", lambda h: [subcommand("new", option("question", h), option("choices", h))]),
    ("poll", lambda h: [subcommand("new", option("question", "Q?"), option("choices", f"A|{h}"))]),
    ("poll", lambda h: [subcommand("new", option("question", h), option("choices", "A|B"))]),
    (
        "poll",
        lambda h: [
            subcommand(
                "new", option("question", "Q"), option("choices", "A|B"), option("closes", h)
            )
        ],
    ),
    ("cost", lambda h: [option("topic", h)]),
    ("cost", lambda h: [option("cache", h), option("input", "2M")]),
    ("poll", lambda h: [subcommand("vote", option("choices", h))]),
    ("recap", lambda h: [subcommand("on", option("time", h))]),
    ("recap", lambda h: [subcommand("on", option("zone", h))]),
]


def texts_of(payload: dict[str, Any]) -> list[str]:
    """Every string a member would read in a message payload."""
    found = [str(payload.get("content") or "")]
    for embed in payload.get("embeds") or []:
        found += [embed.get("title", ""), embed.get("description", "")]
        found.append((embed.get("footer") or {}).get("text", ""))
        for field in embed.get("fields", []):
            found += [field.get("name", ""), field.get("value", "")]
    return [value for value in found if value]


def markup_problems(shown: str) -> list[str]:
    """User text that Discord would render as Markdown or as a mention."""
    problems = []
    if RAW_MENTION.search(shown):
        problems.append(f"a mention: {RAW_MENTION.search(shown)}")
    prose = ESCAPED.sub("", FENCED.sub("", shown))
    for marker in ("**", "__", "~~", "||"):
        if marker in prose:
            problems.append(f"unescaped {marker}")
    if prose.count("`") > 1:
        problems.append("unescaped code span")
    if MASKED_LINK.search(prose):
        problems.append("a masked link")
    if LINE_MARKUP.search(prose):
        problems.append(f"line markup {LINE_MARKUP.search(prose)}")
    return problems


def calls_for(fake: FakeDiscord, interaction_id: str) -> list[RestCall]:
    token = f"itoken-{interaction_id}"
    return [call for call in fake.calls if token in call.path]


def check_interaction(fake: FakeDiscord, interaction: dict[str, Any], label: str) -> list[str]:
    calls = calls_for(fake, interaction["id"])
    callbacks = [c for c in calls if c.path.endswith("/callback")]
    if len(callbacks) != 1:
        return [f"{label}: {len(callbacks)} responses"]
    problems = []
    shown: list[str] = []
    for call in calls:
        payload = call.json or {}
        if call.path.endswith("/callback"):
            payload = payload.get("data") or {}
        if not (payload.get("content") or payload.get("embeds")):
            continue
        if payload.get("allowed_mentions") != {"parse": []}:
            problems.append(f"{label}: allowed_mentions {payload.get('allowed_mentions')}")
        for value in texts_of(payload):
            problems += [f"{label}: {problem}" for problem in markup_problems(value)]
            shown.append(value)
    everything = "\n".join(shown)
    if not everything.strip("\u200b \n"):
        problems.append(f"{label}: an empty answer")
    if any(sorry in everything for sorry in SORRY):
        problems.append(f"{label}: the generic apology")
    return problems


# The names discord.py gives the tasks that run a command's or a button's handler.
HANDLER_TASKS = ("CommandTree-invoker", "discord-ui-dynamic-item-")


async def settle(fake: FakeDiscord, interactions: list[dict[str, Any]]) -> None:
    """Until every interaction has its accepted response and every handler has finished,
    so that all its follow-ups and edits have been sent."""
    wanted = {f"/interactions/{i['id']}/itoken-{i['id']}/callback" for i in interactions}
    await fake.wait_for(
        lambda: (
            wanted <= {call.path for call in fake.calls if call.status == 200}
            and fake.awaiting_response == 0
        ),
        timeout=30,
    )
    # Each handler was started before it sent its response: waiting for these is enough.
    handlers = [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(HANDLER_TASKS) and not task.done()
    ]
    if handlers:
        await asyncio.wait(handlers, timeout=30)
    assert all(task.done() for task in handlers), "a handler was still running after 30 s"


async def run_slash_corpus(
    fake: FakeDiscord, *, permissions: int = EVERYDAY_PERMISSIONS
) -> list[str]:
    interactions = []
    for number, hostile in enumerate(HOSTILE_INPUTS):
        name, options = SLOTS[number % len(SLOTS)]
        sent = await fake.slash(name, options(hostile), permissions=permissions)
        interactions.append((sent, f"/{name} {hostile[:50]!r}"))
    await settle(fake, [sent for sent, _ in interactions])
    problems = []
    for sent, label in interactions:
        problems += check_interaction(fake, sent, label)
    return problems


async def test_every_hostile_option_value_from_a_member_gets_a_safe_answer_and_changes_nothing(
    fake: FakeDiscord,
    discord_front_end: DiscordFrontEnd,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await poll_fixtures(services, "discord", chat_of=lambda n: str(CHANNEL_ID + 1 + n))
    before = await snapshot_tables(services)

    with caplog.at_level(logging.WARNING):
        problems = await run_slash_corpus(fake)

    assert problems == []
    assert error_records(caplog) == []
    assert (await snapshot_tables(services)).changes_since(before) == {}


async def test_every_hostile_option_value_from_a_moderator_gets_a_safe_answer(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        problems = await run_slash_corpus(fake, permissions=MANAGE_GUILD)

    assert problems == []
    assert error_records(caplog) == []


async def test_hostile_autocomplete_input_is_answered_with_choices(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, caplog: pytest.LogCaptureFixture
) -> None:
    fields = [("stocks", "ticker"), ("outages", "zone"), ("settings", "tz")]
    sent = []
    with caplog.at_level(logging.WARNING):
        for number, hostile in enumerate(HOSTILE_INPUTS):
            name, field = fields[number % len(fields)]
            focused = {"name": field, "type": 3, "value": hostile[:100], "focused": True}
            sent.append(await fake.autocomplete(name, [focused]))
        await settle(fake, sent)

    kinds = [calls_for(fake, interaction["id"])[0].json["type"] for interaction in sent]
    assert kinds == [8] * len(sent)  # APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
    assert error_records(caplog) == []


def a_bot_message(fake: FakeDiscord, custom_id: str, channel: int = CHANNEL_ID) -> dict[str, Any]:
    """A message of the bot's, stored in the fake, with one button carrying `custom_id`.

    Discord only delivers presses of buttons that a message carries, so a forged id is one
    that an old or altered message of ours holds.
    """
    button = {"type": 2, "style": 2, "label": "?", "custom_id": custom_id}
    message_id = fake.next_id()
    message: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel),
        "author": user_payload(BOT_USER_ID, "dsbot", bot=True),
        "content": "",
        "timestamp": "2026-11-30T15:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [{"description": "a poll"}],
        "pinned": False,
        "type": 0,
        "components": [{"type": 1, "components": [button]}],
        "flags": 0,
        "application_id": str(APPLICATION_ID),
    }
    fake.messages[message_id] = message
    return message


async def test_forged_custom_ids_are_all_answered_and_change_no_vote(
    fake: FakeDiscord,
    discord_front_end: DiscordFrontEnd,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The closed poll belongs to the channel where the buttons are pressed.
    polls = await poll_fixtures(
        services, "discord", chat_of=lambda n: str(CHANNEL_ID + 1 if n == 0 else CHANNEL_ID)
    )
    before = await snapshot_tables(services)
    forged = [data for data in HOSTILE_ACTIONS if data] + forged_poll_actions(
        other_chat=polls.other_chat, closed=polls.closed
    )

    with caplog.at_level(logging.WARNING):
        presses = [(await fake.press(a_bot_message(fake, data), data), data) for data in forged]
        await settle(fake, [press for press, _ in presses])

    problems = []
    for press, data in presses:
        problems += check_interaction(fake, press, repr(data))
    assert problems == []
    assert error_records(caplog) == []
    assert (await snapshot_tables(services)).changes_since(before) == {}


async def test_the_cooldown_reply_is_a_catalogued_private_answer(
    fake: FakeDiscord, services: Services, tight_cooldowns: Dispatch, tmp_path: Path
) -> None:
    running = DiscordFrontEnd(
        discord_settings(tmp_path),
        services,
        tally=no_throttle(),
        defer_after=2.0,
        dispatcher=tight_cooldowns,
    )
    await running.start()
    try:
        await fake.wait_until_connected()
        slashes = [await fake.slash("about") for _ in range(3)]
        await settle(fake, slashes)
        press = await fake.press(a_bot_message(fake, "poll:1:0"), "poll:1:0")
        await settle(fake, [press])
    finally:
        await running.stop()
    slow_down = text("en", "core.slow_down")
    answers = [calls_for(fake, i["id"])[0].json["data"] for i in [*slashes, press]]
    refused = [slow_down in "".join(texts_of(answer)) for answer in answers]
    # Three commands at once: which one comes third is up to the event loop.
    assert sum(refused[:3]) == 1 and refused[3]
    assert all(a["flags"] & 64 for a, no in zip(answers, refused, strict=True) if no)
    assert all(answer["allowed_mentions"] == {"parse": []} for answer in answers)
