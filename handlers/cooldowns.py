"""Per-user and per-chat cooldowns, so that one member cannot flood the bot or a chat.

Each key gets an aiolimiter leaky bucket: a burst of `max_rate` requests, then capacity
drips back at max_rate / period per second. Button presses count for the user but not the
chat, since a popular poll rightly gets many presses at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from handlers.model import Request


@dataclass(frozen=True, slots=True)
class Rate:
    max_rate: int
    period: float


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
        self._limiters: OrderedDict[tuple[str, str, str], AsyncLimiter] = OrderedDict()

    def _limiter(self, key: tuple[str, str, str], rate: Rate) -> AsyncLimiter:
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = AsyncLimiter(rate.max_rate, rate.period)
            if len(self._limiters) > self.max_keys:
                self._limiters.popitem(last=False)
        else:
            self._limiters.move_to_end(key)
        return limiter

    async def admit(self, request: Request) -> bool:
        """Take one unit from the user's (and, for commands, the chat's) bucket, if both have it."""
        user = self._limiter(("user", request.platform, request.user_id), self.per_user)
        chat = None
        if request.action is None:
            chat = self._limiter(("chat", request.platform, request.chat_id), self.per_chat)
        if not user.has_capacity() or (chat is not None and not chat.has_capacity()):
            return False
        await user.acquire()
        if chat is not None:
            await chat.acquire()
        return True
