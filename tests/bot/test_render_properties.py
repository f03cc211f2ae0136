"""Properties of the table formatter and the message splitter, over generated input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import format_table, split_text
from handlers.model import Table
from tests.monospace import check_aligned

# Marks are left out: terminals disagree on the width of a mark with no base character, so
# no width function can promise alignment for them.
cells = st.text(
    alphabet=st.one_of(
        st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Mn", "Mc", "Me"),
            blacklist_characters="\n",
        ),
        st.sampled_from("英伟达 -%."),
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
        lambda width: st.builds(
            Table,
            st.lists(cells, min_size=width, max_size=width).map(tuple),
            st.lists(st.lists(cells, min_size=width, max_size=width).map(tuple), max_size=8).map(
                tuple
            ),
            st.lists(st.sampled_from("lr"), min_size=width, max_size=width).map(tuple),
        )
    )
)
@settings(max_examples=300, deadline=None)
def test_every_cell_of_a_column_starts_or_ends_at_the_same_screen_column(table: Table) -> None:
    block = format_table(table)

    # Left-aligned cells share their first column, right-aligned their last, counted with
    # wcwidth (a Chinese character takes two); the rule of dashes underlines every column.
    check_aligned(block, table)
