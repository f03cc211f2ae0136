"""Telegram's flood limits as the fake Bot API enforces them: about 30 messages a second from
a bot, 20 a minute into one group, answered with 429 and retry_after when exceeded.

Telegram does not publish its exact rule; this is the leaky bucket python-telegram-bot's
AIORateLimiter assumes (a burst, then one message a spacing), with a little slack for the
time between a worker sending and the request arriving.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Methods that post or change a message: what the limits count.
COUNTED = ("send", "edit", "copy", "forward")


@dataclass
class FloodRule:
    per_second: float = 30
    per_minute_per_group: float = 20
    slack: float = 0.2
    _due: dict[str, float] = field(default_factory=dict)

    def retry_after(self, chat_id: object, now: float) -> int | None:
        """None when a message into `chat_id` at `now` is within the limits (and counts it),
        else the seconds Telegram would ask the bot to wait."""
        scopes = [("all", self.per_second, 1.0)]
        chat_id = str(chat_id)
        if chat_id.startswith(("-", "@")):
            scopes.append((f"chat:{chat_id}", self.per_minute_per_group, 60.0))
        waits = []
        for scope, burst, period in scopes:
            spacing = period / burst
            due = max(self._due.get(scope, now), now)
            waits.append(due - (burst - 1) * spacing - self.slack - now)
        if max(waits) > 0:
            return max(math.ceil(max(waits)), 1)
        for scope, burst, period in scopes:
            self._due[scope] = max(self._due.get(scope, now), now) + period / burst
        return None
