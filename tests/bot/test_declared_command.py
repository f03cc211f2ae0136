"""A command that exists only as a declaration in a test registry works on every front end.

No code in bot/ knows of it: the console and Telegram read its typed text, Telegram lists it
in the menu, and Discord gets it as a slash command with typed options and autocomplete.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot.console import ConsoleUser, ask
from bot.discord.frontend import DiscordFrontEnd
from handlers.commands import Choice, Command, Form, Param, Registry
from handlers.model import Reply, Request, Services
from handlers.registry import REGISTRY
from tests.bot.conftest import StartDiscord, StartTelegram
from tests.bot.test_discord_frontend import callback_for, description
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeBotApi


async def quote(request: Request, services: Services) -> Reply:
    """Says back what it was given, so a test can see every parameter arrive typed."""
    params = request.params
    zone = params["zone"].key if "zone" in params else "-"
    said = (
        f"ticker={params['ticker']} times={params.get('times', 1)} zone={zone} "
        f"loud={params.get('loud', False)} style={params.get('style', 'plain')}"
    )
    return Reply(parts=(said,))


QUOTE = Command(
    "quote",
    "stocks.summary",
    forms=(
        Form(
            "show",
            quote,
            "stocks.usage",
            params=(
                Param("ticker", "ticker", "discord.opt_ticker", required=True),
                Param("times", "integer", "discord.opt_poll", minimum=1, maximum=5),
                Param("zone", "zone", "discord.opt_zone", detect=lambda word: "/" in word),
                Param(
                    "style",
                    "choice",
                    "cost.opt_topic",
                    choices=(Choice("plain", "English"), Choice("fancy", "中文")),
                ),
                Param("loud", "flag", "discord.opt_multi", dashed=True),
            ),
        ),
    ),
)
EXPECTED = "ticker=NVDA times=3 zone=Asia/Tokyo loud=True style=fancy"


@pytest.fixture
def with_quote(services: Services) -> Services:
    registry = Registry((*REGISTRY.commands, QUOTE), actions=REGISTRY.actions)
    return dataclasses.replace(services, registry=registry)


async def test_the_console_reads_the_declared_parameters(with_quote: Services) -> None:
    reply, _ = await ask("/quote $nvda 3 fancy Asia/Tokyo --loud", ConsoleUser(), with_quote)
    assert reply.plain_text() == EXPECTED


async def test_the_console_refuses_a_value_the_declaration_does_not_allow(
    with_quote: Services,
) -> None:
    reply, _ = await ask("/quote NVDA 9", ConsoleUser(), with_quote)
    assert reply.is_error
    assert reply.plain_text() == '"9" is not a whole number from 1 to 5.'


async def test_telegram_lists_it_in_the_menu_and_reads_what_is_typed(
    telegram_fake: FakeBotApi, start_telegram: StartTelegram, with_quote: Services
) -> None:
    await start_telegram(with_quote)
    menus = await telegram_fake.wait_for("setMyCommands", count=2)
    assert all("quote" in [c["command"] for c in menu["commands"]] for menu in menus)

    telegram_fake.send_command("/quote@dsbot_test_bot $nvda 3 Asia/Tokyo fancy —loud")
    (sent,) = await telegram_fake.wait_for("sendMessage")
    assert sent["text"] == EXPECTED


async def test_discord_gets_typed_options_with_autocomplete_and_answers_them(
    discord_fake: FakeDiscord, start_discord: StartDiscord, with_quote: Services
) -> None:
    front_end: DiscordFrontEnd = await start_discord(with_quote)
    assert front_end.client.user is not None
    (put,) = discord_fake.calls_to("PUT", r"/applications/\d+/commands")
    (synced,) = [command for command in put.json if command["name"] == "quote"]
    options = {option["name"]: option for option in synced["options"]}
    string, integer, boolean = 3, 4, 5
    assert [(name, option["type"]) for name, option in options.items()] == [
        ("ticker", string),
        ("times", integer),
        ("zone", string),
        ("style", string),
        ("loud", boolean),
    ]
    assert options["ticker"]["required"] and options["ticker"]["autocomplete"]
    assert (options["times"]["min_value"], options["times"]["max_value"]) == (1, 5)
    assert options["zone"]["autocomplete"]
    assert [c["value"] for c in options["style"]["choices"]] == ["plain", "fancy"]
    assert options["ticker"]["name_localizations"]["zh-CN"] == "代码"

    focused = {"name": "ticker", "type": string, "value": "nv", "focused": True}
    completing = await discord_fake.autocomplete("quote", [focused])
    offered = (await callback_for(discord_fake, completing)).json["data"]["choices"]
    assert offered == [{"name": "NVDA", "value": "NVDA"}]

    given = [
        {"name": "ticker", "type": string, "value": "$nvda"},
        {"name": "times", "type": integer, "value": 3},
        {"name": "zone", "type": string, "value": "Asia/Tokyo"},
        {"name": "style", "type": string, "value": "fancy"},
        {"name": "loud", "type": boolean, "value": True},
    ]
    interaction = await discord_fake.slash("quote", given)
    answer = await callback_for(discord_fake, interaction)
    assert description(answer) == EXPECTED
