"""Recap fan-out: one recap to 1,000 Telegram chats through a fake that allows 30 messages/s.

The fake Bot API (tests/fakes/telegram_api.py) is wrapped so that a message beyond 30 in
any one-second window is answered 429 with retry_after, as Telegram does. The real
TelegramFrontEnd (python-telegram-bot) and the real RecapScheduler deliver the recap,
with a SQLite file for the subscriptions, due at the same instant for every chat. The
fake runs in a process of its own, as Telegram's servers do, so its one-second windows are
timed independently of the bot's event loop.

It prints the 429s received (goal 0) and the sweep's wall time against the floor set by
the limit, 1,000 / 30 s (goal within 1.15x); the floor is the baseline of the run. Every
chat must get exactly one photo whose caption is the recap in the chat's language (its
title from the catalogue), and the scheduler must report every chat sent, none failed;
otherwise the run exits 1 naming how many and which.
Usage: .venv/bin/python -m bench.recap_fanout [--chats 1000] [--limit 30]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import multiprocessing
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import SecretStr

from bench.replies import ReplyCheck, fail_if_any, readable, refusal_in, template_pattern
from bot.config import Settings
from bot.scheduler import RecapScheduler
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.tuning import TelegramTuning
from handlers.model import Lang
from handlers.recap import TICKERS
from storage.facts import Facts, load_facts
from storage.market import MarketData
from storage.market_cache import MarketCacheStore
from storage.subscriptions import Schedule
from storage.trading_calendar import nyse_calendar
from storage.yahoo import reset_yfinance_state
from tests.fakes.telegram_api import FakeBotApi
from tests.fakes.yahoo import Bar, proxied_session, running_fake_yahoo, series_from_dataset

# Monday 30 November 2026, 16:15 New York: the default recap time.
DUE = datetime(2026, 11, 30, 21, 15, tzinfo=UTC)
# Supergroup ids look like -100xxxxxxxxxx.
FIRST_GROUP = -1001_000_000_001
POSTING = frozenset({"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption"})


def todays_closes() -> dict[str, list[Bar]]:
    """A close for every recap ticker on the previous session and on the day of the recap."""
    return {
        ticker: [Bar(date(2026, 11, 27), 100.0 + number), Bar(DUE.date(), 101.0 + number)]
        for number, ticker in enumerate(TICKERS)
    }


def chat_ids(chats: int) -> range:
    return range(FIRST_GROUP, FIRST_GROUP - chats, -1)


def chat_lang(number: int) -> Lang:
    return "zh" if number % 4 == 0 else "en"


class FloodControlledBotApi(FakeBotApi):
    """At most `limit` messages in any one-second window; the rest get 429 retry_after=1."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.accepted: collections.deque[float] = collections.deque()
        self.all_accepted: list[float] = []
        self.too_many = 0

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in POSTING:
            now = time.monotonic()
            while self.accepted and now - self.accepted[0] >= 1.0:
                self.accepted.popleft()
            if len(self.accepted) >= self.limit:
                self.too_many += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status=429,
                )
            self.accepted.append(now)
            self.all_accepted.append(now)
        return await super()._handle(request)

    def busiest_second(self) -> int:
        """The most messages accepted in any one-second window."""
        busiest, start = 0, 0
        for end, moment in enumerate(self.all_accepted):
            while moment - self.all_accepted[start] >= 1.0:
                start += 1
            busiest = max(busiest, end - start + 1)
        return busiest


@dataclass(frozen=True)
class ServerFigures:
    photos: list[tuple[int, str]]  # (chat id, caption) of every photo accepted
    too_many: int
    busiest: int
    span: float


async def serve(limit: int, pipe: Connection) -> None:
    """The fake in its own process, as Telegram is: the bot's work cannot delay its clock."""
    fake = await FloodControlledBotApi(limit).start()
    pipe.send((fake.base_url, fake.token))
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    span = fake.all_accepted[-1] - fake.all_accepted[0] if fake.all_accepted else 0.0
    photos = [(int(p["chat_id"]), str(p.get("caption", ""))) for p in fake.sent("sendPhoto")]
    pipe.send(ServerFigures(photos, fake.too_many, fake.busiest_second(), span))
    await fake.close()


def serve_in_process(limit: int, pipe: Connection) -> None:
    asyncio.run(serve(limit, pipe))


async def run(chats: int, limit: int, pipe: Connection) -> None:
    base_url, token = pipe.recv()
    facts = load_facts()
    calendar = nyse_calendar()
    with (
        tempfile.TemporaryDirectory(prefix="dsbot-recap-bench-") as folder,
        running_fake_yahoo(series_from_dataset(facts.bars, todays_closes()), Path(folder)) as yahoo,
    ):
        reset_yfinance_state()
        settings = Settings(
            telegram_bot_token=SecretStr(token),
            telegram_api_base_url=base_url,
            dsbot_database=Path(folder) / "bench.sqlite3",
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = lambda: DUE  # noqa: E731 - every chat is due at this very instant

        # Live prices from the fake Yahoo: offline, the recap of a 2026 session would be
        # the one-line "no closes" text, not the chart and table this measures.
        def live(facts: Facts, cache: MarketCacheStore) -> MarketData:
            return MarketData(
                facts,
                cache,
                clock=clock,
                cache_dir=Path(folder) / "yfinance-cache",
                session_factory=lambda: proxied_session(yahoo.proxy_url),
            )

        async with build_services(settings, facts=facts, clock=clock, market=live) as services:
            store = services.subscriptions
            schedule = Schedule(datetime(2000, 1, 1, 16, 15).time(), ZoneInfo("America/New_York"))
            for number, chat in enumerate(chat_ids(chats)):
                await store.subscribe(
                    "telegram",
                    str(chat),
                    schedule,
                    chat_lang(number),
                    "bench",
                    DUE - timedelta(days=1),
                )
            front_end = TelegramFrontEnd(settings, services, tuning=TelegramTuning(poll_timeout=1))
            await front_end.start()
            scheduler = RecapScheduler(services, [front_end], calendar=calendar)
            try:
                started = time.monotonic()
                report = await scheduler.run_due()
                total = time.monotonic() - started
            finally:
                await front_end.stop()
    pipe.send("done")
    server: ServerFigures = pipe.recv()
    floor = chats / limit
    check = ReplyCheck("recap photos")
    langs = {chat: chat_lang(number) for number, chat in enumerate(chat_ids(chats))}
    captions: dict[int, list[str]] = collections.defaultdict(list)
    for chat, caption in server.photos:
        captions[chat].append(caption)
    for chat, lang in langs.items():
        got = captions.get(chat, [])
        if len(got) != 1:
            check.record(f"chats with {len(got)} photos instead of 1")
        elif refusal := refusal_in(got[0]):
            check.record(refusal, got[0])
        else:
            title = template_pattern("recap.title", lang)
            check.record(
                None if title.search(readable(got[0])) else f"not the {lang} recap", got[0]
            )
    if report.failed or report.unsubscribed or len(report.sent) != chats:
        check.record(
            f"scheduler report: sent={len(report.sent)} failed={len(report.failed)} "
            f"unsubscribed={len(report.unsubscribed)} for {chats} chats"
        )
    fail_if_any([check])
    print(f"recap fan-out: {chats} Telegram chats, fake Bot API allowing {limit} messages/s")
    print(
        f"  delivered: {len(server.photos)} photo messages, each checked the recap "
        f"(sent={len(report.sent)} "
        f"failed={len(report.failed)} unsubscribed={len(report.unsubscribed)} "
        f"retries={report.retries})"
    )
    print(f"  429 answers received: {server.too_many} (goal 0)")
    print(f"  busiest one-second window at the fake: {server.busiest} messages (limit {limit})")
    print(f"  sweep wall time: {total:.1f} s (first to last message: {server.span:.1f} s)")
    print(f"  floor {chats}/{limit} = {floor:.1f} s -> {total / floor:.3f}x (goal <= 1.15x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=30)
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve_in_process, args=(options.limit, theirs), daemon=True
    )
    server.start()
    try:
        asyncio.run(run(options.chats, options.limit, ours))
    finally:
        server.join(timeout=10)


if __name__ == "__main__":
    main()
