"""The fake Bot API in webhook mode: updates POSTed to the workers instead of polled.

Behaves as Telegram and a load balancer in front of several workers do: once setWebhook was
called, every update is POSTed with the secret token it gave, round-robin over `targets`
(each worker's own host:port, with the path of the webhook URL), and re-sent to the next
worker on any answer but 2xx or a dropped connection, until one answers 2xx. setWebhook
calls are recorded.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from tests.fakes.telegram_api import FakeBotApi, Json

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Attempt:
    update_id: int
    target: str
    status: int | None  # None: the connection dropped without an answer


@dataclass
class WebhookBotApi(FakeBotApi):
    # Base URLs (http://127.0.0.1:port) of the workers behind the "load balancer".
    targets: list[str] = field(default_factory=list)
    # Telegram waits before re-sending; shortened here, the tests wait for events.
    retry_delay: float = 0.05
    webhooks: list[Json] = field(default_factory=list)
    attempts_made: list[Attempt] = field(default_factory=list)
    delivered: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.pushed: list[Json] = []

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        await super().close()

    def push(self, update: Json) -> Json:
        update = self.compose(update)
        self.post_to_all_until_answered(update, targets=None)
        return update

    def compose(self, update: Json) -> Json:
        """`update` with its update_id, as Telegram would send it, not delivered yet."""
        update = {"update_id": next(self._update_ids), **update}
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._queries[str(query["id"])] = self.now()
        self.pushed.append(update)
        return update

    def post_to_all_until_answered(self, update: Json, targets: list[str] | None) -> None:
        """Deliver `update` (round-robin, or to each of `targets` in turn, as a re-send)."""
        task = asyncio.get_running_loop().create_task(self._deliver(update, targets))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def post(self, target: str, update: Json, secret: str | None) -> int:
        """One POST of `update` to `target` with `secret` (None: no header); its status."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with self._session.post(target + self.path, json=update, headers=headers) as answer:
            return answer.status

    @property
    def path(self) -> str:
        return urlsplit(str(self.webhooks[-1]["url"])).path

    @property
    def secret(self) -> str:
        return str(self.webhooks[-1]["secret_token"])

    def all_delivered(self) -> bool:
        return all(update["update_id"] in self.delivered for update in self.pushed)

    async def _deliver(self, update: Json, targets: list[str] | None) -> None:
        await self.wait_until(lambda: bool(self.webhooks), timeout=60)
        for round_ in itertools.count():
            if targets is not None:
                target = targets[round_ % len(targets)]
            else:
                target = self.targets[next(self._turn) % len(self.targets)]
            status: int | None
            try:
                status = await self.post(target, update, self.secret)
            except (aiohttp.ClientError, TimeoutError):
                status = None
            self.attempts_made.append(Attempt(update["update_id"], target, status))
            if status is not None and 200 <= status < 300:
                self.delivered.add(update["update_id"])
                self._notify()
                return
            await asyncio.sleep(self.retry_delay)

    def _call(self, method: str, params: Json) -> Any:
        if method == "setWebhook":
            self.webhooks.append(params)
            return True
        return super()._call(method, params)
