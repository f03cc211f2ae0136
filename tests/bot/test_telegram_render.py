"""Telegram HTML rendering: escaped, valid, under the limit, and nothing lost, for any reply."""

from __future__ import annotations

import html

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import format_table
from bot.telegram_frontend import render_html, toast
from handlers.model import Part, Reply, Table
from tests.fakes.telegram_api import parse_html, utf16_length

chars = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
words = st.text(alphabet=st.one_of(chars, st.sampled_from("<>&\"' 中😀")), max_size=25)
paragraphs = st.lists(words, min_size=1, max_size=4).map("\n".join)
tables = st.integers(1, 3).flatmap(
    lambda width: st.builds(
        Table,
        st.lists(words, min_size=width, max_size=width).map(tuple),
        st.lists(st.lists(words, min_size=width, max_size=width).map(tuple), max_size=6).map(tuple),
    )
)
replies = st.builds(
    Reply,
    title=words,
    parts=st.lists(st.one_of(paragraphs, tables), max_size=6).map(tuple),
)


def visible_lines(reply: Reply) -> list[str]:
    lines = [line for line in reply.title.split("\n") if line]
    for part in reply.parts:
        lines += (format_table(part) if isinstance(part, Table) else part).split("\n")
    return [line for line in lines if line]


# 420 fits the longest line the strategies make (three 25-character cells, all "&") escaped.
@given(replies, st.integers(min_value=420, max_value=1000))
@settings(max_examples=150, deadline=None)
def test_every_piece_is_valid_html_under_the_limit_and_no_line_is_lost(
    reply: Reply, limit: int
) -> None:
    pieces = render_html(reply, limit)

    assert all(utf16_length(piece) <= limit for piece in pieces)
    shown = [line for piece in pieces for line in parse_html(piece).split("\n") if line]
    assert shown == visible_lines(reply)


@given(st.lists(tables, min_size=1, max_size=3), st.integers(min_value=0, max_value=150))
@settings(max_examples=100, deadline=None)
def test_table_rows_stay_whole_inside_pre_in_every_piece(tables: list[Table], slack: int) -> None:
    rows = [row for t in tables for row in format_table(t).split("\n") if row]
    longest = max((utf16_length(html.escape(row, quote=False)) for row in rows), default=1)
    parts: tuple[Part, ...] = tuple(tables)

    pieces = render_html(Reply(parts=parts), longest + len("<pre></pre>") + slack)

    inside_pre = [
        row
        for piece in pieces
        for block in piece.split("<pre>")[1:]
        for row in parse_html(block.split("</pre>")[0]).split("\n")
        if row
    ]
    assert inside_pre == rows


def test_a_line_longer_than_the_limit_is_cut_between_characters_not_inside_an_entity() -> None:
    reply = Reply(parts=("<&>" * 50,))

    pieces = render_html(reply, 40)

    assert all(len(piece) <= 40 for piece in pieces)
    assert "".join(parse_html(piece) for piece in pieces) == "<&>" * 50


def test_emoji_count_twice_against_the_limit() -> None:
    pieces = render_html(Reply(parts=("😀" * 30,)), 40)

    assert [utf16_length(piece) for piece in pieces] == [40, 20]


def test_a_long_toast_is_cut_to_telegrams_two_hundred_characters() -> None:
    shown = toast(Reply(notice="投票" * 150))

    assert utf16_length(shown) <= 200
    assert shown.endswith("…")
    assert toast(Reply(parts=("saved",))) == ""
    assert toast(Reply(parts=("only for you",), ephemeral=True)) == "only for you"
