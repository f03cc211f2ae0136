"""Whether Telegram's long polling still gets through: the getUpdates requests, watched.

python-telegram-bot keeps polling through outages (the rate limiter retries each getUpdates)
and says nothing when it succeeds again; this request wrapper sees every attempt, so the
front end can report the link lost at the first failed poll and back at the next answer, and
end on a token Telegram rejects while the bot runs.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from bot.frontend import LinkReport, TokenRejected

# What the bot asks Telegram for, by polling or by webhook: commands, presses, inline mode.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.CHOSEN_INLINE_RESULT,
]

_REJECTED = (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)  # what Telegram says to a bad token


def file_base_url(base_url: str) -> str:
    """The Bot API serves files under /file/bot<token>, beside /bot<token>."""
    stem = base_url.rstrip("/")
    return stem.removesuffix("/bot") + "/file/bot"


def _ignore(up: bool) -> None:
    pass


class WatchedPolling(BaseRequest):
    """Delegates to `inner`, reporting each getUpdates attempt's outcome when it changes."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.report: LinkReport = _ignore
        self.up = True
        self.ended: asyncio.Future[None] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        try:
            status, payload = await self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except asyncio.CancelledError:
            raise  # the poll was stopped, not failed
        except Exception:
            self._changed(False)
            raise
        self._changed(status < HTTPStatus.INTERNAL_SERVER_ERROR)
        if status in _REJECTED and self.ended is not None and not self.ended.done():
            self.ended.set_exception(
                TokenRejected("Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather")
            )
        return status, payload

    def _changed(self, up: bool) -> None:
        if up != self.up:
            self.up = up
            self.report(up)
