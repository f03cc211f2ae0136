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
import datetime
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter

from bot.frontend import PossiblyDelivered
from bot.telegram.tuning import TelegramTuning
from storage.flood_limits import FloodLimitStore, Rate

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
    included; here only calls that post or edit a message are throttled, and a call no limit
    applies to skips AIORateLimiter's bookkeeping. A 429's retry_after is waited out (every
    call paused meanwhile) as often as Telegram asks. A 5xx or a network error is retried
    with capped exponential backoff, except that a send is not repeated after an ambiguous
    failure (see the module docstring); a 4xx other than 429 is a real answer and is raised
    at once.

    With `shared` (processes of a fleet sending as one bot), a message's send time is
    reserved in the database (storage.flood_limits) instead, so the limits hold for the
    fleet; should the database fail, this process's own limiters take over.
    """

    def __init__(
        self,
        tuning: TelegramTuning,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        shared: FloodLimitStore | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            overall_max_rate=tuning.messages_per_second,
            overall_time_period=1,
            group_max_rate=tuning.messages_per_minute_per_group,
            group_time_period=60,
            max_retries=sys.maxsize - 1,
        )
        self.tuning = tuning
        self._throttled = bool(tuning.messages_per_second or tuning.messages_per_minute_per_group)
        self.sleep = sleep
        self.clock = clock
        self.shared = shared if self._throttled else None
        self._wall = wall
        self._bot_rate = Rate.per(tuning.messages_per_second or 1e9, 1)
        self._group_rate = Rate.per(tuning.messages_per_minute_per_group or 1e9, 60)

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
        # No flood limit applies (answerCallbackQuery, lookups; messages when the limits are
        # off): AIORateLimiter would only wrap the call in empty limiters, which cost about a
        # tenth of the call. It still waits while a 429 pauses every call.
        direct = not (limited and self._throttled)
        if limited and self.shared is not None and await self._reserved(data.get("chat_id")):
            direct, limited = True, False
        delay = self.tuning.retry_first_delay
        give_up_at = self.clock() + self.tuning.retry_give_up_after
        while True:
            try:
                if direct and self._retry_after_event.is_set():
                    try:
                        return await callback(*args, **kwargs)
                    except RetryAfter as error:
                        await self._wait_out(error)
                        direct = False  # the full way from now on, as every 429 after this
                        continue
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

    async def _reserved(self, chat_id: object) -> bool:
        """Wait for this message's turn among the fleet's; False when the database failed."""
        scopes = {"all": self._bot_rate}
        # AIORateLimiter's test for a group: a negative id, or a @username.
        if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
            scopes[f"chat:{chat_id}"] = self._group_rate
        now_ms = int(self._wall() * 1000)
        try:
            at_ms = await self.shared.reserve(scopes, now_ms)  # type: ignore[union-attr]
        except Exception as error:
            log.warning(
                "Telegram: the fleet's flood limits are unavailable (%s); "
                "keeping this process's own",
                error,
            )
            return False
        if at_ms > now_ms:
            await self.sleep((at_ms - now_ms) / 1000)
        return True

    async def _wait_out(self, error: RetryAfter) -> None:
        """Pause every call for as long as Telegram asked, as AIORateLimiter does."""
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, datetime.timedelta) else float(wait)
        self._retry_after_event.clear()
        try:
            await self.sleep(seconds + 0.1)
        finally:
            self._retry_after_event.set()


def _not_accepted(error: NetworkError) -> bool:
    """Whether the failure proves Telegram did not act on the request.

    python-telegram-bot's HTTPXRequest raises NetworkError (TimedOut for timeouts) from the
    httpx error; an error Telegram answered with (a 5xx) has no httpx cause.
    """
    cause = error.__cause__
    if isinstance(cause, httpx.HTTPError):
        return isinstance(cause, _NOT_SENT)
    return cause is None or isinstance(cause, TelegramError)
