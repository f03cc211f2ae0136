"""Replies for one group member alone (voters' names), sent to their private chat with the bot."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram.error import Forbidden

from bot.dispatch import resolve_context
from handlers.i18n import text
from handlers.model import Reply, Request, Services

log = logging.getLogger(__name__)

Post = Callable[[int, Reply, int | None], Awaitable[object]]


async def send_privately(
    post: Post, reply: Reply, request: Request, services: Services, *, command: int, bot: str
) -> None:
    """Send `reply` to the requester's private chat with the bot. Telegram refuses (403)
    until they have started one (or after they blocked the bot): then a short line answers
    their command message, `command`, in the group, saying how to get it. The reply itself
    is never posted in the group."""
    try:
        await post(int(request.user_id), reply, None)
    except Forbidden as error:
        log.info(
            "Telegram: a private answer asked for in chat %s was refused: %s",
            request.chat_id,
            error,
        )
        lang = (await resolve_context(request, services)).lang
        line = text(lang, "telegram.start_private_chat", bot=bot)
        await post(int(request.chat_id), Reply(parts=(line,), is_error=True), command)
