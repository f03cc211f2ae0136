"""Telegram webhook mode: updates POSTed by Telegram, handled before they are answered.

On when TELEGRAM_WEBHOOK_URL is set. Each worker calls setWebhook (idempotent: every worker
may) and serves the URL's path on the process's aiohttp server. A POST is answered 200 only
once its update is handled: a worker killed mid-burst leaves its POSTs unanswered and
Telegram re-sends them, possibly to another worker. Re-sent updates act once:
- button presses go through again: the poll store ignores a press whose callback query id
  it committed (in the vote's own transaction), and the press is still answered with its
  toast, since the worker that committed it may have died before answering;
- messages (commands) are claimed by update id first (storage.update_claims): done before
  means answered and ignored, in hand elsewhere means 503 (Telegram sends it again later).
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import SecretStr
from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import ContextTypes

from bot.config import Settings, parse_listen
from bot.dispatch import Dispatch
from bot.frontend import TokenRejected, Unreachable
from bot.health import Health, State
from bot.http_server import listening
from bot.shared_tally import SharedTallyRefresher
from bot.telegram.connection import ALLOWED_UPDATES
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.render import CAPTION_LIMIT, TEXT_LIMIT, keyboard, render_html
from handlers.model import Reply, Request, Services
from storage.update_claims import Claim

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LISTENER = "telegram-webhook"
# Dispatch's answers to a database that could not take the request: nothing was committed,
# so the update is worth Telegram's re-sending.
_NOT_COMMITTED = ("core.busy", "core.storage_unavailable")


@dataclass
class _Outcome:
    failed: bool = False


_outcome: contextvars.ContextVar[_Outcome | None] = contextvars.ContextVar(
    "webhook_outcome", default=None
)


def noting_failures(inner: Dispatch) -> Dispatch:
    """`inner`, marking the update in hand failed when the database refused its request."""

    async def noting(request: Request, services: Services) -> Reply:
        reply = await inner(request, services)
        outcome = _outcome.get()
        if outcome is not None and reply.error_key in _NOT_COMMITTED:
            outcome.failed = True
        return reply

    return noting


class TelegramWebhookFrontEnd(TelegramFrontEnd):
    """The Telegram front end fed by POSTs (`handle`) instead of long polling."""

    def __init__(self, settings: Settings, services: Services, **options: Any) -> None:
        assert settings.telegram_webhook_url is not None
        assert settings.telegram_webhook_secret is not None
        self.webhook_url = settings.telegram_webhook_url
        self.max_connections = settings.telegram_webhook_max_connections
        self._secret = settings.telegram_webhook_secret
        options["dispatcher"] = noting_failures(options.get("dispatcher") or _dispatch())
        if "tally" not in options and services.refresh_leases is not None:
            interval = (options.get("tuning") or _tuning()).tally_interval
            options["tally"] = SharedTallyRefresher(services.refresh_leases, interval)
        super().__init__(settings, services, **options)
        self.accepting = False
        self.app.add_error_handler(self._on_handler_error)

    def _receiving(self, builder: Any) -> Any:
        return builder.updater(None)

    async def _start_receiving(self) -> None:
        try:
            await self.app.bot.set_webhook(
                self.webhook_url,
                secret_token=self._secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                max_connections=self.max_connections,
                drop_pending_updates=False,
            )
        except InvalidToken:
            raise TokenRejected(
                "Telegram rejected TELEGRAM_BOT_TOKEN; check it with @BotFather"
            ) from None
        except NetworkError as error:
            raise Unreachable.because(error) from None
        self.accepting = True
        log.info("Telegram: webhook set for @%s", self.username)

    async def _edit(self, chat_id: int, message_id: int, reply: Reply, photo: bool) -> None:
        """An edit only when the message shows something else, as every worker last left it."""
        leases = self.services.refresh_leases
        pieces = render_html(reply, CAPTION_LIMIT if photo else TEXT_LIMIT)
        if leases is None or not pieces:
            await super()._edit(chat_id, message_id, reply, photo)
            return
        markup = keyboard(reply)
        shown = pieces[0] + json.dumps(markup.to_dict() if markup else None, sort_keys=True)
        key = f"{chat_id}:{message_id}"
        if not await leases.shows_new(key, hashlib.sha256(shown.encode()).hexdigest()):
            return
        # The fleet's record decides: this process's own memory may be older.
        self.shown.forget((chat_id, message_id))
        try:
            await super()._edit(chat_id, message_id, reply, photo)
        except Exception:
            await leases.forget_shown(key)
            raise

    async def stop(self) -> None:
        # Unanswered POSTs get 503 from here on: Telegram re-sends them to another worker.
        self.accepting = False
        await super().stop()

    async def handle(self, data: object) -> int:
        """Handle one POSTed update; the HTTP status to answer Telegram with."""
        if not self.accepting:
            return 503
        if not isinstance(data, dict):
            return 400
        update = Update.de_json(data, self.app.bot)
        claims = self.services.update_claims
        claimed = claims is not None and update.callback_query is None
        if claims is not None and claimed:
            try:
                claim = await claims.claim(update.update_id)
            except Exception as error:
                log.warning("Telegram: could not claim update %s: %s", update.update_id, error)
                return 503
            if claim is Claim.DONE:
                return 200
            if claim is Claim.BUSY:
                return 503
        outcome = _Outcome()
        token = _outcome.set(outcome)
        try:
            await self.app.process_update(update)
        except Exception:
            log.exception("Telegram: update %s could not be handled", update.update_id)
            outcome.failed = True
        finally:
            _outcome.reset(token)
        if claims is not None and claimed:
            try:
                if outcome.failed:
                    await claims.release(update.update_id)
                else:
                    await claims.finish(update.update_id)
            except Exception as error:
                log.warning("Telegram: could not record update %s: %s", update.update_id, error)
                return 503 if outcome.failed else 200
        return 500 if outcome.failed else 200

    async def _on_handler_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        outcome = _outcome.get()
        if outcome is not None:
            outcome.failed = True


@dataclass
class WebhookReceiver:
    """The webhook route. It is served before its front end exists (the server starts
    first): POSTs with the right secret are answered 503 until the front end is attached and
    started, and Telegram sends them again."""

    path: str
    secret: SecretStr
    front_end: TelegramWebhookFrontEnd | None = None

    @classmethod
    def of(cls, settings: Settings) -> WebhookReceiver:
        assert settings.telegram_webhook_url is not None
        assert settings.telegram_webhook_secret is not None
        path = urlsplit(settings.telegram_webhook_url).path or "/"
        return cls(path, settings.telegram_webhook_secret)

    def check_secret(self, given: str | None) -> bool:
        expected = self.secret.get_secret_value().encode()
        return given is not None and hmac.compare_digest(given.encode(), expected)

    def route(self) -> web.RouteDef:
        async def receive(request: web.Request) -> web.Response:
            # Checked before the body is read: a forged POST costs nothing and does nothing.
            if not self.check_secret(request.headers.get(SECRET_HEADER)):
                return web.Response(status=403)
            front_end = self.front_end
            if front_end is None:
                return web.Response(status=503)
            try:
                data = await request.json()
            except ValueError:
                return web.Response(status=400)
            return web.Response(status=await front_end.handle(data))

        return web.post(self.path, receive)


@asynccontextmanager
async def serving_webhook(listen: str, receiver: WebhookReceiver) -> AsyncIterator[int]:
    """The webhook route alone on `listen` (when DSBOT_HTTP_LISTEN names another address);
    yields the port it got."""
    host, _ = parse_listen(listen)
    app = web.Application()
    app.add_routes([receiver.route()])
    async with listening(app, listen, "TELEGRAM_WEBHOOK_LISTEN") as bound:
        log.info("serving the Telegram webhook on %s:%s%s", host, bound, receiver.path)
        yield bound


def report_listener(health: Health, up: bool) -> None:
    """The webhook listener's state in /readyz: a worker is ready only while it listens."""
    health.expect(LISTENER)
    health.set(LISTENER, State.CONNECTED if up else State.STOPPED)


def _dispatch() -> Dispatch:
    from bot.dispatch import dispatch

    return dispatch


def _tuning() -> Any:
    from bot.telegram.tuning import TelegramTuning

    return TelegramTuning()
