"""Who moderates a Telegram group: its creator and administrators, asked of Telegram and
remembered for a minute, since getChatMember is most of what a moderator's command costs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
_MAX_REMEMBERED = 10_000


class Moderators:
    """The administrators of the groups the bot was asked about, each answer kept a while."""

    def __init__(
        self, bot: Callable[[], Bot], remember_for: float, clock: Callable[[], float]
    ) -> None:
        self._bot = bot
        self.remember_for = remember_for
        self.clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether the user administers the group; False (logged) when Telegram cannot say."""
        key, now = (chat_id, user_id), self.clock()
        known = self._known.get(key)
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await self._bot().get_chat_member(chat_id, user_id)
        except TelegramError as error:
            log.warning("Telegram: cannot check the rights of a member of %s: %s", chat_id, error)
            return False
        is_admin = member.status in _ADMIN_STATUSES
        if len(self._known) > _MAX_REMEMBERED:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        self._known[key] = (is_admin, now + self.remember_for)
        return is_admin
