"""Monospace tables that stay aligned with Chinese text, and splitting under a size limit."""

from __future__ import annotations

from bot.render import display_width, format_table, split_text
from handlers.model import Table


def test_chinese_cells_are_padded_by_display_width() -> None:
    table = Table(("名称", "Change"), (("英伟达", "-16.97%"), ("NVDA", "-1%")), ("l", "r"))

    lines = format_table(table).split("\n")

    change_column_ends = {display_width(line) for line in lines}
    assert len(change_column_ends) == 1
    assert lines[2] == "英伟达  -16.97%"
    assert lines[3] == "NVDA        -1%"


def test_control_characters_do_not_break_the_width() -> None:
    assert display_width("a\x07b") == 3


def test_split_keeps_lines_whole_under_the_limit() -> None:
    text = "\n".join(f"row {number:03d} " + "x" * 20 for number in range(100))

    pieces = split_text(text, 100)

    assert all(len(piece) <= 100 for piece in pieces)
    assert "\n".join(pieces) == text
    assert all(line.startswith("row ") for piece in pieces for line in piece.split("\n"))


def test_a_single_overlong_line_is_cut() -> None:
    pieces = split_text("y" * 250, 100)

    assert [len(piece) for piece in pieces] == [100, 100, 50]
