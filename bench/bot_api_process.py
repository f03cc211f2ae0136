"""The Bot API in a process of its own, over HTTP on 127.0.0.1, for bench.webhook_workers.

It plays Telegram for a dsbot process whose CPU is being measured, so that process does
all that it does in production: its calls go out over HTTP through python-telegram-bot's
own HTTPXRequest, and the updates come in over HTTP, by getUpdates (long polling) or as
POSTs to its webhook (with Telegram's default of 40 connections at once). The answers are
those of bench.telegram_updates.InProcessBotApi.

Protocol, one line each: it prints `port N`; then reads `go` (polling: getUpdates hands out
the updates from then on) or `go URL` (it POSTs every update to the webhook URL with the
secret header); once every update has its answer (and, for a webhook, every POST its
status), it prints one JSON line {"answers", "calls", "statuses"}; it exits when its
standard input closes.
Usage (by the bench): python -m bench.bot_api_process UPDATES.json SECRET CONNECTIONS
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.telegram_updates import InProcessBotApi, Json
from bot.telegram.webhook import SECRET_HEADER

# python-telegram-bot sends a parameter that is not a string as its JSON text.
_NOT_TEXT = ("show_alert", "offset", "timeout", "limit", "chat_id", "message_id", "user_id")


async def posted(url: str, updates: list[Json], secret: str, connections: int) -> Counter[str]:
    """Every update POSTed once, `connections` at a time; the statuses answered."""
    limit = asyncio.Semaphore(connections)
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(update: Json) -> None:
            async with limit:
                try:
                    async with session.post(
                        url, json=update, headers={SECRET_HEADER: secret}
                    ) as answer:
                        statuses[str(answer.status)] += 1
                except aiohttp.ClientError as error:
                    statuses[type(error).__name__] += 1

        await asyncio.gather(*(post(update) for update in updates))
    return statuses


async def serve(updates: list[Json], secret: str, connections: int) -> None:
    api = InProcessBotApi(updates)

    async def call(request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(await request.post())
        for name in _NOT_TEXT:
            if name in params:
                params[name] = json.loads(str(params[name]))
        body = await api.respond(request.match_info["method"], params)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", call)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.Server)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        words = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        statuses: Counter[str] = Counter()
        if words[1:]:
            statuses = await posted(words[1], updates, secret, connections)
        else:
            api.go.set()
        await asyncio.wait_for(api.done.wait(), timeout=600)
        print(
            json.dumps({"answers": api.answers, "calls": api.calls, "statuses": statuses}),
            flush=True,
        )
        # The bot may still call (a last tally edit, deleteWebhook) until it has stopped.
        await loop.run_in_executor(None, sys.stdin.read)
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text()), sys.argv[2], int(sys.argv[3])))
