"""What every front end is to the rest of the bot, and the failures it reports.

Each front end implements FrontEnd; the scheduler (recaps) delivers through `send`, so
proactive messages take the same path, escaping and rate limits as replies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from handlers.model import Reply
from storage.poll_model import Platform

log = logging.getLogger(__name__)


class ChatUnreachable(Exception):
    """The bot was removed from the chat or lost permission to post there: stop sending."""


class PossiblyDelivered(Exception):
    """A send failed after the platform may have accepted it: sending it again could post it twice.

    Raised instead of retrying; the caller must not send the same thing again.
    """


class TokenRejected(Exception):
    """The platform refused the bot's token: a configuration error, not an outage to wait out.

    Its message names the environment variable, never the token itself.
    """


class Unreachable(Exception):
    """The platform could not be reached, timed out or answered 5xx: an outage to wait out.

    Its message is one line for the log (the library's error, named), never a traceback.
    """

    @classmethod
    def because(cls, error: BaseException) -> Unreachable:
        return cls(f"{type(error).__name__}: {error}")


# A front end calls it with False when its connection is lost after start, True when back.
LinkReport = Callable[[bool], None]


class FrontEnd(Protocol):
    platform: Platform

    async def start(self) -> None:
        """Connect and begin receiving updates; returns once running."""

    async def stop(self) -> None:
        """Stop receiving, finish pending replies, disconnect."""

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post a reply unprompted; raises ChatUnreachable when the chat is gone for good."""
