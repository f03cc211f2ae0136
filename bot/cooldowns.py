"""Per-user and per-chat cooldowns, so that one member cannot flood the bot or a chat.

They are middleware in front of dispatch (`guarded`), so handlers never see them, and the
bot's own requests (a tally refresh after a vote) pass without being charged to anyone.

Each key gets an aiolimiter leaky bucket: a burst of `max_rate` requests, then capacity
drips back at max_rate / period per second. Button presses count for the user but not the
chat, since a popular poll rightly gets many presses at once. A refused member is told so
once per period; telling them again for every further message would itself flood a group.
"""

from __future__ import annotations

import asyncio
import enum
from collections import OrderedDict
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot.dispatch import Dispatch, dispatch, resolve_context
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
    limiter: AsyncLimiter
    told_at: float | None = None


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
            bucket = self._buckets[key] = _Bucket(AsyncLimiter(rate.max_rate, rate.period))
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket

    async def admit(self, request: Request) -> Verdict:
        """Take one unit from the user's (and, for commands, the chat's) bucket, if both have it."""
        user = self._bucket(("user", request.platform, request.user_id), self.per_user)
        chat = None
        if request.action is None:
            chat = self._bucket(("chat", request.platform, request.chat_id), self.per_chat)
        if user.limiter.has_capacity() and (chat is None or chat.limiter.has_capacity()):
            await user.limiter.acquire()
            if chat is not None:
                await chat.limiter.acquire()
            return Verdict.ADMIT
        now = asyncio.get_running_loop().time()
        if user.told_at is not None and now - user.told_at < self.per_user.period:
            return Verdict.REFUSE_AGAIN
        user.told_at = now
        return Verdict.REFUSE


def guarded(cooldowns: Cooldowns | None = None, inner: Dispatch = dispatch) -> Dispatch:
    """`inner` behind the cooldowns (the production ones unless given): a member over their
    limit is told to slow down."""
    cooldowns = cooldowns or Cooldowns()

    async def admitted(request: Request, services: Services) -> Reply:
        if request.internal:
            return await inner(request, services)
        request = await resolve_context(request, services)
        verdict = await cooldowns.admit(request)
        if verdict is Verdict.ADMIT:
            return await inner(request, services)
        return Reply(
            parts=(text(request.lang, "core.slow_down"),),
            ephemeral=True,
            is_error=True,
            droppable=verdict is Verdict.REFUSE_AGAIN,
        )

    return admitted
