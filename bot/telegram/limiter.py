"""Telegram's flood limits, and the one place where a failed Bot API call is retried, or not.

What is retried after a failure (PatientRateLimiter, the one place retries live): a call that
does the same thing however often it is made (getUpdates, getMe, getChatMember, setMyCommands,
editMessageText/Caption/ReplyMarkup, answerCallbackQuery) is retried after any network error
or 5xx. A call that posts something new each time (sendMessage, sendPhoto, copy, forward) is
retried only when the failure proves Telegram did not take it: the connection was never made
(connect error or timeout, pool timeout) or Telegram answered (a 429 with retry_after, a
5xx). After an ambiguous failure, where the request was written and then the connection
dropped or the answer timed out, Telegram may have posted it and a retry could post it twice,
so it is logged once as possibly lost and raised as PossiblyDelivered, never sent again.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import AIORateLimiter

from bot.frontend import PossiblyDelivered
from bot.telegram.tuning import TelegramTuning

log = logging.getLogger(__name__)

# Methods that post or change a message count against Telegram's flood limits; reading
# (getChatMember), answering callback queries and set-up calls do not.
_FLOOD_LIMITED = ("send", "edit", "copy", "forward")
# Methods that post something new each time they succeed: repeated, they post it twice.
_NOT_IDEMPOTENT = ("send", "copy", "forward")
# httpx errors raised before a request was written: Telegram cannot have seen it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class PatientRateLimiter(AIORateLimiter):
    """Telegram's flood limits for messages, 429s waited out, and outages retried with backoff.

    python-telegram-bot's AIORateLimiter throttles every call that names a chat, lookups
    included; here only calls that post or edit a message are throttled. A 429's retry_after
    is waited out (by AIORateLimiter, which pauses every call meanwhile) as often as Telegram
    asks. A 5xx or a network error is retried with capped exponential backoff, except that
    a send is not repeated after an ambiguous failure (see the module docstring); a 4xx other
    than 429 is a real answer and is raised at once.
    """

    def __init__(
        self,
        tuning: TelegramTuning,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            overall_max_rate=tuning.messages_per_second,
            overall_time_period=1,
            group_max_rate=tuning.messages_per_minute_per_group,
            group_time_period=60,
            max_retries=sys.maxsize - 1,
        )
        self.tuning = tuning
        self.sleep = sleep
        self.clock = clock

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        limited = endpoint.startswith(_FLOOD_LIMITED)
        delay = self.tuning.retry_first_delay
        give_up_at = self.clock() + self.tuning.retry_give_up_after
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data if limited else {}, rate_limit_args
                )
            except BadRequest:
                raise
            except NetworkError as error:
                if endpoint.startswith(_NOT_IDEMPOTENT) and not _not_accepted(error):
                    log.warning(
                        "Telegram %s: the connection failed after the request was sent (%s); "
                        "it may have been delivered, so it is not sent again",
                        endpoint,
                        error,
                    )
                    raise PossiblyDelivered(f"Telegram {endpoint}: {error}") from error
                if self.clock() + delay > give_up_at:
                    log.error("Telegram %s still failing (%s): giving up", endpoint, error)
                    raise
                log.warning("Telegram %s failed (%s); retrying in %.2f s", endpoint, error, delay)
                await self.sleep(delay)
                delay = min(delay * 2, self.tuning.retry_max_delay)


def _not_accepted(error: NetworkError) -> bool:
    """Whether the failure proves Telegram did not act on the request.

    python-telegram-bot's HTTPXRequest raises NetworkError (TimedOut for timeouts) from the
    httpx error; an error Telegram answered with (a 5xx) has no httpx cause.
    """
    cause = error.__cause__
    if isinstance(cause, httpx.HTTPError):
        return isinstance(cause, _NOT_SENT)
    return cause is None or isinstance(cause, TelegramError)
