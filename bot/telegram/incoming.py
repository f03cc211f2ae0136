"""Who and where a Telegram update comes from, as dsbot's Request and chat kind."""

from __future__ import annotations

import logging
from typing import Any

from telegram import CallbackQuery, Chat, User
from telegram.constants import ChatType
from telegram.error import TelegramError

from handlers.model import ChatKind, Request

log = logging.getLogger(__name__)


def request_from(user: User, chat_id: int, kind: ChatKind, **fields: Any) -> Request:
    """A Request from `user` in the chat, with the command's or the press's own fields."""
    return Request(
        platform="telegram",
        user_id=str(user.id),
        chat_id=str(chat_id),
        chat_kind=kind,
        locale=user.language_code or "",
        user_name=user.full_name,
        **fields,
    )


def chat_kind(chat: Chat) -> ChatKind | None:
    if chat.type == ChatType.PRIVATE:
        return "private"
    if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        return "group"
    return None  # channels are not served


async def answer_quietly(query: CallbackQuery) -> None:
    """Answer a press nothing else answered, so the client stops its spinner; a failure is
    only logged (the press's effect, if any, is already committed)."""
    try:
        await query.answer()
    except TelegramError as error:
        log.warning("Telegram: could not answer a callback query: %s", error)
