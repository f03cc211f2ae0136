"""Buttons that keep working after a restart and on any process: the custom_id is the action."""

from __future__ import annotations

import re
from typing import Any, Protocol, runtime_checkable

import discord

MAX_CUSTOM_ID = 100


@runtime_checkable
class PressReceiver(Protocol):
    """What answers a press: the front end the client belongs to."""

    async def on_button(self, interaction: discord.Interaction[Any], action: str) -> None: ...


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
        receiver = getattr(interaction.client, "front_end", None)
        if isinstance(receiver, PressReceiver):
            await receiver.on_button(interaction, self.action)
