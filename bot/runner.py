"""Every configured front end and the recap scheduler in one process, each supervised alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence

from bot.config import Settings
from bot.cooldowns import guarded
from bot.frontend import FrontEnd
from bot.health import Health
from bot.http_server import serving_http
from bot.metrics import Metrics
from bot.services import build_services
from bot.supervisor import BACKOFF, Backoff, Supervisor
from handlers.model import Services

log = logging.getLogger(__name__)


MakeFrontEnds = Callable[[Settings, Services, Metrics | None], list[FrontEnd]]


def build_front_ends(
    settings: Settings, services: Services, metrics: Metrics | None = None
) -> list[FrontEnd]:
    """Every front end whose token is set, answering through dispatch behind the cooldowns
    (one set for the process: their keys name the platform), counted when metrics are on."""
    dispatcher = guarded()
    if metrics is not None:
        dispatcher = metrics.counted(dispatcher)
    front_ends: list[FrontEnd] = []
    if settings.telegram_bot_token is not None:
        from bot.telegram.frontend import TelegramFrontEnd

        front_ends.append(TelegramFrontEnd(settings, services, dispatcher=dispatcher))
    if settings.discord_bot_token is not None:
        from bot.discord.frontend import DiscordFrontEnd

        front_ends.append(DiscordFrontEnd(settings, services, dispatcher=dispatcher))
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


async def supervise(supervisors: Sequence[Supervisor], stop: asyncio.Event) -> None:
    """Run each supervisor in its own task until `stop` is set, then stop them in reverse order.

    Raises what ended a supervisor (a rejected token), after stopping the others cleanly.
    """
    tasks = [asyncio.create_task(s.run(), name=f"supervise-{s.name}") for s in supervisors]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({*tasks, stopping}, return_when=asyncio.FIRST_COMPLETED)
        log.info("stopping")
    finally:
        stopping.cancel()
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error


async def run_front_ends(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    health: Health | None = None,
    backoff: Backoff = BACKOFF,
    make_front_ends: MakeFrontEnds = build_front_ends,
) -> int:
    """Run every front end whose token is set, and the recap scheduler, each supervised on its
    own, until a stop signal (or `stop`); then stop them all and close the database.

    Raises TokenRejected when a platform refuses its token.
    """
    health = health if health is not None else Health()
    async with (
        build_services(settings) as services,
        serving_http(settings, health, services) as http,
    ):
        # Imported here: bot.scheduler delivers through this module's FrontEnd.
        from bot.poll_closing import PollClosingJob
        from bot.scheduler import RecapScheduler

        front_ends = make_front_ends(settings, services, http.metrics if http else None)
        # Recaps and announcements go out through the front ends, so their jobs stop first (last).
        supervisors = [Supervisor(fe.platform, fe, health, backoff) for fe in front_ends]
        # Reported in /readyz, but readiness is the front ends': these jobs wait for none.
        supervisors += [
            Supervisor(name, job, health, backoff, gates_readiness=False)
            for name, job in (
                ("scheduler", RecapScheduler(services, front_ends, connected=health.connected)),
                ("poll-closing", PollClosingJob(services, front_ends, connected=health.connected)),
            )
        ]
        signals = stop is None
        stop = listen_for_stop_signals() if stop is None else stop
        try:
            await supervise(supervisors, stop)
        finally:
            if signals:
                stop_listening()
    log.info("stopped; database closed")
    return 0
