"""Who and where a Telegram update comes from, as dsbot's Request and chat kind."""

from __future__ import annotations

from typing import Any

from telegram import Chat, User
from telegram.constants import ChatType

from handlers.model import ChatKind, Request


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
