"""Reading a monospace table back as a reader sees it: where each cell sits, in screen columns.

Independent of bot/render.py: widths come from wcwidth (a Chinese character takes two columns),
and a table is aligned when every cell of a left-aligned column starts at the same column,
every cell of a right-aligned one ends at the same column, neighbouring columns stay at least
two columns apart, and the dashes under the header cover every cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from wcwidth import wcswidth

from handlers.model import Table

GAP = 2


def columns(text: str) -> int:
    """Screen columns `text` takes in a terminal."""
    width = wcswidth(text)
    assert width >= 0, f"{text!r} has no defined width"
    return width


@dataclass(frozen=True, slots=True)
class Span:
    """Screen columns [start, end) a cell takes, its own leading/trailing spaces included."""

    start: int
    end: int


def cell_spans(line: str, cells: Sequence[str]) -> list[Span | None]:
    """Where each cell sits in `line`, left to right; None for a blank cell (it has no place).

    Fails when a cell is missing, out of order, or anything but spaces lies between cells.
    Between two cells a well-formed line has only spaces, so the first match of a cell's
    visible text after the previous cell is that cell's own place.
    """
    spans: list[Span | None] = []
    cursor = 0
    for cell in cells:
        visible = cell.strip()
        if not visible:
            spans.append(None)
            continue
        found = line.find(visible, cursor)
        assert found >= 0, f"{visible!r} is not in {line[cursor:]!r}"
        assert line[cursor:found].strip() == "", f"{line[cursor:found]!r} before {visible!r}"
        leading = columns(cell[: len(cell) - len(cell.lstrip())])
        trailing = columns(cell[len(cell.rstrip()) :])
        cursor = found + len(visible)
        spans.append(Span(columns(line[:found]) - leading, columns(line[:cursor]) + trailing))
    assert line[cursor:].strip() == "", f"{line[cursor:]!r} after the last cell"
    return spans


def check_aligned(block: str, table: Table) -> None:
    """Fail unless `block` shows `table` as a header, a rule of dashes and the rows, aligned."""
    lines = block.split("\n")
    assert len(lines) == len(table.rows) + 2, block
    header, rule, *body = lines
    assert set(rule) <= {"-", " "}, f"the rule {rule!r} is not dashes"
    spans = [
        cell_spans(line, cells)
        for line, cells in zip([header, *body], [table.headers, *table.rows], strict=True)
    ]
    align = table.align or ("l",) * len(table.headers)
    placed: list[list[Span]] = []
    for index, side in enumerate(align):
        column = [span for row in spans if (span := row[index]) is not None]
        edges = {span.start if side == "l" else span.end for span in column}
        assert len(edges) <= 1, f"column {index} ({side}) is ragged: {sorted(edges)}\n{block}"
        for span in column:
            assert rule[span.start : span.end] == "-" * (span.end - span.start), (
                f"the rule does not cover column {index}\n{block}"
            )
        placed.append(column)
    filled = [column for column in placed if column]
    for left, right in itertools.pairwise(filled):
        assert max(s.end for s in left) + GAP <= min(s.start for s in right), (
            f"columns closer than {GAP}\n{block}"
        )
