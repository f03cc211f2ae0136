"""discord.py's client with the bot's command tree, translator and buttons; sharded or not."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.discord.buttons import route_presses
from bot.discord.commands import CatalogueTranslator
from bot.discord.render import NO_MENTIONS
from bot.discord.sharding import ShardPlan

if TYPE_CHECKING:
    from bot.discord.frontend import DiscordFrontEnd


class DiscordClient(discord.Client):
    """discord.py's client with our command tree, translator, and presses read from the raw
    interaction (bot.discord.buttons.route_presses)."""

    def __init__(self, front_end: DiscordFrontEnd, **options: Any) -> None:
        # Slash commands and buttons arrive as interactions: no message-content intent; the
        # guilds intent keeps roles cached so a configured moderator role can be recognised.
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS, **options)
        self.front_end = front_end
        self.tree: app_commands.CommandTree[DiscordClient] = app_commands.CommandTree(self)
        self.connected = asyncio.Event()
        front_end.register_commands(self.tree)
        route_presses(self, front_end.on_button)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogueTranslator())

    async def on_connect(self) -> None:  # READY: a new session
        self.connected.set()
        self.front_end.link_report(True)

    async def on_resumed(self) -> None:
        self.front_end.link_report(True)

    async def on_disconnect(self) -> None:
        self.front_end.link_report(False)


class ShardedDiscordClient(DiscordClient, discord.AutoShardedClient):
    """The same client over discord.py's AutoShardedClient, running the plan's shards.

    It is connected once every one of its shards has had READY (or resumed); any shard
    dropping reports the link down.
    """

    def __init__(self, front_end: DiscordFrontEnd, plan: ShardPlan) -> None:
        super().__init__(front_end, shard_count=plan.count, shard_ids=list(plan.ids))
        self.plan = plan
        self._up: set[int] = set()

    async def on_connect(self) -> None:
        pass  # dispatched for each shard's READY: on_shard_connect counts them

    async def on_resumed(self) -> None:
        pass  # likewise, on_shard_resumed

    async def on_shard_connect(self, shard_id: int) -> None:
        self._shard_up(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._shard_up(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._up.discard(shard_id)

    def _shard_up(self, shard_id: int) -> None:
        self._up.add(shard_id)
        if self._up >= set(self.plan.ids):
            self.connected.set()
            self.front_end.link_report(True)


def new_client(front_end: DiscordFrontEnd, plan: ShardPlan | None) -> DiscordClient:
    """A client for one start: sharded when the settings name shards."""
    if plan is None:
        return DiscordClient(front_end)
    return ShardedDiscordClient(front_end, plan)
