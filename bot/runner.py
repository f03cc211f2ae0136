"""Running every configured front end and the scheduler in one process, and stopping cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.config import Settings
from bot.cooldowns import guarded
from bot.copies import CopiesRefresher
from bot.frontend import FrontEnd
from bot.services import build_services
from handlers.model import Services

log = logging.getLogger(__name__)


def build_front_ends(settings: Settings, services: Services) -> list[FrontEnd]:
    """Every front end whose token is set, answering through dispatch behind the cooldowns
    (one set for the process: their keys name the platform)."""
    dispatcher = guarded()
    # One for the process: a vote on either platform redraws the poll's copies on both.
    copies = CopiesRefresher(services, dispatcher=dispatcher)
    front_ends: list[FrontEnd] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram.frontend import TelegramFrontEnd

        front_ends.append(
            TelegramFrontEnd(settings, services, dispatcher=dispatcher, copies=copies)
        )
    if settings.discord_bot_token is not None:
        from bot.discord.frontend import DiscordFrontEnd

        front_ends.append(DiscordFrontEnd(settings, services, dispatcher=dispatcher, copies=copies))
    return front_ends


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def listen_for_stop_signals() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM from now on; undo with `stop_listening`.

    run_front_ends listens before starting anything, so a signal that arrives during a slow
    start-up also stops cleanly instead of killing the process with the database open.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    return stop


def stop_listening() -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.remove_signal_handler(signum)


async def start_unless_stopped(front_end: FrontEnd, stop: asyncio.Event) -> bool:
    """Start a front end, or give up (False) when a stop signal comes first.

    A front end whose platform is unreachable keeps retrying inside start(); Ctrl-C or
    SIGTERM must still end the process cleanly then.
    """
    starting = asyncio.ensure_future(front_end.start())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        log.info("%s front end was still starting when asked to stop", front_end.platform)
        return False
    starting.result()
    return True


async def run_front_ends(settings: Settings) -> int:
    """Start every front end whose token is set, run until a stop signal, then stop them all."""
    async with build_services(settings) as services:
        front_ends = build_front_ends(settings, services)
        started: list[FrontEnd] = []
        # Imported here: bot.scheduler delivers through this module's FrontEnd.
        from bot.scheduler import RecapScheduler

        recaps: RecapScheduler | None = None
        stop = listen_for_stop_signals()
        try:
            for front_end in front_ends:
                if not await start_unless_stopped(front_end, stop):
                    break
                started.append(front_end)
                log.info("%s front end started", front_end.platform)
            # Recaps go out through the front ends, so they start after them and stop first.
            if not stop.is_set():
                recaps = RecapScheduler(services, started)
                await recaps.start()
            await stop.wait()
            log.info("stopping")
        finally:
            stop_listening()
            if recaps is not None:
                try:
                    await recaps.stop()
                except Exception:
                    log.exception("the recap scheduler did not stop cleanly")
            for front_end in reversed(started):
                try:
                    await front_end.stop()
                except Exception:
                    log.exception("%s front end did not stop cleanly", front_end.platform)
    log.info("stopped; database closed")
    return 0
