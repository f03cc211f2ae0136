"""The fake Discord refuses what Discord refuses, as discord.py itself meets it.

A bare discord.py client (not the front end) is pointed at the fake and makes each mistake:
a late or second interaction response, a message, autocomplete answer or command tree over
Discord's documented limits, a follow-up on an expired interaction token. Each gets the
platform's HTTP status and JSON error code; the same call within the limits is accepted.
The expected limits are Discord's documented numbers, written here as literals.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.http import Route

from tests.bot.conftest import DISCORD_TOKEN
from tests.fakes.discord_api import APPLICATION_ID, CHANNEL_ID, FakeDiscord

Handler = Callable[[discord.Interaction[Any]], Awaitable[Any]]


class Probe:
    """A discord.py client on the fake that hands each interaction to the test's handler."""

    def __init__(self) -> None:
        self.client = discord.Client(intents=discord.Intents.none())
        self.handler: Handler | None = None
        self.outcomes: asyncio.Queue[Any] = asyncio.Queue()
        self.client.event(self.on_interaction)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        assert self.handler is not None
        try:
            outcome = await self.handler(interaction)
        except Exception as error:  # the test looks at what discord.py raised
            outcome = error
        await self.outcomes.put(outcome)

    async def outcome(self) -> Any:
        return await asyncio.wait_for(self.outcomes.get(), timeout=10)

    @property
    def http(self) -> discord.http.HTTPClient:
        return self.client.http


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


@pytest.fixture
async def probe(fake: FakeDiscord) -> AsyncIterator[Probe]:
    probe = Probe()
    await probe.client.login(DISCORD_TOKEN)
    connection = asyncio.create_task(probe.client.connect())
    await fake.wait_until_connected()
    yield probe
    await probe.client.close()
    await asyncio.gather(connection, return_exceptions=True)


async def answer(fake: FakeDiscord, probe: Probe, handler: Handler) -> Any:
    """Run /probe and return what the handler returned or raised."""
    probe.handler = handler
    await fake.slash("probe")
    return await probe.outcome()


def refused(outcome: Any, status: int, code: int) -> discord.HTTPException:
    assert isinstance(outcome, discord.HTTPException), outcome
    assert (outcome.status, outcome.code) == (status, code), outcome.text
    return outcome


def invalid_form_body(outcome: Any, field: str) -> None:
    error = refused(outcome, 400, 50035)
    assert "Invalid Form Body" in error.text
    assert f"In {field}:" in error.text, error.text


# ---- the three-second deadline and one initial response -----------------------------------


def test_the_fake_gives_an_interaction_discords_three_seconds_and_a_token_fifteen_minutes() -> None:
    fake = FakeDiscord()
    assert fake.response_deadline == 3.0
    assert fake.token_lifetime == 15 * 60.0


async def test_a_first_response_after_three_seconds_is_an_unknown_interaction(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def late(interaction: discord.Interaction[Any]) -> Any:
        fake.clock_offset += 3.01
        return await interaction.response.send_message("late")

    outcome = await answer(fake, probe, late)

    assert isinstance(outcome, discord.NotFound)
    refused(outcome, 404, 10062)


async def test_a_deferral_just_inside_three_seconds_is_accepted(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def just_in_time(interaction: discord.Interaction[Any]) -> Any:
        fake.clock_offset += 2.5
        return await interaction.response.defer(thinking=True)

    outcome = await answer(fake, probe, just_in_time)

    assert isinstance(outcome, discord.InteractionCallbackResponse)
    assert fake.awaiting_response == 0


async def test_a_second_initial_response_is_refused_as_already_acknowledged(
    fake: FakeDiscord, probe: Probe
) -> None:
    delivered: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    async def twice(interaction: discord.Interaction[Any]) -> Any:
        await interaction.response.defer()
        # The same interaction handled a second time (a replay, a second process): discord.py
        # cannot know, so only Discord refuses it.
        twin = discord.Interaction(data=await delivered, state=probe.client._connection)  # type: ignore[arg-type]
        return await twin.response.send_message("again")

    probe.handler = twice
    delivered.set_result(await fake.slash("probe"))
    outcome = await probe.outcome()

    error = refused(outcome, 400, 40060)
    assert "already been acknowledged" in error.text


# ---- message payload limits ---------------------------------------------------------------


def embed(**fields: Any) -> dict[str, Any]:
    return {"type": "rich", **fields}


def buttons(count: int, **extra: Any) -> dict[str, Any]:
    row = [
        {"type": 2, "style": 2, "label": f"b{n}", "custom_id": f"id{n}", **extra}
        for n in range(count)
    ]
    return {"type": 1, "components": row}


# Resources > Message > Embed Object > Embed Limits; Create Message; Message Components.
OVER_THE_LIMIT: list[tuple[str, dict[str, Any], str]] = [
    ("content over 2000", {"content": "x" * 2001}, "content"),
    ("title over 256", {"embeds": [embed(title="t" * 257)]}, "embeds.0.title"),
    ("description over 4096", {"embeds": [embed(description="d" * 4097)]}, "embeds.0.description"),
    (
        "field name over 256",
        {"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]},
        "embeds.0.fields.0.name",
    ),
    (
        "field value over 1024",
        {"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]},
        "embeds.0.fields.0.value",
    ),
    (
        "footer over 2048",
        {"embeds": [embed(footer={"text": "f" * 2049})]},
        "embeds.0.footer.text",
    ),
    ("author over 256", {"embeds": [embed(author={"name": "a" * 257})]}, "embeds.0.author.name"),
    (
        "26 fields",
        {"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]},
        "embeds.0.fields",
    ),
    (
        "6001 characters over two embeds",
        {"embeds": [embed(description="d" * 4000), embed(description="d" * 2001)]},
        "embeds",
    ),
    ("11 embeds", {"embeds": [embed(description="d")] * 11}, "embeds"),
    ("6 action rows", {"components": [buttons(1)] * 6}, "components"),
    ("6 buttons in a row", {"components": [buttons(6)]}, "components.0.components"),
    (
        "custom_id over 100",
        {"components": [buttons(1, custom_id="c" * 101)]},
        "components.0.components.0.custom_id",
    ),
    (
        "label over 80",
        {"components": [buttons(1, label="l" * 81)]},
        "components.0.components.0.label",
    ),
    (
        "a button with neither label nor emoji",
        {"components": [{"type": 1, "components": [{"type": 2, "style": 2, "custom_id": "x"}]}]},
        "components.0.components.0.label",
    ),
    (
        "a button without custom_id",
        {"components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "x"}]}]},
        "components.0.components.0.custom_id",
    ),
]

AT_THE_LIMIT: list[tuple[str, dict[str, Any]]] = [
    ("content of 2000", {"content": "x" * 2000}),
    (
        "every embed text at its limit, 6000 together",
        {
            "embeds": [
                embed(title="t" * 256, description="d" * 4096, author={"name": "a" * 256}),
                embed(
                    footer={"text": "f" * 1024},
                    fields=[{"name": "n" * 256, "value": "v" * 112}],
                ),
            ]
        },
    ),
    ("25 fields", {"embeds": [embed(fields=[{"name": "n", "value": "v" * 200}] * 25)]}),
    ("footer of 2048", {"embeds": [embed(footer={"text": "f" * 2048})]}),
    ("10 embeds", {"embeds": [embed(description="d")] * 10}),
    (
        "5 rows of 5 buttons with 80-character labels and 100-character ids",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 2,
                            "style": 2,
                            "label": f"{row}{n}".ljust(80, "l"),
                            "custom_id": f"{row}{n}".ljust(100, "c"),
                        }
                        for n in range(5)
                    ],
                }
                for row in range(5)
            ]
        },
    ),
    (
        "a link button with an emoji and no custom_id",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 5, "emoji": {"name": "🔗"}, "url": "https://x.test"}
                    ],
                }
            ]
        },
    ),
]


def channel_messages() -> Route:
    return Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL_ID)


@pytest.mark.parametrize(
    ("payload", "field"),
    [pytest.param(payload, field, id=label) for label, payload, field in OVER_THE_LIMIT],
)
async def test_a_channel_message_over_a_limit_is_an_invalid_form_body(
    probe: Probe, payload: dict[str, Any], field: str
) -> None:
    try:
        outcome: Any = await probe.http.request(channel_messages(), json=payload)
    except discord.HTTPException as error:
        outcome = error
    invalid_form_body(outcome, field)


@pytest.mark.parametrize(
    "payload", [pytest.param(payload, id=label) for label, payload in AT_THE_LIMIT]
)
async def test_a_channel_message_at_every_limit_is_accepted(
    probe: Probe, payload: dict[str, Any]
) -> None:
    posted = await probe.http.request(channel_messages(), json=payload)
    edited = await probe.http.request(
        Route(
            "PATCH",
            "/channels/{channel_id}/messages/{message_id}",
            channel_id=CHANNEL_ID,
            message_id=posted["id"],
        ),
        json=payload,
    )
    assert edited["id"] == posted["id"]


async def test_editing_a_channel_message_over_a_limit_is_an_invalid_form_body(
    probe: Probe,
) -> None:
    posted = await probe.http.request(channel_messages(), json={"content": "short"})
    message = probe.client.get_partial_messageable(CHANNEL_ID).get_partial_message(
        int(posted["id"])
    )
    try:
        outcome: Any = await message.edit(content="x" * 2001)
    except discord.HTTPException as error:
        outcome = error
    invalid_form_body(outcome, "content")


async def test_an_interaction_reply_over_2000_characters_is_an_invalid_form_body(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def long_reply(interaction: discord.Interaction[Any]) -> Any:
        return await interaction.response.send_message("x" * 2001)

    invalid_form_body(await answer(fake, probe, long_reply), "data.content")
    assert fake.awaiting_response == 1, "a refused response does not acknowledge"


async def test_a_button_update_over_a_limit_is_an_invalid_form_body(
    fake: FakeDiscord, probe: Probe
) -> None:
    posted = await probe.http.request(channel_messages(), json={"components": [buttons(1)]})

    async def update(interaction: discord.Interaction[Any]) -> Any:
        return await interaction.response.edit_message(
            embed=discord.Embed().add_field(name="n", value="v" * 1025)
        )

    probe.handler = update
    await fake.press(fake.messages[int(posted["id"])], "id0")
    invalid_form_body(await probe.outcome(), "data.embeds.0.fields.0.value")


async def test_follow_ups_and_edits_of_the_original_over_a_limit_are_invalid_form_bodies(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def oversized(interaction: discord.Interaction[Any]) -> Any:
        await interaction.response.defer(thinking=True)
        outcomes: list[Any] = []
        for attempt in (
            interaction.followup.send(embed=discord.Embed(description="d" * 4097)),
            interaction.edit_original_response(embed=discord.Embed(title="t" * 257)),
            interaction.followup.send(embed=discord.Embed(description="d" * 4096)),
        ):
            try:
                outcomes.append(await attempt)
            except discord.HTTPException as error:
                outcomes.append(error)
        return outcomes

    follow_up, edit, within = await answer(fake, probe, oversized)

    invalid_form_body(follow_up, "embeds.0.description")
    invalid_form_body(edit, "embeds.0.title")
    assert isinstance(within, discord.WebhookMessage)


# ---- autocomplete -------------------------------------------------------------------------


async def autocomplete_with(
    fake: FakeDiscord, probe: Probe, choices: list[app_commands.Choice[str]]
) -> Any:
    async def respond(interaction: discord.Interaction[Any]) -> Any:
        return await interaction.response.autocomplete(choices)

    probe.handler = respond
    await fake.autocomplete("probe", [{"name": "q", "type": 3, "value": "", "focused": True}])
    return await probe.outcome()


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        pytest.param(
            [app_commands.Choice(name=str(n), value=str(n)) for n in range(26)],
            "data.choices",
            id="26 choices",
        ),
        pytest.param(
            [app_commands.Choice(name="n" * 101, value="v")], "data.choices.0.name", id="long name"
        ),
        pytest.param(
            [app_commands.Choice(name="", value="v")], "data.choices.0.name", id="empty name"
        ),
        pytest.param(
            [app_commands.Choice(name="n", value="v" * 101)],
            "data.choices.0.value",
            id="long value",
        ),
    ],
)
async def test_an_autocomplete_answer_over_a_limit_is_an_invalid_form_body(
    fake: FakeDiscord, probe: Probe, choices: list[app_commands.Choice[str]], field: str
) -> None:
    invalid_form_body(await autocomplete_with(fake, probe, choices), field)


async def test_twenty_five_choices_with_hundred_character_names_are_accepted(
    fake: FakeDiscord, probe: Probe
) -> None:
    choices = [app_commands.Choice(name=f"{n}".ljust(100, "n"), value="v" * 100) for n in range(25)]
    assert await autocomplete_with(fake, probe, choices) is None
    assert fake.awaiting_response == 0


# ---- the command tree ---------------------------------------------------------------------


def command(name: str = "cost", **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": "What it costs", "type": 1, **fields}


def string_option(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": "An option", "type": 3, **fields}


# Application Commands > Application Command Object (naming, structure, option structure,
# choice structure, localization) and Registering a Command (100 global CHAT_INPUT commands).
BAD_TREES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("an upper-case name", [command("Cost")], "0.name"),
    ("a name with a space", [command("the cost")], "0.name"),
    ("a name of 33 characters", [command("c" * 33)], "0.name"),
    ("an empty description", [command(description="")], "0.description"),
    ("a description of 101 characters", [command(description="d" * 101)], "0.description"),
    (
        "26 options",
        [command(options=[string_option(f"o{n}") for n in range(26)])],
        "0.options",
    ),
    (
        "a required option after an optional one",
        [command(options=[string_option("a"), string_option("b", required=True)])],
        "0.options.1.required",
    ),
    (
        "26 choices",
        [command(options=[string_option("a", choices=[{"name": "c", "value": "c"}] * 26)])],
        "0.options.0.choices",
    ),
    (
        "a choice name of 101 characters",
        [command(options=[string_option("a", choices=[{"name": "c" * 101, "value": "c"}])])],
        "0.options.0.choices.0.name",
    ),
    (
        "a locale Discord does not have",
        [command(name_localizations={"zh": "成本"})],
        "0.name_localizations.zh",
    ),
    (
        "an upper-case localized option name",
        [command(options=[string_option("a", name_localizations={"de": "Eingabe"})])],
        "0.options.0.name_localizations.de",
    ),
    (
        "a localized description of 101 characters",
        [command(description_localizations={"zh-CN": "长" * 101})],
        "0.description_localizations.zh-CN",
    ),
    ("101 commands", [command(f"c{n}") for n in range(101)], "_errors"),
]


@pytest.mark.parametrize(
    ("tree", "field"), [pytest.param(tree, field, id=label) for label, tree, field in BAD_TREES]
)
async def test_a_command_tree_breaking_a_rule_is_an_invalid_form_body(
    fake: FakeDiscord, probe: Probe, tree: list[dict[str, Any]], field: str
) -> None:
    try:
        outcome: Any = await probe.http.bulk_upsert_global_commands(APPLICATION_ID, tree)
    except discord.HTTPException as error:
        outcome = error
    invalid_form_body(outcome, field)
    assert fake.commands.get("global") is None, "a refused tree replaced the commands"


async def test_a_command_tree_within_every_rule_is_accepted(probe: Probe) -> None:
    locales = (  # noqa: SIM905 - Reference > Locales, as the page lists them
        "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
        "bg ru uk hi th zh-CN ja zh-TW ko"
    ).split()
    tree = [command(f"c{n}") for n in range(99)] + [
        command(
            "d'un-nom_ü",
            description="d" * 100,
            name_localizations={locale: "नाम-ชื่อ-名前" for locale in locales},
            description_localizations={locale: "d" * 100 for locale in locales},
            options=[string_option(f"r{n}", required=True) for n in range(5)]
            + [
                string_option(f"o{n}", choices=[{"name": "c" * 100, "value": "c"}] * 25)
                for n in range(20)
            ],
        )
    ]
    stored = await probe.http.bulk_upsert_global_commands(APPLICATION_ID, tree)
    assert len(stored) == 100


class UpperCaseTranslator(app_commands.Translator):
    """A translator that capitalises German command names, as a careless catalogue might."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is discord.Locale.german:
            return string.message.capitalize()
        return None


async def test_command_tree_sync_with_an_upper_case_translation_is_refused(
    fake: FakeDiscord, probe: Probe
) -> None:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(probe.client)

    @tree.command(name=app_commands.locale_str("cost"), description="What it costs")
    async def cost(interaction: discord.Interaction[Any]) -> None:
        pass

    await tree.set_translator(UpperCaseTranslator())
    with pytest.raises(discord.HTTPException) as raised:
        await tree.sync()

    invalid_form_body(raised.value, "0.name_localizations.de")


# ---- the fifteen-minute interaction token -------------------------------------------------


async def test_a_follow_up_or_edit_after_fifteen_minutes_is_an_invalid_webhook_token(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def much_later(interaction: discord.Interaction[Any]) -> Any:
        await interaction.response.defer(thinking=True)
        fake.clock_offset += 15 * 60 + 1
        outcomes: list[Any] = []
        for attempt in (
            interaction.followup.send("late"),
            interaction.edit_original_response(content="late"),
        ):
            try:
                outcomes.append(await attempt)
            except discord.HTTPException as error:
                outcomes.append(error)
        return outcomes

    follow_up, edit = await answer(fake, probe, much_later)

    refused(follow_up, 401, 50027)
    refused(edit, 401, 50027)


async def test_a_follow_up_just_inside_fifteen_minutes_is_accepted(
    fake: FakeDiscord, probe: Probe
) -> None:
    async def later(interaction: discord.Interaction[Any]) -> Any:
        await interaction.response.defer(thinking=True)
        fake.clock_offset += 15 * 60 - 5
        return await interaction.followup.send("still in time")

    assert isinstance(await answer(fake, probe, later), discord.WebhookMessage)
