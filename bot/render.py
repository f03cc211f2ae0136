"""Turning a Reply into monospace text: aligned tables and splitting under a size limit."""

from __future__ import annotations

from collections.abc import Iterable

from wcwidth import wcswidth

from handlers.model import Table

COLUMN_GAP = "  "


def display_width(cell: str) -> int:
    """Terminal columns a string takes: Chinese characters take two, marks none."""
    width = wcswidth(cell)
    # wcswidth answers -1 for control characters; count those as one column each.
    return width if width >= 0 else sum(max(wcswidth(char), 1) for char in cell)


def _pad(cell: str, width: int, align: str) -> str:
    padding = " " * (width - display_width(cell))
    return padding + cell if align == "r" else cell + padding


def format_table(table: Table) -> str:
    """The table as aligned monospace lines, header underlined."""
    columns = len(table.headers)
    align = table.align or ("l",) * columns
    widths = [display_width(header) for header in table.headers]
    for row in table.rows:
        widths = [max(width, display_width(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Iterable[str]) -> str:
        padded = (_pad(c, w, a) for c, w, a in zip(cells, widths, align, strict=True))
        return COLUMN_GAP.join(padded).rstrip()

    rule = COLUMN_GAP.join("-" * width for width in widths)
    return "\n".join([line(table.headers), rule, *(line(row) for row in table.rows)])


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible.

    Lines are never split unless one line alone is longer than the limit, so a table row
    stays whole in one piece.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    current: list[str] = []
    current_size = 0
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append("\n".join(current))
                current, current_size = [], 0
            pieces.append(line[:limit])
            line = line[limit:]
        added = len(line) + (1 if current else 0)
        if current and current_size + added > limit:
            pieces.append("\n".join(current))
            current, current_size = [line], len(line)
        else:
            current.append(line)
            current_size += added
    if current:
        pieces.append("\n".join(current))
    return pieces
