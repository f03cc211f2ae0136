"""The process's roles (front ends, the scheduler) in one process, each supervised alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.cooldowns import guarded
from bot.copies import CopiesRefresher
from bot.frontend import FrontEnd
from bot.health import Health
from bot.http_server import HttpServer, serving_http
from bot.metrics import Metrics
from bot.services import build_services
from bot.supervisor import BACKOFF, Backoff, Supervisor
from handlers.model import Services

if TYPE_CHECKING:
    from bot.telegram.webhook import WebhookReceiver

log = logging.getLogger(__name__)


MakeFrontEnds = Callable[[Settings, Services, Metrics | None], list[FrontEnd]]


def build_front_ends(
    settings: Settings, services: Services, metrics: Metrics | None = None
) -> list[FrontEnd]:
    """The front end of each role this process runs (DSBOT_ROLES; unset: every front end
    whose token is set), answering through dispatch behind the cooldowns (one set for the
    process: their keys name the platform), counted when metrics are on."""
    dispatcher = guarded()
    # One for the process: a vote on either platform redraws the poll's copies on both. Its
    # redraws are internal requests, so they are not counted as members' commands. Webhook
    # workers share one redraw a second per message with every other worker (leases).
    tally = None
    if settings.telegram_webhook_url is not None and services.refresh_leases is not None:
        from bot.shared_tally import SharedTallyRefresher

        tally = SharedTallyRefresher(services.refresh_leases)
    copies = CopiesRefresher(services, dispatcher=dispatcher, tally=tally)
    if metrics is not None:
        dispatcher = metrics.counted(dispatcher)
    roles = settings.roles
    front_ends: list[FrontEnd] = []
    if settings.telegram_bot_token is not None and "telegram" in roles:
        if settings.telegram_webhook_url is not None:
            from bot.telegram.webhook import TelegramWebhookFrontEnd

            front_ends.append(
                TelegramWebhookFrontEnd(settings, services, dispatcher=dispatcher, copies=copies)
            )
        else:
            from bot.telegram.frontend import TelegramFrontEnd

            front_ends.append(
                TelegramFrontEnd(settings, services, dispatcher=dispatcher, copies=copies)
            )
    if settings.discord_bot_token is not None and "discord" in roles:
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


@contextlib.asynccontextmanager
async def listening(
    settings: Settings, health: Health, services: Services
) -> AsyncIterator[tuple[HttpServer | None, WebhookReceiver | None]]:
    """The HTTP server, and the Telegram webhook route when this process takes webhooks.

    The webhook is served on TELEGRAM_WEBHOOK_LISTEN by the same server as /healthz, /readyz
    and /metrics, unless DSBOT_HTTP_LISTEN names another address: then two listeners, the
    webhook's serving only its path.
    """
    if "telegram" not in settings.roles or settings.telegram_webhook_url is None:
        async with serving_http(settings, health, services) as http:
            yield http, None
        return
    from bot.telegram.webhook import (
        LISTENER,
        WebhookReceiver,
        report_listener,
        serving_webhook,
    )

    receiver = WebhookReceiver.of(settings)
    webhook_listen = settings.telegram_webhook_listen
    http_listen = settings.dsbot_http_listen
    try:
        if http_listen is None or http_listen.strip() == webhook_listen.strip():
            async with serving_http(
                settings,
                health,
                services,
                routes=[receiver.route()],
                listen=webhook_listen,
                listen_variable="TELEGRAM_WEBHOOK_LISTEN",
            ) as http:
                report_listener(health, True)
                yield http, receiver
        else:
            async with (
                serving_http(settings, health, services) as http,
                serving_webhook(webhook_listen, receiver),
            ):
                report_listener(health, True)
                yield http, receiver
    finally:
        if LISTENER in health.states:
            report_listener(health, False)


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
        listening(settings, health, services) as (http, receiver),
    ):
        # Imported here: bot.scheduler delivers through this module's FrontEnd.
        from bot.poll_closing import PollClosingJob
        from bot.scheduler import RecapScheduler
        from bot.senders import build_senders

        front_ends = make_front_ends(settings, services, http.metrics if http else None)
        if receiver is not None:
            from bot.telegram.webhook import TelegramWebhookFrontEnd

            receiver.front_end = next(
                (fe for fe in front_ends if isinstance(fe, TelegramWebhookFrontEnd)), None
            )
        # Recaps and announcements go out through the front ends, so their jobs stop first (last).
        supervisors = [Supervisor(fe.platform, fe, health, backoff) for fe in front_ends]
        if "scheduler" in settings.roles:
            senders = build_senders(settings, services, front_ends)
            supervisors += [
                Supervisor(f"{fe.platform}-sender", fe, health, backoff) for fe in senders
            ]
            # Reported in /readyz, but readiness is the front ends': these jobs wait for none.
            supervisors += [
                Supervisor(name, job, health, backoff, gates_readiness=False)
                for name, job in (
                    (
                        "scheduler",
                        RecapScheduler(
                            services, [*front_ends, *senders], connected=health.connected
                        ),
                    ),
                    (
                        "poll-closing",
                        PollClosingJob(
                            services, [*front_ends, *senders], connected=health.connected
                        ),
                    ),
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
