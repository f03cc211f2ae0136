"""The Discord front end: slash commands and buttons through discord.py, over the shared dispatch.

A thin adapter: it turns interactions into Requests, answers inside Discord's three-second
deadline (deferring when the answer may be slow), and renders Replies as embeds with
attachments and restart-proof buttons. No command logic lives here.

Named `discord_frontend` so that it never shadows the `discord` library itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.config import Settings
from bot.dispatch import dispatch, resolve_context
from bot.frontends import ChatUnreachable, TokenRejected
from bot.render import format_table, split_text
from bot.tally import TallyRefresher
from handlers.i18n import catalogue, pick_lang, text
from handlers.model import Lang, Platform, Reply, Request, Services, Table
from handlers.registry import COMMANDS, Command
from handlers.timezones import EXAMPLE_ZONES, zone_names

log = logging.getLogger(__name__)

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_FILES = 10
MAX_LABEL = 80
MAX_CUSTOM_ID = 100
MAX_BUTTONS = 25
MAX_CHOICES = 25
MAX_COMMAND_DESCRIPTION = 100
# Past this many messages a reply is trimmed, with a note saying so, rather than flooding.
MAX_MESSAGES = 5
# Discord drops an interaction not answered within 3 s; a slower answer must defer first.
DEFER_AFTER = 2.0
# Commands whose answer may wait on live data or chart drawing: defer at once.
SLOW_COMMANDS = frozenset({"stocks", "recap"})
# Discord error codes that mean the bot can no longer post to a channel.
UNREACHABLE_CODES = frozenset({50001, 50013, 10003})
COMMAND_HASH_KEY = "discord.command_tree_hash"
CHINESE = frozenset({discord.Locale.chinese, discord.Locale.taiwan_chinese})
COLOUR = discord.Colour.blurple()
ERROR_COLOUR = discord.Colour.red()
NO_MENTIONS = discord.AllowedMentions.none()
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_NAME_OK = re.compile(r"^[-_\w]{1,32}$")


def escape(value: str) -> str:
    """User-supplied text made literal: no Markdown, no mention that could ping."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(value))


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


# ---- rendering ----------------------------------------------------------------------------


@dataclasses.dataclass
class Outgoing:
    """One Discord message: its embeds, the files they show, and the buttons under it."""

    embeds: list[discord.Embed]
    files: list[discord.File]
    view: discord.ui.View | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send/followup calls (which reject view=None)."""
        sent: dict[str, Any] = {"embeds": self.embeds, "allowed_mentions": NO_MENTIONS}
        if self.files:
            sent["files"] = self.files
        if self.view is not None:
            sent["view"] = self.view
        return sent


def _blocks(reply: Reply) -> list[str]:
    """Escaped paragraphs and code-block tables, each short enough for one description."""
    blocks: list[str] = []
    for part in reply.parts:
        if isinstance(part, Table):
            # A fence inside a cell would end the code block early.
            table = format_table(part).replace("```", "`\u200b``")
            blocks.extend(f"```\n{piece}\n```" for piece in split_text(table, MAX_DESCRIPTION - 8))
        elif part.strip():
            blocks.extend(split_text(escape(part), MAX_DESCRIPTION))
    return blocks


def _descriptions(blocks: Iterable[str]) -> list[str]:
    descriptions: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}\n\n{block}" if current else block
        if current and len(candidate) > MAX_DESCRIPTION:
            descriptions.append(current)
            current = block
        else:
            current = candidate
    if current:
        descriptions.append(current)
    return descriptions


def _filename(name: str, index: int) -> str:
    cleaned = _FILENAME_UNSAFE.sub("_", name.rsplit("/", 1)[-1])[:60]
    return cleaned if cleaned.lower().endswith(".png") else f"image{index}.png"


def build_view(reply: Reply) -> discord.ui.View | None:
    if not reply.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in reply.buttons[:MAX_BUTTONS]:
        view.add_item(ActionButton(button.action, _clip(button.label, MAX_LABEL)))
    return view


def render(reply: Reply, lang: Lang) -> list[Outgoing]:
    """The reply as Discord messages within embed limits; buttons go under the last one."""
    colour = ERROR_COLOUR if reply.is_error else COLOUR
    embeds = [discord.Embed(description=d, colour=colour) for d in _descriptions(_blocks(reply))]
    if reply.title:
        if not embeds:
            embeds.append(discord.Embed(colour=colour))
        embeds[0].title = _clip(escape(reply.title), MAX_TITLE)
    entries: list[tuple[discord.Embed, discord.File | None]] = [(e, None) for e in embeds]
    for index, image in enumerate(reply.images):
        name = _filename(image.filename, index)
        picture = discord.File(io.BytesIO(image.png), filename=name, description=image.alt[:1024])
        entries.append(
            (discord.Embed(colour=colour).set_image(url=f"attachment://{name}"), picture)
        )

    messages: list[Outgoing] = []
    for embed, file in entries:
        last = messages[-1] if messages else None
        fits = (
            last is not None
            and len(last.embeds) < MAX_EMBEDS
            and sum(len(e) for e in last.embeds) + len(embed) <= MAX_EMBED_TOTAL
            and (file is None or len(last.files) < MAX_FILES)
        )
        if not fits:
            last = Outgoing([], [])
            messages.append(last)
        assert last is not None
        last.embeds.append(embed)
        if file is not None:
            last.files.append(file)
    if len(messages) > MAX_MESSAGES:
        messages = messages[:MAX_MESSAGES]
        messages[-1].embeds[-1].set_footer(text=text(lang, "discord.trimmed"))
    view = build_view(reply)
    if view is not None:
        if not messages:
            messages.append(Outgoing([discord.Embed(colour=colour, description="\u200b")], []))
        messages[-1].view = view
    return messages


# ---- buttons ------------------------------------------------------------------------------


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    # Any custom_id at all: a press discord.py matched to nothing would go unanswered
    # ("This interaction failed"); dispatch answers an unknown one with a catalogued line.
    template=r"(?s)(?P<action>.+)",
):
    """A button whose custom_id is the Reply button's action, so it works after a restart."""

    def __init__(self, action: str, label: str = "…") -> None:
        if len(action) > MAX_CUSTOM_ID:
            raise ValueError(f"a Discord custom_id is at most {MAX_CUSTOM_ID} characters")
        super().__init__(
            discord.ui.Button(label=label, custom_id=action, style=discord.ButtonStyle.secondary)
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, DiscordClient):
            await client.front_end.on_button(interaction, self.action)


# ---- command tree -------------------------------------------------------------------------


class CatalogueTranslator(app_commands.Translator):
    """Command names and descriptions in Chinese for zh-CN and zh-TW, from the catalogue.

    Each string carries its catalogue key in `extras`; Discord's other locales fall back
    to the English default.
    """

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if locale not in CHINESE or not key:
            return None
        translated = catalogue("zh").get(key)
        if translated is None:
            return None
        if context.location in (
            app_commands.TranslationContextLocation.command_name,
            app_commands.TranslationContextLocation.group_name,
            app_commands.TranslationContextLocation.parameter_name,
        ):
            # Discord rejects the whole sync for one invalid name: fall back instead.
            return (
                translated
                if _NAME_OK.match(translated) and translated.lower() == translated
                else None
            )
        return _clip(translated, MAX_COMMAND_DESCRIPTION)


def _described(key: str) -> locale_str:
    """A description from the catalogue (English default, Chinese through the translator)."""
    return locale_str(_clip(text("en", key), MAX_COMMAND_DESCRIPTION), key=key)


def _named(name: str, key: str = "") -> locale_str:
    """An English name, translated through `discord.name_<key or name>`: a parameter that
    shares its English name with its command (poll) needs a Chinese name of its own."""
    return locale_str(name, key=f"discord.name_{key or name}")


def takes_arguments(command: Command) -> bool:
    """Whether the command's usage line shows anything after the bare command."""
    return text("en", command.usage).strip() != f"/{command.name}"


def _poll_text(subcommand: str, *words: str | None) -> str:
    return " ".join([subcommand, *(word for word in words if word)]).strip()


def _cost_text(input_tokens: str | None, output_tokens: str | None, cache: int | None) -> str:
    words = []
    if input_tokens:
        words += [input_tokens, "in"]
    if output_tokens:
        words += [output_tokens, "out"]
    if cache is not None:
        words += ["cache", f"{cache}%"]
    return " ".join(words)


def _zone_choices(current: str) -> list[app_commands.Choice[str]]:
    wanted = current.strip().casefold()
    if not wanted:
        names = list(EXAMPLE_ZONES)
    else:
        names = [name for name in zone_names() if wanted in name.casefold()]
        names.sort(key=lambda name: (not name.casefold().startswith(wanted), len(name)))
    return [app_commands.Choice(name=name, value=name) for name in names[:MAX_CHOICES]]


class DiscordClient(discord.Client):
    """discord.py's client with our command tree, translator and dynamic buttons."""

    def __init__(self, front_end: DiscordFrontEnd) -> None:
        # Slash commands and buttons arrive as interactions: no message-content intent; the
        # guilds intent keeps roles cached so a configured moderator role can be recognised.
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS)
        self.front_end = front_end
        self.tree: app_commands.CommandTree[DiscordClient] = app_commands.CommandTree(self)
        self.connected = asyncio.Event()
        front_end.register_commands(self.tree)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        await self.tree.set_translator(CatalogueTranslator())

    async def on_connect(self) -> None:
        self.connected.set()


async def command_tree_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A digest of exactly what a sync would upload, translations included."""
    translator = CatalogueTranslator()
    payload = [await c.get_translated_payload(tree, translator) for c in tree.get_commands()]
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


# ---- the front end ------------------------------------------------------------------------


class DiscordFrontEnd:
    platform: Platform = "discord"

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        tally: TallyRefresher | None = None,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        if settings.discord_bot_token is None:
            raise ValueError("DISCORD_BOT_TOKEN is not set")
        self.settings = settings
        self.services = services
        self.token = settings.discord_bot_token
        self.mod_role = (settings.dsbot_discord_mod_role or "").strip()
        self.defer_after = defer_after
        self.tally = tally or TallyRefresher(interval=1.0)
        self.client = DiscordClient(self)
        self._connection: asyncio.Task[None] | None = None

    # -- lifecycle

    async def start(self) -> None:
        """Log in, sync commands if the tree changed since the last sync, connect."""
        try:
            try:
                await self.client.login(self.token.get_secret_value())
            except discord.LoginFailure:
                # A configuration error for `dsbot run` to report, not a crash with a traceback.
                raise TokenRejected(
                    "Discord rejected DISCORD_BOT_TOKEN; copy it again from the Developer Portal"
                ) from None
            await self.sync_if_changed()
            self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
            connected = asyncio.create_task(self.client.connected.wait())
            done, _ = await asyncio.wait(
                {self._connection, connected}, return_when=asyncio.FIRST_COMPLETED
            )
            if connected not in done:
                connected.cancel()
                # The gateway task ended before READY: surface why (bad token, no network...).
                await self._connection
                raise ConnectionError("the Discord gateway closed before the bot was ready")
        except BaseException:
            # run_front_ends stops only front ends that started: release the HTTP session.
            await self.client.close()
            raise

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.tally.drain()
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._connection

    async def sync_if_changed(self) -> bool:
        """Sync the global command tree when it differs from the last one synced."""
        state = self.services.bot_state
        digest = await command_tree_hash(self.client.tree)
        if await state.get(COMMAND_HASH_KEY) == digest:
            return False
        try:
            synced = await self.client.tree.sync()
        except discord.HTTPException as error:
            # Old commands still work: serve them, and try again at the next start.
            log.warning("Discord refused the command sync (%s %s)", error.status, error.text)
            return False
        await state.put(COMMAND_HASH_KEY, digest, now=self.services.clock())
        log.info("synced %d Discord commands globally (the command tree changed)", len(synced))
        return True

    async def sync(self, guild_id: int | None = None, *, clear: bool = False) -> int:
        """Sync now, globally or to one guild (for testing); returns how many commands.

        `clear` removes a guild's test copies again, which would otherwise show every
        command twice in that guild once the global commands are synced.
        """
        tree = self.client.tree
        if clear:
            if guild_id is None:
                raise ValueError("only a guild's commands can be cleared")
            guild = discord.Object(id=guild_id)
            tree.clear_commands(guild=guild)
            return len(await tree.sync(guild=guild))
        if guild_id is None:
            synced = await tree.sync()
            digest = await command_tree_hash(tree)
            await self.services.bot_state.put(COMMAND_HASH_KEY, digest, now=self.services.clock())
        else:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
        return len(synced)

    # -- proactive messages

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post to a channel (scheduled recaps); ChatUnreachable when the bot lost it."""
        if not chat_id.isdigit():
            raise ChatUnreachable(f"not a Discord channel id: {chat_id[:40]!r}")
        channel = self.client.get_partial_messageable(int(chat_id))
        request = await resolve_context(
            Request(platform="discord", user_id="", chat_id=chat_id, chat_kind="group"),
            self.services,
        )
        try:
            for message in render(reply, request.lang):
                await channel.send(**message.kwargs())
        except discord.HTTPException as error:
            if error.code in UNREACHABLE_CODES:
                raise ChatUnreachable(f"Discord channel {chat_id}: {error.text}") from error
            raise

    # -- commands

    def to_request(
        self,
        interaction: discord.Interaction[Any],
        *,
        command: str = "",
        text_: str = "",
        action: str | None = None,
    ) -> Request:
        user = interaction.user
        permissions = interaction.permissions
        is_admin = permissions.manage_guild or permissions.administrator
        if self.mod_role and isinstance(user, discord.Member):
            is_admin = is_admin or any(
                role.name == self.mod_role or str(role.id) == self.mod_role for role in user.roles
            )
        return Request(
            platform="discord",
            user_id=str(user.id),
            chat_id=str(interaction.channel_id or user.id),
            command=command,
            text=text_,
            chat_kind="group" if interaction.guild_id else "private",
            is_admin=is_admin,
            locale=str(interaction.locale.value),
            action=action,
            user_name=user.display_name,
            delivery_id=str(interaction.id),
        )

    async def run_command(
        self,
        interaction: discord.Interaction[Any],
        command: str,
        args: str = "",
        *,
        slow: bool = False,
    ) -> None:
        """Answer a slash command: defer when it may be slow, then reply or edit."""
        request = await resolve_context(
            self.to_request(interaction, command=command, text_=args), self.services
        )
        answer = asyncio.ensure_future(dispatch(request, self.services))
        deferred = False
        if slow:
            await interaction.response.defer(thinking=True)
            deferred = True
        else:
            done, _ = await asyncio.wait({answer}, timeout=self.defer_after)
            if not done:
                await interaction.response.defer(thinking=True)
                deferred = True
        reply = await answer
        await self._deliver(interaction, reply, request.lang, deferred=deferred)

    async def _deliver(
        self,
        interaction: discord.Interaction[Any],
        reply: Reply,
        lang: Lang,
        *,
        deferred: bool,
    ) -> None:
        ephemeral = reply.ephemeral or reply.is_error
        messages = render(reply, lang)
        if not messages and reply.notice:
            messages = [Outgoing([discord.Embed(description=escape(reply.notice))], [])]
            ephemeral = True
        elif not messages:
            messages = [Outgoing([discord.Embed(description="\u200b")], [])]
        first, rest = messages[0], messages[1:]
        if not deferred:
            await interaction.response.send_message(**first.kwargs(), ephemeral=ephemeral)
        elif ephemeral:
            # A public "thinking..." placeholder cannot turn private: replace it.
            await interaction.delete_original_response()
            await interaction.followup.send(**first.kwargs(), ephemeral=True)
        else:
            edit = first.kwargs()
            edit["attachments"] = edit.pop("files", [])
            await interaction.edit_original_response(**edit)
        for message in rest:
            await interaction.followup.send(**message.kwargs(), ephemeral=ephemeral)
        if reply.notice and (reply.parts or reply.title or reply.images):
            await interaction.followup.send(
                escape(reply.notice), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    # -- buttons

    async def on_button(self, interaction: discord.Interaction[Any], action: str) -> None:
        request = await resolve_context(self.to_request(interaction, action=action), self.services)
        answer = asyncio.ensure_future(dispatch(request, self.services))
        done, _ = await asyncio.wait({answer}, timeout=self.defer_after)
        if not done:
            # Acknowledge without changing the message; the answer follows up.
            await interaction.response.defer()
        reply = await answer
        message = interaction.message
        if not reply.edit or reply.is_error or message is None:
            if done:
                await self._deliver(interaction, reply, request.lang, deferred=False)
            else:
                await self._follow_up(interaction, reply, request.lang)
            return
        if reply.refresh_action:
            if reply.notice:
                await self._tell_privately(interaction, reply.notice)
            elif done:
                await interaction.response.defer()
            refresh = dataclasses.replace(request, action=reply.refresh_action, delivery_id="")
            channel_id, message_id = message.channel.id, message.id
            self.tally.request(
                f"discord:{channel_id}:{message_id}",
                lambda: self._refresh(refresh, channel_id, message_id),
            )
            return
        rendered = render(reply, request.lang)
        first = rendered[0] if rendered else Outgoing([], [])
        edit: dict[str, Any] = {
            "embeds": first.embeds,
            "attachments": first.files,
            "view": first.view,
            "allowed_mentions": NO_MENTIONS,
        }
        if done:
            await interaction.response.edit_message(**edit)
        else:
            await interaction.edit_original_response(**edit)
        if reply.notice:
            await self._tell_privately(interaction, reply.notice)

    async def _tell_privately(self, interaction: discord.Interaction[Any], notice: str) -> None:
        """A short line only the presser sees ("your vote: ..."), in whichever way is left."""
        if interaction.response.is_done():
            await interaction.followup.send(
                escape(notice), ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                escape(notice), ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    async def _follow_up(
        self, interaction: discord.Interaction[Any], reply: Reply, lang: Lang
    ) -> None:
        """The reply as follow-up messages, after a deferral that left the message alone."""
        ephemeral = reply.ephemeral or reply.is_error
        for message in render(reply, lang):
            await interaction.followup.send(**message.kwargs(), ephemeral=ephemeral)
        if reply.notice:
            await self._tell_privately(interaction, reply.notice)

    async def _refresh(self, request: Request, channel_id: int, message_id: int) -> None:
        """Re-render a tally message from fresh data (throttled by the TallyRefresher)."""
        reply = await dispatch(request, self.services)
        if reply.is_error:
            return
        rendered = render(reply, request.lang)
        if not rendered:
            return
        first = rendered[0]
        message = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                embeds=first.embeds,
                attachments=first.files,
                view=first.view,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            log.warning("could not refresh Discord message %s in %s", message_id, channel_id)

    # -- registration

    def register_commands(self, tree: app_commands.CommandTree[Any]) -> None:
        """One application command per registry command, typed where Discord has types."""
        special: dict[
            str, Callable[[Command], app_commands.Command[Any, ..., Any] | app_commands.Group]
        ] = {
            "stocks": self._stocks_command,
            "cost": self._cost_command,
            "outages": self._outages_command,
            "poll": self._poll_group,
            "settings": self._settings_command,
        }
        for command in COMMANDS:
            build = special.get(command.name, self._generic_command)
            built = build(command)
            if command.moderator:
                built.default_permissions = discord.Permissions(manage_guild=True)
            tree.add_command(built)

        @tree.error
        async def on_error(
            interaction: discord.Interaction[Any], error: app_commands.AppCommandError
        ) -> None:
            log.error("Discord command failed", exc_info=error)

    def _generic_command(self, command: Command) -> app_commands.Command[Any, ..., Any]:
        name, slow = command.name, command.name in SLOW_COMMANDS
        if takes_arguments(command):

            @app_commands.describe(text=_described("discord.opt_text"))
            @app_commands.rename(text=_named("text"))
            async def with_text(interaction: discord.Interaction[Any], text: str = "") -> None:
                await self.run_command(interaction, name, text, slow=slow)

            callback: Callable[..., Coroutine[Any, Any, None]] = with_text
        else:

            async def bare(interaction: discord.Interaction[Any]) -> None:
                await self.run_command(interaction, name, slow=slow)

            callback = bare
        return app_commands.Command(
            name=_named(name), description=_described(command.summary), callback=callback
        )

    def _stocks_command(self, command: Command) -> app_commands.Command[Any, ..., Any]:
        tickers = self.services.facts.tickers

        async def complete(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            wanted = current.strip().upper()
            found = [t for t in tickers() if wanted in t.upper()] if wanted else list(tickers())
            return [app_commands.Choice(name=t, value=t) for t in found[:MAX_CHOICES]]

        @app_commands.describe(
            ticker=_described("discord.opt_ticker"), chart=_described("discord.opt_chart")
        )
        @app_commands.rename(ticker=_named("ticker"), chart=_named("chart"))
        @app_commands.autocomplete(ticker=complete)
        async def stocks(
            interaction: discord.Interaction[Any], ticker: str = "", chart: bool = False
        ) -> None:
            args = f"chart {ticker}".strip() if chart else ticker
            await self.run_command(interaction, command.name, args, slow=True)

        return app_commands.Command(
            name=_named(command.name), description=_described(command.summary), callback=stocks
        )

    def _cost_command(self, command: Command) -> app_commands.Command[Any, ..., Any]:
        @app_commands.describe(
            input=_described("discord.opt_input"),
            output=_described("discord.opt_output"),
            cache=_described("discord.opt_cache"),
        )
        @app_commands.rename(input=_named("input"), output=_named("output"), cache=_named("cache"))
        async def cost(
            interaction: discord.Interaction[Any],
            input: str = "",
            output: str = "",
            cache: app_commands.Range[int, 0, 100] | None = None,
        ) -> None:
            await self.run_command(interaction, command.name, _cost_text(input, output, cache))

        return app_commands.Command(
            name=_named(command.name), description=_described(command.summary), callback=cost
        )

    def _outages_command(self, command: Command) -> app_commands.Command[Any, ..., Any]:
        async def complete(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            return _zone_choices(current)

        @app_commands.describe(zone=_described("discord.opt_zone"))
        @app_commands.rename(zone=_named("zone"))
        @app_commands.autocomplete(zone=complete)
        async def outages(interaction: discord.Interaction[Any], zone: str = "") -> None:
            await self.run_command(interaction, command.name, zone)

        return app_commands.Command(
            name=_named(command.name), description=_described(command.summary), callback=outages
        )

    def _settings_command(self, command: Command) -> app_commands.Command[Any, ..., Any]:
        async def complete(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            # Autocomplete answers are not translated by discord.py: localise the label here.
            auto = text(pick_lang(str(interaction.locale.value)), "discord.choice_tz_auto")
            return [app_commands.Choice(name=auto, value="auto"), *_zone_choices(current)][
                :MAX_CHOICES
            ]

        @app_commands.describe(lang=_described("discord.opt_lang"), tz=_described("discord.opt_tz"))
        @app_commands.rename(lang=_named("lang"), tz=_named("tz"))
        @app_commands.choices(
            lang=[
                app_commands.Choice(name="English", value="en"),
                app_commands.Choice(name="中文", value="zh"),
                app_commands.Choice(
                    name=_described("discord.choice_lang_auto"),
                    value="auto",
                ),
            ]
        )
        @app_commands.autocomplete(tz=complete)
        async def settings(
            interaction: discord.Interaction[Any], lang: str = "", tz: str = ""
        ) -> None:
            # The text command changes one setting at a time: lang wins, tz follows up.
            if lang and tz:
                await self.run_command(interaction, command.name, f"lang {lang}")
                request = await resolve_context(
                    self.to_request(interaction, command=command.name, text_=f"tz {tz}"),
                    self.services,
                )
                reply = await dispatch(request, self.services)
                for message in render(reply, request.lang):
                    await interaction.followup.send(
                        **message.kwargs(), ephemeral=reply.ephemeral or reply.is_error
                    )
                return
            args = f"lang {lang}" if lang else f"tz {tz}" if tz else ""
            await self.run_command(interaction, command.name, args)

        return app_commands.Command(
            name=_named(command.name), description=_described(command.summary), callback=settings
        )

    def _poll_group(self, command: Command) -> app_commands.Group:
        group = app_commands.Group(
            name=_named(command.name), description=_described(command.summary)
        )
        name = command.name

        @group.command(name=_named("show"), description=_described("discord.poll_show"))
        @app_commands.describe(poll=_described("discord.opt_poll"))
        @app_commands.rename(poll=_named("id", "poll_id"))
        async def show(
            interaction: discord.Interaction[Any], poll: app_commands.Range[int, 1] | None = None
        ) -> None:
            await self.run_command(interaction, name, str(poll) if poll else "")

        @group.command(name=_named("vote"), description=_described("discord.poll_vote"))
        @app_commands.describe(
            option=_described("discord.opt_option"), poll=_described("discord.opt_poll")
        )
        @app_commands.rename(option=_named("option"), poll=_named("id", "poll_id"))
        async def vote(
            interaction: discord.Interaction[Any],
            option: app_commands.Range[int, 1, 25],
            poll: app_commands.Range[int, 1] | None = None,
        ) -> None:
            which = f"#{poll}" if poll else None
            await self.run_command(interaction, name, _poll_text("vote", which, str(option)))

        @group.command(name=_named("results"), description=_described("discord.poll_results"))
        @app_commands.describe(poll=_described("discord.opt_poll"))
        @app_commands.rename(poll=_named("id", "poll_id"))
        async def results(
            interaction: discord.Interaction[Any], poll: app_commands.Range[int, 1] | None = None
        ) -> None:
            await self.run_command(
                interaction, name, _poll_text("results", str(poll) if poll else None), slow=True
            )

        @group.command(name=_named("new"), description=_described("discord.poll_new"))
        @app_commands.describe(
            question=_described("discord.opt_question"),
            choices=_described("discord.opt_choices"),
            multi=_described("discord.opt_multi"),
            closes=_described("discord.opt_closes"),
        )
        @app_commands.rename(
            question=_named("question"),
            choices=_named("choices"),
            multi=_named("multi"),
            closes=_named("closes"),
        )
        async def new(
            interaction: discord.Interaction[Any],
            question: str,
            choices: str,
            multi: bool = False,
            closes: str = "",
        ) -> None:
            words = [f"{question} | {choices}"]
            if multi:
                words.append("--multi")
            if closes:
                words.append(f"--closes {closes}")
            await self.run_command(interaction, name, _poll_text("new", *words))

        @group.command(name=_named("close"), description=_described("discord.poll_close"))
        @app_commands.describe(poll=_described("discord.opt_poll"))
        @app_commands.rename(poll=_named("id", "poll_id"))
        async def close(
            interaction: discord.Interaction[Any], poll: app_commands.Range[int, 1] | None = None
        ) -> None:
            await self.run_command(
                interaction, name, _poll_text("close", str(poll) if poll else None)
            )

        @group.command(name=_named("list"), description=_described("discord.poll_list"))
        async def list_(interaction: discord.Interaction[Any]) -> None:
            await self.run_command(interaction, name, "list")

        return group


async def sync_commands(
    settings: Settings, services: Services, guild_id: int | None, *, clear: bool = False
) -> int:
    """`dsbot discord-sync`: log in over REST only, sync the commands, log out."""
    front_end = DiscordFrontEnd(settings, services)
    try:
        await front_end.client.login(front_end.token.get_secret_value())
        return await front_end.sync(guild_id, clear=clear)
    finally:
        await front_end.client.close()
