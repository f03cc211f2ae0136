"""Redrawing a Telegram message that shows a poll: a chat's message or an inline message."""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.delivery import LastShown
from bot.frontend import ChatUnreachable
from bot.telegram.render import TEXT_LIMIT, keyboard, render_html
from handlers.model import Reply
from storage.poll_copies import PollCopy

log = logging.getLogger(__name__)

# Bot API answers meaning the message (or the bot's place in its chat) is gone for good.
GONE = (
    "message to edit not found",
    "message_id_invalid",
    "chat not found",
    "bot was kicked",
    "not enough rights",
    "chat was deactivated",
    "have no rights to send",
)


def shown_key(copy: PollCopy) -> Hashable:
    """The LastShown key: the front end's own for chat messages, so both agree."""
    if copy.inline:
        return ("inline", copy.message_id)
    return (int(copy.chat_id), int(copy.message_id))


async def edit_copy(bot: Bot, shown: LastShown, copy: PollCopy, reply: Reply) -> None:
    """Replace the copy's text and buttons; ChatUnreachable when it cannot be shown again."""
    pieces = render_html(reply, TEXT_LIMIT)
    if not pieces:
        return
    markup = keyboard(reply)
    try:
        key = shown_key(copy)
    except ValueError as error:
        raise ChatUnreachable(f"not a Telegram message: {copy.key!r}") from error
    if not shown.changes(key, pieces[0] + json.dumps(markup.to_dict() if markup else None)):
        return
    where = (
        {"inline_message_id": copy.message_id}
        if copy.inline
        else {"chat_id": int(copy.chat_id), "message_id": int(copy.message_id)}
    )
    try:
        await bot.edit_message_text(
            pieces[0],
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            **where,
        )
    except BadRequest as error:
        reason = str(error).lower()
        if "not modified" in reason:
            return
        shown.forget(key)
        if any(gone in reason for gone in GONE):
            raise ChatUnreachable(str(error)) from error
        log.warning("Telegram: could not redraw a copy of poll %s: %s", copy.poll_id, error)
    except Forbidden as error:
        shown.forget(key)
        raise ChatUnreachable(str(error)) from error
    except TelegramError:
        shown.forget(key)
        raise
