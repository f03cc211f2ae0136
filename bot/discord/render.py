"""Replies as Discord messages: escaped embeds within Discord's limits, files, and buttons."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import re
from collections.abc import Iterable
from typing import Any

import discord

from bot.discord.buttons import ActionButton
from bot.render import format_table, split_text
from handlers.i18n import text
from handlers.model import Lang, Reply, Table
from handlers.user_text import shorten

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_EMBED_TOTAL = 6000
MAX_EMBEDS = 10
MAX_FILES = 10
MAX_LABEL = 80
MAX_BUTTONS = 25
# Past this many messages a reply is trimmed, with a note saying so, rather than flooding.
MAX_MESSAGES = 5
COLOUR = discord.Colour.blurple()
ERROR_COLOUR = discord.Colour.red()
NO_MENTIONS = discord.AllowedMentions.none()
_MENTION_SYNTAX = re.compile(r"<(@[!&]?|#)(?=\d)")
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


# Most replies repeat (a catalogue text with the same figures, a poll's question and labels),
# and escaping is three regex passes over each paragraph: rendering /about took 270 us, 19 us
# with escapes remembered. 1024 paragraphs of at most a few KB each stay a few MB at worst.
@functools.lru_cache(maxsize=1024)
def escape(value: str) -> str:
    """User-supplied text made literal: no Markdown, no mention that could ping.

    discord.py escapes only ids of a snowflake's length; Discord still draws `<@123>` as a
    mention, so any `<@digits>`, `<@&digits>` or `<#digits>` is broken up too.
    """
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(value))
    return _MENTION_SYNTAX.sub("<\\1\u200b", escaped)


@dataclasses.dataclass
class Outgoing:
    """One Discord message: its embeds, the files they show, and the buttons under it."""

    embeds: list[discord.Embed]
    files: list[discord.File]
    view: discord.ui.View | None = None

    def digest(self) -> str:
        """The message as Discord would show it, for telling whether an edit changes it."""
        view = self.view.to_components() if self.view is not None else []
        files = [file.filename for file in self.files]
        shown = {"embeds": [embed.to_dict() for embed in self.embeds], "view": view}
        return json.dumps({**shown, "files": files}, sort_keys=True, default=str)

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
        view.add_item(ActionButton(button.action, shorten(button.label, MAX_LABEL)))
    return view


def render(reply: Reply, lang: Lang) -> list[Outgoing]:
    """The reply as Discord messages within embed limits; buttons go under the last one."""
    colour = ERROR_COLOUR if reply.is_error else COLOUR
    embeds = [discord.Embed(description=d, colour=colour) for d in _descriptions(_blocks(reply))]
    if reply.title:
        if not embeds:
            embeds.append(discord.Embed(colour=colour))
        embeds[0].title = shorten(escape(reply.title), MAX_TITLE)
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
    for attachment in reply.files:
        if not messages or len(messages[-1].files) >= MAX_FILES:
            messages.append(Outgoing([], []))
        name = _FILENAME_UNSAFE.sub("_", attachment.filename.rsplit("/", 1)[-1])[:60] or "file"
        messages[-1].files.append(discord.File(io.BytesIO(attachment.data), filename=name))
    view = build_view(reply)
    if view is not None:
        if not messages:
            messages.append(Outgoing([discord.Embed(colour=colour, description="\u200b")], []))
        messages[-1].view = view
    return messages
