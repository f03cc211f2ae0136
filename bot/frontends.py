"""Running every configured front end in one process and one event loop, and stopping cleanly.

Each front end implements FrontEnd; the scheduler (recaps) delivers through `send`, so
proactive messages take the same path, escaping and rate limits as replies.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol

from bot.config import Settings
from bot.services import build_services
from handlers.model import Platform, Reply, Services

log = logging.getLogger(__name__)


class ChatUnreachable(Exception):
    """The bot was removed from the chat or lost permission to post there: stop sending."""


class FrontEnd(Protocol):
    platform: Platform

    async def start(self) -> None:
        """Connect and begin receiving updates; returns once running."""

    async def stop(self) -> None:
        """Stop receiving, finish pending replies, disconnect."""

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Post a reply unprompted; raises ChatUnreachable when the chat is gone for good."""


def build_front_ends(settings: Settings, services: Services) -> list[FrontEnd]:
    front_ends: list[FrontEnd] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram_frontend import TelegramFrontEnd

        front_ends.append(TelegramFrontEnd(settings, services))
    if settings.discord_bot_token is not None:
        from bot.discord_frontend import DiscordFrontEnd

        front_ends.append(DiscordFrontEnd(settings, services))
    return front_ends


async def wait_for_stop_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def run_front_ends(settings: Settings) -> int:
    """Start every front end whose token is set, run until a stop signal, then stop them all."""
    async with build_services(settings) as services:
        front_ends = build_front_ends(settings, services)
        started: list[FrontEnd] = []
        try:
            for front_end in front_ends:
                await front_end.start()
                started.append(front_end)
                log.info("%s front end started", front_end.platform)
            await wait_for_stop_signal()
            log.info("stopping")
        finally:
            for front_end in reversed(started):
                try:
                    await front_end.stop()
                except Exception:
                    log.exception("%s front end did not stop cleanly", front_end.platform)
    log.info("stopped; database closed")
    return 0
