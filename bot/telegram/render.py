"""Replies as Telegram HTML: everything escaped, tables in <pre>, split under the limits."""

from __future__ import annotations

import functools
import html
import itertools
from collections.abc import Iterator

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render import format_table
from handlers.model import Reply, Table

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOAST_LIMIT = 200
_STYLE_TAGS = {"b": ("<b>", "</b>"), "pre": ("<pre>", "</pre>")}
_TAG_COST = {"": 0} | {style: len(o) + len(c) for style, (o, c) in _STYLE_TAGS.items()}


def _units(text: str) -> int:
    """Telegram measures texts in UTF-16 code units."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _escape(raw: str) -> str:
    return html.escape(raw, quote=False)


def _reply_lines(reply: Reply) -> list[tuple[str, str]]:
    """(style, plain line) in reading order: the title bold, tables monospace."""
    lines: list[tuple[str, str]] = [("b", line) for line in reply.title.split("\n") if line]
    for part in reply.parts:
        if lines:
            lines.append(("", ""))
        if isinstance(part, Table):
            lines.extend(("pre", row) for row in format_table(part).split("\n"))
        else:
            lines.extend(("", line) for line in part.split("\n"))
    return lines


def _cut(style: str, raw: str, limit: int) -> Iterator[str]:
    """An over-long line as escaped chunks that each fit with their tags; never mid-entity."""
    budget = limit - _TAG_COST[style]
    chunk: list[str] = []
    size = 0
    for char in raw:
        escaped = _escape(char)
        if chunk and size + _units(escaped) > budget:
            yield "".join(chunk)
            chunk, size = [], 0
        chunk.append(escaped)
        size += _units(escaped)
    yield "".join(chunk)


def _render_piece(lines: list[tuple[str, str]]) -> str:
    runs = []
    for style, run in itertools.groupby(lines, key=lambda line: line[0]):
        body = "\n".join(escaped for _, escaped in run)
        opening, closing = _STYLE_TAGS.get(style, ("", ""))
        runs.append(f"{opening}{body}{closing}")
    return "\n".join(runs)


# Popular commands (/cost, /help, /about) answer many people with the same Reply; a Reply is
# a frozen value, so its rendering can be reused.
@functools.lru_cache(maxsize=128)
def render_html(reply: Reply, limit: int = TEXT_LIMIT) -> tuple[str, ...]:
    """The reply's title and parts as Telegram HTML pieces of at most `limit` characters.

    Every dynamic text is escaped. Pieces break at line ends, so a table row stays whole; a
    table cut between two pieces closes its <pre> in the first and reopens it in the next.
    """
    pieces: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for style, raw in _reply_lines(reply):
        escaped, tags = _escape(raw), _TAG_COST[style]
        fits = _units(escaped) + tags <= limit
        for chunk in (escaped,) if fits else _cut(style, raw, limit):
            if not current and not chunk:
                continue  # no piece starts with a blank line
            units = _units(chunk)
            opens_run = not current or current[-1][0] != style
            cost = units + (1 if current else 0) + (tags if opens_run else 0)
            if current and size + cost > limit:
                _keep(pieces, current)
                current, size = [], 0
                if not chunk:
                    continue
                cost = units + tags
            current.append((style, chunk))
            size += cost
    _keep(pieces, current)
    return tuple(_render_piece(piece) for piece in pieces)


def _keep(pieces: list[list[tuple[str, str]]], piece: list[tuple[str, str]]) -> None:
    """Add a finished piece, without its trailing blank lines."""
    while piece and not piece[-1][1]:
        piece.pop()
    if piece:
        pieces.append(piece)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row: poll options read best as a list."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.label, callback_data=button.action)]
            for button in reply.buttons
        ]
    )


def toast(notice: str) -> str:
    """A notice as a callback answer can show it: at most 200 UTF-16 units."""
    if _units(notice) <= TOAST_LIMIT:
        return notice
    while _units(notice) > TOAST_LIMIT - 1:
        notice = notice[: len(notice) - max(1, (_units(notice) - TOAST_LIMIT + 1) // 2)]
    return notice + "…"
