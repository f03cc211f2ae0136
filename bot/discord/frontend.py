"""The Discord front end: slash commands and buttons through discord.py, over the shared dispatch.

A thin adapter: it turns interactions into Requests, answers inside Discord's three-second
deadline (deferring when the answer may be slow), and carries out the delivery policy with
embeds, attachments and restart-proof buttons. No command logic lives here: the slash tree
comes from the declarations (bot.discord.commands), rendering from bot.discord.render.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
from typing import Any, Unpack

import discord
from discord import app_commands

from bot.config import Settings
from bot.copies import Wiring, joined_copies, shows_poll
from bot.delivery import Delivery, LastShown, for_command, for_press
from bot.discord.buttons import Pressed
from bot.discord.client import DiscordClient, new_client
from bot.discord.commands import CatalogueTranslator, slash_commands
from bot.discord.connection import translated
from bot.discord.render import NO_MENTIONS, Outgoing, escape, render
from bot.discord.sharding import shard_plan, syncs_commands
from bot.dispatch import dispatch, resolve_context
from bot.frontend import ChatUnreachable, LinkReport
from handlers.model import Lang, Reply, Request, Services
from handlers.poll_view import refreshed_poll
from storage.poll_copies import PollCopy
from storage.poll_model import Platform

log = logging.getLogger(__name__)

# Discord drops an interaction not answered within 3 s; a slower answer must defer first.
DEFER_AFTER = 2.0
# Discord error codes that mean the bot can no longer post to a channel.
UNREACHABLE_CODES = frozenset({50001, 50013, 10003})
COMMAND_HASH_KEY = "discord.command_tree_hash"


def _ignore(up: bool) -> None:
    pass


async def command_tree_hash(tree: app_commands.CommandTree[Any]) -> str:
    """A digest of exactly what a sync would upload, translations included."""
    translator = CatalogueTranslator()
    payload = [await c.get_translated_payload(tree, translator) for c in tree.get_commands()]
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class DiscordFrontEnd:
    platform: Platform = "discord"

    def __init__(
        self,
        settings: Settings,
        services: Services,
        defer_after: float = DEFER_AFTER,
        **wiring: Unpack[Wiring],
    ) -> None:
        if settings.discord_bot_token is None:
            raise ValueError("DISCORD_BOT_TOKEN is not set")
        self.settings = settings
        self.services = services
        self.token = settings.discord_bot_token
        self.mod_role = (settings.dsbot_discord_mod_role or "").strip()
        self.defer_after = defer_after
        self.dispatcher = wiring.get("dispatcher", dispatch)
        self.copies = joined_copies(self, services, wiring, tally_interval=1.0)
        self.tally = self.copies.tally
        self.shown = LastShown()
        self.link_report: LinkReport = _ignore
        self.shards = shard_plan(settings)
        self.client: DiscordClient = new_client(self, self.shards)
        self._connection: asyncio.Task[None] | None = None

    # -- lifecycle

    async def start(self) -> None:
        """Log in, sync commands if the tree changed since the last sync (only the process
        that runs shard 0 does), connect (every shard of this process).

        Raises TokenRejected for a refused token and Unreachable when Discord cannot be
        reached or answers 5xx; the supervisor tries again.
        """
        if self.client.is_closed():
            self.client = new_client(self, self.shards)  # a closed one cannot log in again
        try:
            await self.client.login(self.token.get_secret_value())
            if syncs_commands(self.shards):
                await self.sync_if_changed()
            # discord.py's own reconnect loop backs off for up to 17 minutes and logs each
            # failure with a traceback: a failed reconnect ends the connection instead, and
            # the supervisor connects again with its capped back-off.
            self._connection = asyncio.create_task(
                self.client.connect(reconnect=False), name="discord-gateway"
            )
            connected = asyncio.create_task(self.client.connected.wait())
            done, _ = await asyncio.wait(
                {self._connection, connected}, return_when=asyncio.FIRST_COMPLETED
            )
            if connected not in done:
                connected.cancel()
                # The gateway task ended before READY: surface why (bad token, no network...).
                await self._connection
                raise ConnectionError("the Discord gateway closed before the bot was ready")
        except BaseException as error:
            # Released at once: a failed start is followed by a new client, not by stop().
            await self.client.close()
            seen = translated(error)
            if seen is error:
                raise
            raise seen from None

    def watch(self, report: LinkReport) -> None:
        self.link_report = report

    async def wait_ended(self) -> None:
        """Return (or raise why) when the gateway connection ended on its own."""
        assert self._connection is not None, "not started"
        try:
            # Shielded: the supervisor cancelling this wait must not cut the connection.
            await asyncio.shield(self._connection)
        except Exception as error:
            seen = translated(error)
            if seen is error:
                raise
            raise seen from None

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
        form: str,
        options: dict[str, Any],
        slow: bool = False,
    ) -> None:
        """Answer a slash command: defer when it may be slow, then carry out the delivery."""
        request = await resolve_context(
            dataclasses.replace(
                self.to_request(interaction, command=command), form=form, options=options
            ),
            self.services,
        )
        answer = asyncio.ensure_future(self.dispatcher(request, self.services))
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
        delivery = for_command(reply, chat_kind=request.chat_kind, can_whisper=True)
        posted = await self._answer_command(interaction, delivery, request.lang, deferred=deferred)
        poll_id = shows_poll(delivery.post) if delivery.post is not None else None
        if poll_id is not None and posted is not None:
            copy = PollCopy(poll_id, "discord", request.chat_id, str(posted), request.locale)
            await self.copies.shown(copy)

    async def _answer_command(
        self,
        interaction: discord.Interaction[Any],
        delivery: Delivery,
        lang: Lang,
        *,
        deferred: bool,
    ) -> int | None:
        """Carry the delivery out; the id of the public message with buttons, if any."""
        shown = delivery.post or delivery.private
        private = delivery.post is None
        messages = render(shown, lang) if shown is not None else []
        if not messages:
            messages = [Outgoing([discord.Embed(description="\u200b")], [])]
        first, rest = messages[0], messages[1:]
        first_id: int | None = None
        if not deferred:
            sent = await interaction.response.send_message(**first.kwargs(), ephemeral=private)
            first_id = sent.message_id
        elif private:
            # A public "thinking..." placeholder cannot turn private: replace it.
            await interaction.delete_original_response()
            await interaction.followup.send(**first.kwargs(), ephemeral=True)
        else:
            edit = first.kwargs()
            edit["attachments"] = edit.pop("files", [])
            first_id = (await interaction.edit_original_response(**edit)).id
        with_buttons = first_id if first.view is not None else None
        for message in rest:
            followed = await interaction.followup.send(
                **message.kwargs(), ephemeral=private, wait=True
            )
            with_buttons = followed.id if message.view is not None else with_buttons
        if delivery.notice:
            await self._tell_privately(interaction, delivery.notice)
        return None if private else with_buttons

    # -- buttons

    async def on_button(
        self, interaction: discord.Interaction[Any], action: str, pressed: Pressed
    ) -> None:
        request = await resolve_context(self.to_request(interaction, action=action), self.services)
        # Late, acknowledged first (message unchanged) by a timer, not a task and a wait.
        deferrals: list[asyncio.Future[Any]] = []
        late = asyncio.get_running_loop().call_later(
            self.defer_after,
            lambda: deferrals.append(asyncio.ensure_future(interaction.response.defer())),
        )
        try:
            reply = await self.dispatcher(request, self.services)
        finally:
            late.cancel()
        for deferral in deferrals:
            await deferral  # sent before anything that follows it up
        delivery = for_press(reply)
        channel_id, message_id = pressed.channel_id, pressed.message_id
        if delivery.edit is not None and message_id is not None:
            await self._edit_pressed(interaction, delivery.edit, request.lang, pressed)
        if delivery.notice:
            await self._tell_privately(interaction, delivery.notice)
        if delivery.post is not None:
            for outgoing in render(delivery.post, request.lang):
                await self._respond(interaction, outgoing)
        poll_id = refreshed_poll(delivery.refresh) if delivery.refresh else None
        if poll_id is not None and message_id is not None:
            copy = PollCopy(poll_id, "discord", str(channel_id), str(message_id), request.locale)
            await self.copies.pressed(copy, refused=delivery.alert)
        if not interaction.response.is_done():
            await interaction.response.defer()

    async def _edit_pressed(
        self,
        interaction: discord.Interaction[Any],
        reply: Reply,
        lang: Lang,
        pressed: Pressed,
    ) -> None:
        rendered = render(reply, lang)
        first = rendered[0] if rendered else Outgoing([], [])
        shown = (pressed.channel_id, pressed.message_id)
        if not self.shown.changes(shown, first.digest()):
            return
        edit: dict[str, Any] = {
            "embeds": first.embeds,
            "attachments": first.files,
            "view": first.view,
            "allowed_mentions": NO_MENTIONS,
        }
        try:
            if interaction.response.is_done():
                await interaction.edit_original_response(**edit)
            else:
                await interaction.response.edit_message(**edit)
        except discord.HTTPException:
            self.shown.forget(shown)
            raise

    async def _respond(self, interaction: discord.Interaction[Any], outgoing: Outgoing) -> None:
        """A public message answering the interaction: its first response, else a follow-up."""
        if interaction.response.is_done():
            await interaction.followup.send(**outgoing.kwargs())
        else:
            await interaction.response.send_message(**outgoing.kwargs())

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

    async def refresh_copy(self, copy: PollCopy, reply: Reply, lang: Lang) -> None:
        """Re-render a poll message from fresh data (throttled by bot.copies); a message or
        channel that is gone raises ChatUnreachable."""
        if not (copy.chat_id.isdigit() and copy.message_id.isdigit()):
            raise ChatUnreachable(f"not a Discord message: {copy.key!r}")
        channel_id, message_id = int(copy.chat_id), int(copy.message_id)
        rendered = render(reply, lang)
        if not rendered:
            return
        first = rendered[0]
        if not self.shown.changes((channel_id, message_id), first.digest()):
            return
        message = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
        try:
            await message.edit(
                embeds=first.embeds,
                attachments=first.files,
                view=first.view,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as error:
            self.shown.forget((channel_id, message_id))
            if isinstance(error, discord.NotFound) or error.code in UNREACHABLE_CODES:
                raise ChatUnreachable(f"Discord message {message_id}: {error.text}") from error
            log.warning("could not refresh Discord message %s in %s", message_id, channel_id)

    # -- registration

    def register_commands(self, tree: app_commands.CommandTree[Any]) -> None:
        """One application command per registry command, read off its declaration."""
        for command in slash_commands(
            self.services.registry, self.run_command, self.services.facts.tickers
        ):
            tree.add_command(command)

        @tree.error
        async def on_error(
            interaction: discord.Interaction[Any], error: app_commands.AppCommandError
        ) -> None:
            log.error("Discord command failed", exc_info=error)


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
