"""Buttons that keep working after a restart and on any process: the custom_id is the action.

A press is taken from the gateway's INTERACTION_CREATE payload before discord.py builds the
pressed Message and a View of it (about 1 ms a press, for two ids): the front end gets an
Interaction without its message, and discord.py still sends every response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import discord

log = logging.getLogger(__name__)

MAX_CUSTOM_ID = 100
_BUTTON_PRESS = 3  # INTERACTION_CREATE type: a message component
_BUTTON = 2  # component_type


@dataclass(frozen=True, slots=True)
class Pressed:
    """Where the pressed button is: its channel, and its message when Discord says which."""

    channel_id: int
    message_id: int | None


PressHandler = Callable[[discord.Interaction[Any], str, Pressed], Coroutine[Any, Any, None]]


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    # Fully dynamic, so discord.py's view store keeps nothing per message for an edit.
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


def route_presses(client: discord.Client, on_press: PressHandler) -> None:
    """Send every button press on `client` to `on_press`, any custom_id at all: one that
    matched nothing would go unanswered ("This interaction failed"); dispatch answers an
    unknown action with a catalogued line. Other interactions parse as discord.py does."""
    state = client._connection
    parse = state.parsers["INTERACTION_CREATE"]
    running: set[asyncio.Task[None]] = set()

    def parse_interaction_create(data: dict[str, Any]) -> None:
        inner = data.get("data") or {}
        if data.get("type") != _BUTTON_PRESS or inner.get("component_type") != _BUTTON:
            parse(data)
            return
        message = data.get("message") or {}
        channel_id = message.get("channel_id") or data.get("channel_id")
        if channel_id is None:
            parse(data)  # not a press this front end can place; discord.py drops it
            return
        pressed = Pressed(int(channel_id), int(message["id"]) if "id" in message else None)
        without_message = {key: value for key, value in data.items() if key != "message"}
        interaction: discord.Interaction[Any] = discord.Interaction(
            data=without_message,  # type: ignore[arg-type]
            state=state,
        )
        task: asyncio.Task[None] = asyncio.create_task(
            on_press(interaction, str(inner.get("custom_id", "")), pressed),
            name="discord-press",
        )
        running.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(_finished(running))
        state.dispatch("interaction", interaction)

    state.parsers["INTERACTION_CREATE"] = parse_interaction_create


def _finished(running: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("Discord button press failed", exc_info=error)

    return done
