"""What dsbot's handlers add per Telegram update, against a handler that does nothing.

The same 2,000 updates (half `/cost` commands in private chats, half poll-button presses by
1,000 different members of a group) go through the real python-telegram-bot Application
and TelegramFrontEnd: getUpdates, update parsing, the concurrent update processor, the
adapter's request building (getChatMember only for moderator lines, none here), bot.dispatch (chat
settings from SQLite, behind the production cooldowns as `dsbot run` answers), HTML
rendering, and the outgoing sendMessage or answerCallbackQuery, answered by an in-process Bot
API (a python-telegram-bot BaseRequest that answers from memory, so no socket time hides the
Python work). Every sender is a different member and presses count for the member only, so
no cooldown refuses this traffic; every update's answer is checked (the /cost reply titled
from the catalogue, the vote notice, the fixed "ok"), and a refusal, an apology, an alert
toast or a missing answer makes the run fail (exit 1). The votes are checked stored too.

* "do-nothing handler": dispatch and everything around it as in dsbot, but /cost and the
  poll action are replaced by handlers that return a fixed one-line reply or toast.
* "dsbot": the real /cost (tables from the dataset) and real votes (written to a SQLite
  file with the bot's own settings, then a throttled tally edit).
* "bare python-telegram-bot" (context only): a PTB handler that sends a fixed text.

Telegram's flood limits (the outgoing pacing) are switched off in every case: they would
measure Telegram's 30 messages a second, not the code. The three cases take turns,
`--rounds` times, each on a fresh database; the ratios are per round (neighbours in time),
and the median of the rounds is printed, for wall-clock time and for this process's CPU
time (the steadier of the two on a shared machine); the last line is dsbot against bare
python-telegram-bot.
Usage: .venv/bin/python -m bench.telegram_updates [--updates 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bench.replies import ReplyCheck, fail_if_any, readable, refusal_in, template_pattern
from bot.config import Settings
from bot.cooldowns import guarded
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.commands import Registry
from handlers.i18n import text
from handlers.model import Reply, Request, Services
from handlers.poll_view import labels_of
from handlers.registry import REGISTRY
from storage.polls import DEEPSEEK_POLL_ID

TOKEN = "7000000001:AAbenchTokenNotSecret-0123456789abcdefg"
BOT_USER = {"id": 7_000_000_001, "is_bot": True, "first_name": "dsbot", "username": "dsbot_bot"}
GROUP = -1001_000_000_001
NO_FLOOD_LIMITS = TelegramTuning(
    poll_timeout=1, messages_per_second=0, messages_per_minute_per_group=0
)
Json = dict[str, Any]


def make_updates(count: int) -> list[Json]:
    """Alternating /cost commands and poll votes, every sender a different user."""
    updates: list[Json] = []
    for number in range(count):
        user = {"id": 100_000 + number, "is_bot": False, "first_name": "u", "language_code": "en"}
        if number % 2 == 0:
            line = "/cost" if number % 4 == 0 else "/cost 2M in 500k out cache 30%"
            message = {
                "message_id": number + 1,
                "date": 1_738_000_000,
                "chat": {"id": user["id"], "type": "private", "first_name": "u"},
                "from": user,
                "text": line,
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
            updates.append({"update_id": number + 1, "message": message})
        else:
            poll_message = {
                "message_id": 1,
                "date": 1_738_000_000,
                "chat": {"id": GROUP, "type": "supergroup", "title": "bench"},
                "from": BOT_USER,
                "text": "poll",
            }
            query = {
                "id": str(number),
                "from": user,
                "chat_instance": "1",
                "data": f"poll:{DEEPSEEK_POLL_ID}:{number % 4}",
                "message": poll_message,
            }
            updates.append({"update_id": number + 1, "callback_query": query})
    return updates


def answer_key(update: Json) -> str:
    """What the answer to `update` is filed under: its private chat, or its callback query."""
    if "message" in update:
        return f"chat {update['message']['chat']['id']}"
    return f"query {update['callback_query']['id']}"


class InProcessBotApi(BaseRequest):
    """The Bot API answered from memory; keeps the first answer to each update."""

    def __init__(self, updates: list[Json]) -> None:
        self.updates = updates
        self.go = asyncio.Event()
        self.done = asyncio.Event()
        self.answers: dict[str, Json] = {}
        self.calls: dict[str, int] = {}
        self._message_ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        return 200, await self.respond(url.rsplit("/", 1)[1], params)

    async def respond(self, endpoint: str, params: Json) -> bytes:
        """The body of the Bot API's answer to a call of `endpoint`."""
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1
        result = await self._answer(endpoint, params)
        return json.dumps({"ok": True, "result": result}).encode()

    def _counted(self, key: str, params: Json) -> None:
        self.answers.setdefault(key, params)
        if len(self.answers) >= len(self.updates):
            self.done.set()

    async def _answer(self, endpoint: str, params: Json) -> Any:
        if endpoint == "getMe":
            return BOT_USER
        if endpoint == "getUpdates":
            offset = int(params.get("offset") or 0)
            if not self.go.is_set() and params.get("timeout"):
                # A long poll that answers the moment the updates are released.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.go.wait(), 0.05)
            if not self.go.is_set() or offset > len(self.updates):
                if params.get("timeout"):
                    await asyncio.sleep(0.05)
                return []
            return self.updates[max(offset - 1, 0) : max(offset - 1, 0) + 100]
        if endpoint == "getChatMember":
            user = {"id": params["user_id"], "is_bot": False, "first_name": "u"}
            return {"status": "member", "user": user}
        if endpoint == "answerCallbackQuery":
            self._counted(f"query {params['callback_query_id']}", params)
            return True
        if endpoint in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            if endpoint == "sendMessage":
                self._counted(f"chat {chat_id}", params)
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            return {
                "message_id": next(self._message_ids),
                "date": 1_738_000_000,
                "chat": {**chat, "first_name": "u", "title": "bench"},
                "from": BOT_USER,
                "text": "sent",
            }
        return True


@dataclasses.dataclass(frozen=True, slots=True)
class Measured:
    wall: float  # seconds from releasing the updates to the last one answered
    cpu: float  # CPU seconds this process (SQLite's thread included) spent meanwhile
    calls: dict[str, int]


Problem = Callable[[Json, Json], str | None]  # (update, its answer) -> None if a real answer


def fixed_ok(update: Json, answer: Json) -> str | None:
    """The baseline's and the do-nothing handler's answer: "ok" as a message or a toast."""
    if refusal := refusal_in(str(answer.get("text", ""))):
        return refusal
    return None if answer.get("text") == "ok" and not answer.get("show_alert") else "not 'ok'"


def dsbot_answer(labels: list[str]) -> Problem:
    """The real /cost reply (titled as the catalogue has it) or the notice of the vote cast."""
    title = f"<b>{text('en', 'cost.title')}</b>"

    def problem(update: Json, answer: Json) -> str | None:
        shown = str(answer.get("text", ""))
        if refusal := refusal_in(shown):
            return refusal
        if answer.get("show_alert"):
            return "alert toast (an error)"
        if "message" in update:
            return None if shown.startswith(title) else "not the /cost reply"
        index = int(update["callback_query"]["data"].rsplit(":", 1)[1])
        notice = template_pattern("poll.notice_vote", id=DEEPSEEK_POLL_ID, choice=labels[index])
        return None if notice.fullmatch(readable(shown)) else "not the vote acknowledgement"

    return problem


async def run_updates(api: InProcessBotApi, problem: Problem, check: ReplyCheck) -> Measured:
    started, cpu_started = time.perf_counter(), time.process_time()
    api.go.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(api.done.wait(), timeout=600)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    record_answers(api.updates, api.answers, problem, check)
    return Measured(wall, cpu, dict(api.calls))


def record_answers(
    updates: list[Json], answers: dict[str, Json], problem: Problem, check: ReplyCheck
) -> None:
    """Each update's first answer, checked; an update with none is a failure."""
    for update in updates:
        answer = answers.get(answer_key(update))
        if answer is None:
            check.record("no answer within 600 s")
        else:
            check.record(problem(update, answer), str(answer.get("text", "")))


@asynccontextmanager
async def fresh_services() -> AsyncIterator[Services]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            dsbot_database=Path(folder) / "bench.sqlite3",
            dsbot_market="offline",
            _env_file=None,  # type: ignore[call-arg]
        )
        async with build_services(settings) as services:
            yield services


async def through_front_end(
    updates: list[Json],
    check: ReplyCheck,
    problem: Problem | None = None,
    registry: Registry = REGISTRY,
) -> Measured:
    api = InProcessBotApi(updates)
    async with fresh_services() as built:
        services = dataclasses.replace(built, registry=registry)
        poll = await services.polls.get(DEEPSEEK_POLL_ID)
        assert poll is not None
        settings = Settings(telegram_bot_token=SecretStr(TOKEN), _env_file=None)  # type: ignore[call-arg]
        front_end = TelegramFrontEnd(
            settings, services, tuning=NO_FLOOD_LIMITS, request=api, dispatcher=guarded()
        )
        await front_end.start()
        try:
            check_vote = dsbot_answer(labels_of(poll, "en"))
            measured = await run_updates(api, problem or check_vote, check)
        finally:
            await front_end.stop()
        if problem is None:
            acknowledged = sum(
                "callback_query" in update
                and (answer := api.answers.get(answer_key(update))) is not None
                and check_vote(update, answer) is None
                for update in updates
            )
            found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)
            stored = found[1].voters if found else 0
            if stored != acknowledged:
                check.record(f"votes stored ({stored}) differ from those acknowledged")
    return measured


async def bare_ptb(updates: list[Json], check: ReplyCheck) -> Measured:
    api = InProcessBotApi(updates)

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, "ok")

    async def toast(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("ok")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .concurrent_updates(True)
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, reply))
    app.add_handler(CallbackQueryHandler(toast))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        try:
            measured = await run_updates(api, fixed_ok, check)
        finally:
            await app.updater.stop()
            await app.stop()
    return measured


def do_nothing_registry() -> Registry:
    """The registry with /cost and the poll action swapped for handlers that return at once."""

    async def command(request: Request, services: Services) -> Reply:
        return Reply(parts=("ok",))

    async def action(request: Request, services: Services) -> Reply:
        return Reply(notice="ok")

    cost = REGISTRY.by_name["cost"]
    quick = dataclasses.replace(cost, forms=(dataclasses.replace(cost.default, handler=command),))
    return Registry(
        tuple(quick if c is cost else c for c in REGISTRY.commands),
        actions={**REGISTRY.actions, "poll": action},
    )


async def do_nothing(updates: list[Json], check: ReplyCheck) -> Measured:
    return await through_front_end(updates, check, fixed_ok, registry=do_nothing_registry())


def per_update(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:7.1f} µs"


async def main(count: int, rounds: int) -> None:
    updates = make_updates(count)
    cases = {
        "bare python-telegram-bot": bare_ptb,
        "do-nothing handler": do_nothing,
        "dsbot (/cost and poll votes)": through_front_end,
    }
    runs: dict[str, list[Measured]] = {name: [] for name in cases}
    checks = {name: ReplyCheck(name) for name in cases}
    # The cases take turns within each round, so a busy spell on the machine hits all three.
    for _ in range(rounds):
        for name, case in cases.items():
            runs[name].append(await case(updates, checks[name]))
    fail_if_any(list(checks.values()))
    print(
        f"{count} updates through the real Application, {rounds} rounds; every answer checked "
        f"({sum(check.total for check in checks.values())} real answers)"
    )
    for name, measured in runs.items():
        walls = [m.wall for m in measured]
        cpus = [m.cpu for m in measured]
        calls = {k: v for k, v in sorted(measured[0].calls.items()) if k != "getUpdates"}
        print(
            f"  {name:30s} wall per update: median {per_update(statistics.median(walls), count)}"
            f"  best {per_update(min(walls), count)}   CPU per update: median "
            f"{per_update(statistics.median(cpus), count)}\n      calls {calls}"
        )

    def ratios(top: str, bottom: str, field: str) -> list[float]:
        return [
            getattr(a, field) / getattr(b, field)
            for a, b in zip(runs[top], runs[bottom], strict=True)
        ]

    for top, bottom, label in (
        ("dsbot (/cost and poll votes)", "do-nothing handler", "dsbot / do-nothing handler"),
        ("do-nothing handler", "bare python-telegram-bot", "do-nothing handler / bare PTB"),
    ):
        wall, cpu = ratios(top, bottom, "wall"), ratios(top, bottom, "cpu")
        goal = " (goal <= 1.5x)" if top.startswith("dsbot") else ""
        print(
            f"{label}, per update, median of the rounds: wall {statistics.median(wall):.2f}x, "
            f"CPU {statistics.median(cpu):.2f}x{goal}   rounds (wall): "
            + " ".join(f"{r:.2f}" for r in wall)
        )
    overall = ratios("dsbot (/cost and poll votes)", "bare python-telegram-bot", "wall")
    print(
        "dsbot / bare python-telegram-bot, per update, median of the rounds: "
        f"wall {statistics.median(overall):.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(options.updates, options.rounds))
