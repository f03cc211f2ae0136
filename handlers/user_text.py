"""Text as members type it, made safe to read, compare and quote back: the one place for it.

Phones and Chinese keyboards send full-width letters, invisible format characters pasted
along with a word, and control characters; every parser and every quoted value goes
through these few functions, so "ＮＶ\u200bDA" reads as NVDA everywhere alike.
"""

from __future__ import annotations

import re
import unicodedata

from wcwidth import wcswidth

ZERO_WIDTH_JOINER = "\u200d"
_SPACES = re.compile(r"\s+")
# Unicode's Cc category is fixed at these 65 code points; line breaks and tabs are kept.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The same controls less the white space among them, which one_line turns into spaces.
_UNSPACED_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def _kept(char: str, *, joiner: bool) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return joiner and char == ZERO_WIDTH_JOINER
    return category != "Cc" or char in "\n\t"


def without_invisible(value: str, *, keep_joiner: bool = True) -> str:
    """Drop format characters (zero-width spaces, direction overrides) and controls.

    They make "NVDA" look right and fail to match, flip how a reply reads, or colour a
    terminal. The zero-width joiner is kept unless asked, because emoji sequences need it;
    line breaks and tabs stay.
    """
    if value.isprintable():
        return value  # no format or control character: the common case, left as it is
    return "".join(char for char in value if _kept(char, joiner=keep_joiner))


def normalised(value: str) -> str:
    """For reading a number, a symbol or a word: full width folded, nothing invisible left."""
    if value.isascii() and value.isprintable():
        return value  # NFKC leaves printable ASCII as it is
    return without_invisible(unicodedata.normalize("NFKC", value), keep_joiner=False)


def folded(value: str) -> str:
    """What two words or labels are compared by: width, case, invisible marks and spacing
    ignored ("ＶＯＴＥ" is "vote")."""
    return _SPACES.sub(" ", normalised(value).casefold()).strip()


def one_line(value: str) -> str:
    """One line of plain text: controls dropped, white space runs made one space.

    Markup, mentions and emoji are kept as typed; front ends escape what they show.
    """
    return _SPACES.sub(" ", _UNSPACED_CONTROLS.sub("", value)).strip()


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def columns(value: str) -> int:
    """Monospace columns `value` takes: a Chinese character two, a combining mark none."""
    width = wcswidth(value)
    return width if width >= 0 else len(value)


def fit(value: str, limit: int) -> str:
    """`value` cut to at most `limit` monospace columns, an ellipsis marking the cut.

    Phones show about 36 columns of a code block; a cell measured in characters would let
    a Chinese label take twice the room it was given.
    """
    if columns(value) <= limit:
        return value
    kept = value
    while kept and columns(kept) > limit - 1:
        kept = kept[:-1]
    return kept.rstrip() + "…"


def quoted(value: str, limit: int = 40) -> str:
    """A typed value to quote back in a reply: nothing invisible, on one line, short."""
    return shorten(one_line(without_invisible(value, keep_joiner=False)), limit)


def without_controls(value: str) -> str:
    """Controls other than line breaks and tabs dropped: an echoed "\\x1b[31m" would colour
    a terminal, and a NUL or a bell has no business in a chat message either."""
    return _CONTROLS.sub("", value)
