"""Telegram's HTML parse mode as the fake Bot API applies it: the text a user sees and its entities.

The rules are the Bot API's "Formatting options" / "HTML style" section
(core.telegram.org/bots/api#html-style); where the docs are silent, what Telegram's own parser
(tdlib's parse_html) does, which is what the Bot API server runs:
- only the listed tags; tag and attribute names are case-insensitive; every `<`, `>` and `&`
  that is not part of a tag or an entity is refused; the named entities are only &lt; &gt;
  &amp; &quot;, numeric ones are all accepted;
- `<span>` is a spoiler only with class="tg-spoiler", any other span is refused ("Tag "span"
  must have class "tg-spoiler"");
- `<tg-emoji>` needs a positive integer emoji-id ("Invalid custom emoji identifier specified");
- `<a>` links to its href; without one, to its own text when that is a link, and is no link
  otherwise (tdlib falls back to the text; Telegram does not refuse it);
- `<code class="language-x">` gives its language to an enclosing `<pre>`; "Programming
  language can't be specified for standalone code tags", so outside `<pre>` it is ignored;
- any other attribute is ignored (tdlib reads only href, class, emoji-id and expandable).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Telegram's HTML parse mode accepts these tags and no others.
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
    | {"code", "pre", "blockquote", "tg-emoji"}
)
# The entity each tag makes; tags that are synonyms make the same entity.
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_BAD_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")
_LINK = re.compile(r"^(?:https?://|tg://)?[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?$|^tg://\S+$")


class BadEntities(ValueError):
    """The text is not valid Telegram HTML."""


@dataclass(frozen=True, slots=True)
class Entity:
    """A MessageEntity: offset and length in UTF-16 code units, as Telegram counts them."""

    type: str
    offset: int
    length: int
    argument: str = ""  # a text_link's url, a pre's language, a custom emoji's id

    def json(self) -> dict[str, object]:
        body: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.type == "text_link":
            body["url"] = self.argument
        elif self.type == "pre" and self.argument:
            body["language"] = self.argument
        elif self.type == "custom_emoji":
            body["custom_emoji_id"] = self.argument
        return body


def utf16_length(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    start: int
    argument: str
    chars: int  # where it starts in the plain text, in code points
    language: str = ""  # a <code class="language-x"> directly inside a <pre>


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[_Open] = []
        self.plain: list[str] = []
        self.units = 0
        self.chars = 0
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise BadEntities(f'Unsupported start tag "{tag}"')
        values = {name: value or "" for name, value in attrs}
        argument = ""
        if tag == "span" and values.get("class") != "tg-spoiler":
            raise BadEntities('Tag "span" must have class "tg-spoiler"')
        if tag == "tg-emoji":
            argument = values.get("emoji-id", "")
            if not argument.isdigit() or int(argument) == 0:
                raise BadEntities("Invalid custom emoji identifier specified")
        if tag == "a":
            argument = values.get("href", "")
        language = values.get("class", "")
        inside_pre = bool(self.open) and self.open[-1].tag == "pre"
        if tag == "code" and language.startswith("language-") and inside_pre:
            self.open[-1].language = language.removeprefix("language-")
        if tag == "blockquote" and "expandable" in values:
            argument = "expandable"
        self.open.append(_Open(tag, self.units, argument, self.chars))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1].tag != tag:
            raise BadEntities(f'Unmatched end tag "{tag}"')
        opened = self.open.pop()
        length = self.units - opened.start
        if length == 0:
            return  # Telegram drops empty entities
        kind, argument = _ENTITY_TYPES[tag], opened.argument
        if tag == "a" and not argument:
            inner = "".join(self.plain)[opened.chars :]
            if not _LINK.match(inner):
                return
            argument = inner
        if tag == "pre":
            argument = opened.language
        if tag == "blockquote" and argument:
            kind, argument = "expandable_blockquote", ""
        self.entities.append(Entity(kind, opened.start, length, argument))

    def handle_data(self, data: str) -> None:
        self.plain.append(data)
        self.units += utf16_length(data)
        self.chars += len(data)


def parse_entities(text: str) -> tuple[str, tuple[Entity, ...]]:
    """The plain text and entities Telegram makes of `text`; BadEntities if it refuses it."""
    if _BAD_AMPERSAND.search(text):
        raise BadEntities("Unsupported entity: a bare & must be written &amp;")
    if re.search(r"<(?![a-zA-Z/])", text):
        raise BadEntities("Unsupported start tag: a bare < must be written &lt;")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise BadEntities(f'Can\'t find end tag corresponding to start tag "{parser.open[-1].tag}"')
    return "".join(parser.plain), _normalized(parser.entities)


def parse_html(text: str) -> str:
    """The text a user sees, as Telegram's HTML parse mode would produce it; BadEntities if not."""
    return parse_entities(text)[0]


def _normalized(entities: list[Entity]) -> tuple[Entity, ...]:
    """Sorted, with touching entities of one kind merged: `<b>a</b><b>b</b>` is `<b>ab</b>`."""
    merged: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (e.type, e.argument, e.offset)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and (last.type, last.argument) == (entity.type, entity.argument)
            and entity.offset <= last.offset + last.length
        ):
            end = max(last.offset + last.length, entity.offset + entity.length)
            merged[-1] = Entity(last.type, last.offset, end - last.offset, last.argument)
        else:
            merged.append(entity)
    return tuple(sorted(merged, key=lambda e: (e.offset, -e.length, e.type)))
