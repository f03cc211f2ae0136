"""Per-user and per-chat cooldowns, so that one member cannot flood the bot or a chat.

They are middleware in front of dispatch (`guarded`), so handlers never see them, and the
bot's own requests (a tally refresh after a vote) pass without being charged to anyone.

Each key gets a leaky bucket (aiolimiter's rule, without its waiting: a request over the
limit is refused, never held): a burst of `max_rate` requests, then capacity drips back at
max_rate / period per second, by the event loop's clock. Button presses count for the user
but not the chat, since a popular poll rightly gets many presses at once. A refused member
is told so once per period; telling them again for every further message would itself
flood a group.
"""

from __future__ import annotations

import asyncio
import enum
from collections import OrderedDict
from dataclasses import dataclass

from bot.dispatch import Dispatch, chat_context, dispatch
from handlers.i18n import text
from handlers.model import Reply, Request, Services


@dataclass(frozen=True, slots=True)
class Rate:
    max_rate: int
    period: float


class Verdict(enum.Enum):
    ADMIT = "admit"
    REFUSE = "refuse"  # over the limit: say so
    REFUSE_AGAIN = "refuse_again"  # over the limit and already told within the period


@dataclass(slots=True)
class _Bucket:
    level: float = 0.0  # requests not yet dripped out
    checked: float = 0.0  # when `level` was last worked out
    told_at: float | None = None

    def take(self, rate: Rate, now: float) -> bool:
        """Take one request's room if there is room for it now; whether there was."""
        if not self.has_room(rate, now):
            return False
        self.level += 1
        return True

    def has_room(self, rate: Rate, now: float) -> bool:
        if self.level:
            self.level = max(self.level - (now - self.checked) * rate.max_rate / rate.period, 0)
        self.checked = now
        return self.level + 1 <= rate.max_rate


class Cooldowns:
    def __init__(
        self,
        per_user: Rate = Rate(10, 10.0),
        per_chat: Rate = Rate(30, 10.0),
        max_keys: int = 10_000,
    ) -> None:
        self.per_user = per_user
        self.per_chat = per_chat
        self.max_keys = max_keys
        # Least recently used first; the oldest is forgotten past max_keys, which at worst
        # gives a long-idle user a fresh bucket.
        self._buckets: OrderedDict[tuple[str, str, str], _Bucket] = OrderedDict()

    def _bucket(self, key: tuple[str, str, str], rate: Rate) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    def admit(self, request: Request) -> Verdict:
        """Take one unit from the user's (and, for commands, the chat's) bucket, if both have it."""
        now = asyncio.get_running_loop().time()
        user = self._bucket(("user", request.platform, request.user_id), self.per_user)
        chat = None
        if request.action is None:
            chat = self._bucket(("chat", request.platform, request.chat_id), self.per_chat)
        if user.has_room(self.per_user, now) and (chat is None or chat.take(self.per_chat, now)):
            user.take(self.per_user, now)
            return Verdict.ADMIT
        if user.told_at is not None and now - user.told_at < self.per_user.period:
            return Verdict.REFUSE_AGAIN
        user.told_at = now
        return Verdict.REFUSE


def guarded(cooldowns: Cooldowns | None = None, inner: Dispatch = dispatch) -> Dispatch:
    """`inner` behind the cooldowns (the production ones unless given): a member over their
    limit is told to slow down, in the chat's language."""
    cooldowns = cooldowns or Cooldowns()

    async def admitted(request: Request, services: Services) -> Reply:
        if request.internal:
            return await inner(request, services)
        verdict = cooldowns.admit(request)
        if verdict is Verdict.ADMIT:
            # Dispatch reads the chat's settings: once per request, admitted or not.
            return await inner(request, services)
        lang, _ = await chat_context(request, services)
        return Reply(
            parts=(text(lang, "core.slow_down"),),
            ephemeral=True,
            is_error=True,
            droppable=verdict is Verdict.REFUSE_AGAIN,
            error_key="core.slow_down",
        )

    return admitted
