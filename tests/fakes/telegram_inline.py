"""The Bot API's rules for inline mode, as the fake Bot API enforces them.

From core.telegram.org/bots/api#answerinlinequery and the result types it takes: at most 50
results; each result id 1-64 bytes and unique in the answer; an article needs a title and an
input_message_content; a text message is 1-4096 characters after entity parsing; callback
data of its buttons 1-64 bytes; cache_time a whole number of seconds, not negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_html import BadEntities, Entity, parse_entities, utf16_length

Json = dict[str, Any]

MAX_RESULTS = 50
MAX_RESULT_ID_BYTES = 64
TEXT_LIMIT = 4096
MAX_CALLBACK_DATA_BYTES = 64


class InlineRuleBroken(Exception):
    """What Telegram would answer with a 400."""


@dataclass
class InlineMessage:
    """A message a user sent through the bot's inline mode, in a chat the bot cannot see."""

    inline_message_id: str
    html: str
    plain: str
    reply_markup: Json | None
    entities: tuple[Entity, ...] = ()
    edits: int = 0
    history: list[str] = field(default_factory=list)

    def buttons(self) -> list[tuple[str, str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(button["text"], button["callback_data"]) for row in rows for button in row]


def visible_text(raw: str, parse_mode: str | None) -> tuple[str, tuple[Entity, ...]]:
    """The text a user sees and its entities; InlineRuleBroken when it cannot be sent."""
    if parse_mode == "HTML":
        try:
            plain, entities = parse_entities(raw)
        except BadEntities as error:
            raise InlineRuleBroken(f"Bad Request: can't parse entities: {error}") from error
    else:
        plain, entities = raw, ()
    if not plain.strip():
        raise InlineRuleBroken("Bad Request: MESSAGE_EMPTY")
    if utf16_length(plain) > TEXT_LIMIT:
        raise InlineRuleBroken("Bad Request: MESSAGE_TOO_LONG")
    return plain, entities


def check_markup(markup: Json | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise InlineRuleBroken("Bad Request: BUTTON_DATA_INVALID")


def check_answer(params: Json) -> list[Json]:
    """The results of an answerInlineQuery call, checked; InlineRuleBroken when refused."""
    results = params.get("results")
    if not isinstance(results, list):
        raise InlineRuleBroken("Bad Request: RESULTS_INVALID")
    if len(results) > MAX_RESULTS:
        raise InlineRuleBroken("Bad Request: RESULTS_TOO_MUCH")
    cache_time = params.get("cache_time", 300)
    if not isinstance(cache_time, int) or cache_time < 0:
        raise InlineRuleBroken("Bad Request: CACHE_TIME_INVALID")
    seen: set[str] = set()
    for result in results:
        result_id = str(result.get("id", ""))
        if not 1 <= len(result_id.encode()) <= MAX_RESULT_ID_BYTES:
            raise InlineRuleBroken("Bad Request: RESULT_ID_INVALID")
        if result_id in seen:
            raise InlineRuleBroken("Bad Request: RESULT_ID_DUPLICATE")
        seen.add(result_id)
        if result.get("type") != "article":
            raise InlineRuleBroken("Bad Request: RESULT_TYPE_INVALID")
        if not str(result.get("title", "")).strip():
            raise InlineRuleBroken("Bad Request: RESULT_TITLE_EMPTY")
        content = result.get("input_message_content")
        if not isinstance(content, dict) or "message_text" not in content:
            raise InlineRuleBroken("Bad Request: SEND_MESSAGE_MEDIA_INVALID")
        visible_text(str(content["message_text"]), content.get("parse_mode"))
        check_markup(result.get("reply_markup"))
    return results
