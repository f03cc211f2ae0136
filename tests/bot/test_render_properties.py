"""Properties of the table formatter and the message splitter, over generated input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import display_width, format_table, split_text
from handlers.model import Table

# Marks are left out: terminals disagree on the width of a mark with no base character, so
# no width function can promise alignment for them.
cells = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Mn", "Mc", "Me"), blacklist_characters="\n"
    ),
    max_size=12,
)


@given(st.text(max_size=3000), st.integers(min_value=1, max_value=500))
@settings(max_examples=300, deadline=None)
def test_split_pieces_respect_the_limit_and_lose_nothing(text: str, limit: int) -> None:
    pieces = split_text(text, limit)

    assert all(len(piece) <= limit for piece in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


@given(
    st.lists(st.text(alphabet="ab中 ", max_size=30), min_size=1, max_size=60), st.integers(30, 200)
)
@settings(max_examples=200, deadline=None)
def test_split_never_cuts_a_line_that_fits(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)

    pieces = split_text(text, limit)

    assert "\n".join(pieces) == text
    kept = [line for piece in pieces for line in piece.split("\n")]
    assert kept == lines


@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda width: st.tuples(
            st.lists(cells, min_size=width, max_size=width),
            st.lists(st.lists(cells, min_size=width, max_size=width), max_size=8),
        )
    )
)
@settings(max_examples=200, deadline=None)
def test_every_table_line_starts_each_column_at_the_same_place(
    shape: tuple[list[str], list[list[str]]],
) -> None:
    headers, rows = shape
    table = Table(tuple(headers), tuple(tuple(row) for row in rows))

    lines = format_table(table).split("\n")

    assert len(lines) == len(rows) + 2
    widths = {display_width(line.rstrip()) for line in lines[2:] + lines[:1]}
    assert max(widths, default=0) <= display_width(lines[1])
