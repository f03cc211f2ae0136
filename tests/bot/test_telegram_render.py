"""Telegram HTML rendering: escaped, valid, under the limit, and nothing lost, for any reply."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st
from wcwidth import wcwidth

from bot.delivery import for_press
from bot.telegram.render import render_html, toast
from handlers.model import Part, Reply, Table
from tests.fakes.telegram_api import parse_html, utf16_length
from tests.monospace import check_aligned

chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
words = st.text(alphabet=st.one_of(chars, st.sampled_from("<>&\"' 中😀")), max_size=25)
paragraphs = st.lists(words, min_size=1, max_size=4).map("\n".join)
# Table cells show something (a character that takes a column, not only zero-width joiners
# or spaces), so that no table line is blank, each table's lines can be told apart from the
# blank lines between parts, and a cell's place in its column can be seen. A space takes a
# column too, so it is excluded by name: a header of spaces is a blank line, which Telegram
# trims from a message's edges (see the blank-line test below).
cells = words.filter(lambda word: any(wcwidth(char) > 0 and not char.isspace() for char in word))
tables = st.integers(1, 3).flatmap(
    lambda width: st.builds(
        Table,
        st.lists(cells, min_size=width, max_size=width).map(tuple),
        st.lists(st.lists(cells, min_size=width, max_size=width).map(tuple), max_size=6).map(tuple),
    )
)
replies = st.builds(
    Reply,
    title=words,
    parts=st.lists(st.one_of(paragraphs, tables), max_size=6).map(tuple),
)


def check_shown(shown: list[str], reply: Reply) -> None:
    """The shown lines are the title's, then each part's: a paragraph's lines as written, a
    table as a header, a rule and its rows, aligned (read back by tests.monospace)."""
    expected_title = [line for line in reply.title.split("\n") if line]
    assert shown[: len(expected_title)] == expected_title
    rest = shown[len(expected_title) :]
    for part in reply.parts:
        if isinstance(part, Table):
            size = len(part.rows) + 2
            check_aligned("\n".join(rest[:size]), part)
        else:
            lines = [line for line in part.split("\n") if line]
            size = len(lines)
            assert rest[:size] == lines
        rest = rest[size:]
    assert rest == []


def pre_blocks(pieces: tuple[str, ...]) -> list[str]:
    """The plain lines inside every <pre> of every piece, in order."""
    return [
        row
        for piece in pieces
        for block in piece.split("<pre>")[1:]
        for row in parse_html(block.split("</pre>")[0]).split("\n")
        if row
    ]


# 420 fits the longest line the strategies make (three 25-character cells, all "&") escaped.
@given(replies, st.integers(min_value=420, max_value=1000))
@settings(max_examples=150, deadline=None)
def test_every_piece_is_valid_html_under_the_limit_and_no_line_is_lost(
    reply: Reply, limit: int
) -> None:
    pieces = render_html(reply, limit)

    assert all(utf16_length(piece) <= limit for piece in pieces)
    shown = [line for piece in pieces for line in parse_html(piece).split("\n") if line]
    check_shown(shown, reply)


@given(st.lists(tables, min_size=1, max_size=3), st.integers(min_value=0, max_value=150))
@settings(max_examples=100, deadline=None)
def test_table_rows_stay_whole_inside_pre_in_every_piece(tables: list[Table], slack: int) -> None:
    parts: tuple[Part, ...] = tuple(tables)
    # The limit only has to be just above the longest row: taken from an unsplit rendering.
    unsplit = pre_blocks(render_html(Reply(parts=parts), 1_000_000))
    longest = max(utf16_length(html.escape(row, quote=False)) for row in unsplit)

    pieces = render_html(Reply(parts=parts), longest + len("<pre></pre>") + slack)

    inside_pre = pre_blocks(pieces)
    for table in tables:
        size = len(table.rows) + 2
        check_aligned("\n".join(inside_pre[:size]), table)
        inside_pre = inside_pre[size:]
    assert inside_pre == []


def test_a_table_is_sent_as_one_pre_block_padded_by_screen_columns() -> None:
    table = Table(("名称", "收盘"), (("英伟达", "118.42"), ("NVDA", "142.62")), ("l", "r"))

    (piece,) = render_html(Reply(title="NVDA", parts=("Closes:", table)))

    # 英伟达 takes six columns, so NVDA gets four spaces of padding and 名称 two.
    assert piece == (
        "<b>NVDA</b>\n"
        "\n"
        "Closes:\n"
        "\n"
        "<pre>名称      收盘\n"
        "------  ------\n"
        "英伟达  118.42\n"
        "NVDA    142.62</pre>"
    )


def test_a_blank_table_line_is_kept_inside_a_piece_but_never_starts_or_ends_one() -> None:
    # A header of spaces is a blank line. Telegram drops blank lines at a message's edges and
    # refuses a message that is only blank ("message text is empty"), so such a line at a
    # piece's edge is left out, where sending it would show nothing or fail.
    blank_header = Table((" ",), ())

    inside = render_html(Reply(parts=("x", blank_header)))
    tight = render_html(Reply(parts=(blank_header, Table(("0",), ()))), 12)

    assert inside == ("x\n\n<pre>\n-</pre>",)
    assert tight == ("<pre>-</pre>", "<pre>0</pre>", "<pre>-</pre>")


def test_a_line_longer_than_the_limit_is_cut_between_characters_not_inside_an_entity() -> None:
    reply = Reply(parts=("<&>" * 50,))

    pieces = render_html(reply, 40)

    assert all(len(piece) <= 40 for piece in pieces)
    assert "".join(parse_html(piece) for piece in pieces) == "<&>" * 50


def test_emoji_count_twice_against_the_limit() -> None:
    pieces = render_html(Reply(parts=("😀" * 30,)), 40)

    assert [utf16_length(piece) for piece in pieces] == [40, 20]


def test_a_long_toast_is_cut_to_telegrams_two_hundred_characters() -> None:
    shown = toast(for_press(Reply(notice="投票" * 150)).notice)

    assert utf16_length(shown) <= 200
    assert shown.endswith("…")
    assert toast(for_press(Reply(parts=("saved",))).notice) == ""
    assert toast(for_press(Reply(parts=("only for you",), ephemeral=True)).notice) == "only for you"
