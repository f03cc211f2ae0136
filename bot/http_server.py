"""The process's HTTP server (DSBOT_HTTP_LISTEN): /healthz, /readyz and /metrics.

It is one aiohttp application so that later routes (Telegram webhooks) join the same
listener: pass them to `serving_http` as `routes`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.config import Settings, parse_listen
from bot.health import Health
from bot.metrics import Metrics
from handlers.model import Services

log = logging.getLogger(__name__)

# A database that takes longer than this to read one row is not ready.
DATABASE_DEADLINE = 2.0
_PROBE_KEY = "readyz-probe"


class ListenFailed(Exception):
    """DSBOT_HTTP_LISTEN names an address this process cannot listen on."""


@dataclass
class HttpServer:
    """A running server: where it listens and the metrics it serves."""

    host: str
    port: int
    metrics: Metrics

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


async def database_answers(services: Services, deadline: float = DATABASE_DEADLINE) -> bool:
    """Whether the database reads one row within the deadline."""
    try:
        async with asyncio.timeout(deadline):
            await services.bot_state.get(_PROBE_KEY)
    except Exception as error:
        log.warning("readiness: the database did not answer: %s", error or type(error).__name__)
        return False
    return True


def build_app(
    health: Health,
    services: Services,
    metrics: Metrics,
    *,
    routes: Iterable[web.RouteDef] = (),
    database_deadline: float = DATABASE_DEADLINE,
) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        # Answering at all proves the event loop runs.
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        database = await database_answers(services, database_deadline)
        ready = database and health.ready()
        body = {
            "ready": ready,
            "database": "ok" if database else "unavailable",
            "components": health.snapshot(),
        }
        return web.json_response(body, status=200 if ready else 503)

    async def metrics_text(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.exposed), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_text),
            *routes,
        ]
    )
    return app


@asynccontextmanager
async def serving_http(
    settings: Settings,
    health: Health,
    services: Services,
    *,
    routes: Iterable[web.RouteDef] = (),
    database_deadline: float = DATABASE_DEADLINE,
    listen: str | None = None,
    listen_variable: str = "DSBOT_HTTP_LISTEN",
) -> AsyncIterator[HttpServer | None]:
    """Serve health and metrics (and `routes`) on DSBOT_HTTP_LISTEN, or `listen` (named
    `listen_variable` in errors), while inside; None (nothing served, and nothing counted)
    when neither is set."""
    listen = listen if listen is not None else settings.dsbot_http_listen
    if listen is None:
        yield None
        return
    host, _ = parse_listen(listen)
    metrics = Metrics(services.registry, role=settings.role_label)
    previous_hook = services.events.vote_recorded
    metrics.observe(services, health)
    watcher = metrics.watch_platform_429s()
    app = build_app(health, services, metrics, routes=routes, database_deadline=database_deadline)
    try:
        async with listening(app, listen, listen_variable) as bound:
            server = HttpServer(host, bound, metrics)
            log.info("serving /healthz, /readyz and /metrics on %s", server.url)
            yield server
    finally:
        services.events.vote_recorded = previous_hook
        Metrics.unwatch(watcher)


@asynccontextmanager
async def listening(app: web.Application, listen: str, variable: str) -> AsyncIterator[int]:
    """Serve `app` on `listen` (host:port, named `variable` in errors) while inside; yields the
    port it got. An address it cannot listen on raises ListenFailed."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise ListenFailed(
                f"cannot listen on {variable}={listen}: {error.strerror or error}"
            ) from error
        yield _bound_port(runner, port)
    finally:
        await runner.cleanup()


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    """The port the listener got: the one asked for, or the free one port 0 picked."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
