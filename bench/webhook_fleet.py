"""Votes per second of 1, 2 and 3 `dsbot run` webhook workers on one PostgreSQL.

Part of bench.webhook_workers. Each worker is a real `python -m bot run` process in webhook
mode (DSBOT_ROLES=telegram), as tests/bot/test_webhook_workers.py runs them, behind the fake
Bot API's round-robin webhook delivery (tests/fakes/telegram_webhook.py), which runs in this
process. A poll is created with `/poll new`; each worker takes 50 presses outside the
clock (connections, statement caches); then `voters` more distinct members press its buttons
all at once. The figure is the acknowledged votes over the time from the first push to the
last toast. Every press must be answered with the vote notice (no alert, no refusal) and the
stored tally must equal the presses, option by option; otherwise the run fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bench.pg_votes import server_cpu
from bench.replies import ReplyCheck, readable, refusal_in, template_pattern
from storage.backends import open_stores
from storage.urls import database_location
from tests.conftest import dsbot_environment
from tests.fakes.telegram_api import StoredMessage
from tests.fakes.telegram_webhook import WebhookBotApi

ROOT = Path(__file__).resolve().parents[1]
GROUP = -1001_234_567_890
ADMIN = 42
SECRET = "bench-webhook_secret"
HOOK_URL = "https://dsbot.example/telegram/hook"
OPTIONS = ("Pizza", "Sushi", "Ramen", "Tacos")
WARM_UP = 50  # presses per worker before the clock starts


@dataclass(frozen=True, slots=True)
class FleetRun:
    workers: int
    votes: int  # acknowledged with the vote notice
    seconds: float  # first press pushed to last press answered
    worker_cpu: float  # CPU seconds of every worker process meanwhile
    server_cpu: float  # CPU seconds of the PostgreSQL server meanwhile
    posts: int  # POSTs the fake made (re-sends after a 5xx included)

    @property
    def rate(self) -> float:
        return self.votes / self.seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system) process `pid` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def webhook_workers(
    fake: WebhookBotApi, url: str, folder: Path, count: int
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`count` webhook workers on `url`, each on its own port and a target of the fake;
    yielded once every one has set its webhook."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        for number in range(count):
            port = _free_port()
            env = dsbot_environment(
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_BASE_URL=fake.base_url,
                DSBOT_MARKET="offline",
                DSBOT_DATABASE=url,
                DSBOT_ROLES="telegram",
                TELEGRAM_WEBHOOK_URL=HOOK_URL,
                TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                TELEGRAM_WEBHOOK_SECRET=SECRET,
            )
            log = (folder / f"worker{number}.log").open("wb")
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stderr=log
                )
            )
            fake.targets.append(f"http://127.0.0.1:{port}")
        await fake.wait_until(lambda: len(fake.webhooks) >= count, timeout=120)
        yield processes
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def new_poll(fake: WebhookBotApi) -> tuple[StoredMessage, int]:
    """A poll posted in the group by its moderator; the message and the poll's id."""
    fake.send_command(f"/poll new Lunch? | {' | '.join(OPTIONS)}", chat_id=GROUP, user_id=ADMIN)
    await fake.wait_until(lambda: any(m.reply_markup for m in fake.chat_messages(GROUP)), 60)
    poll = next(m for m in fake.chat_messages(GROUP) if m.reply_markup)
    _, data = poll.buttons()[0]
    return poll, int(data.split(":")[1])


def vote_problem(answer: dict[str, object] | None, poll_id: int, label: str) -> str | None:
    if answer is None:
        return "press not answered"
    shown = str(answer.get("text") or "")
    if refusal := refusal_in(shown):
        return refusal
    if answer.get("show_alert"):
        return "alert toast (a refusal or an error)"
    notice = template_pattern("poll.notice_vote", id=poll_id, choice=label)
    return None if notice.fullmatch(readable(shown)) else "not the vote acknowledgement"


async def stored_counts(url: str, poll_id: int) -> tuple[int, ...]:
    async with open_stores(database_location(url)) as stores:
        found = await stores.polls.get_with_tally(poll_id)
    assert found is not None
    return tuple(found[1].counts)


async def fleet_run(
    url: str, data: Path, folder: Path, count: int, voters: int, check: ReplyCheck
) -> FleetRun:
    async with open_stores(database_location(url)):
        pass  # migrated once here, not by the workers racing each other
    fake = WebhookBotApi()
    fake.owners[GROUP] = ADMIN
    await fake.start()
    try:
        async with webhook_workers(fake, url, folder, count) as processes:
            poll, poll_id = await new_poll(fake)
            buttons = poll.buttons()[: len(OPTIONS)]

            def pressing(voters: range) -> list[tuple[str, int]]:
                return [
                    (fake.press(poll, buttons[v % len(buttons)][1], user_id=100_000 + v), v)
                    for v in voters
                ]

            # Outside the clock: each worker's first presses (connections, statement caches).
            warm = pressing(range(WARM_UP * count))
            await fake.wait_until(lambda: all(fake.answered(q) for q, _ in warm), 120)
            await fake.wait_until(fake.all_delivered, 60)
            posts = len(fake.attempts_made)
            cpu = [process_cpu(p.pid) for p in processes]
            server, started = server_cpu(data), time.perf_counter()
            queries = pressing(range(WARM_UP * count, WARM_UP * count + voters))
            await fake.wait_until(lambda: all(fake.answered(q) for q, _ in queries), 600)
            seconds = time.perf_counter() - started
            cpu = [process_cpu(p.pid) - before for p, before in zip(processes, cpu, strict=True)]
            server = server_cpu(data) - server
            # The POSTs end just after their toasts; the last throttled redraw after those.
            await fake.wait_until(fake.all_delivered, 60)
            posts = len(fake.attempts_made) - posts
            await asyncio.sleep(1.5)
            failed = [p.returncode for p in processes if p.returncode is not None]
    finally:
        await fake.close()
    if failed:
        check.record(f"a worker ended early (exit codes {failed})")
    answers = {str(a["callback_query_id"]): a for a in fake.sent("answerCallbackQuery")}
    votes = 0
    for query, voter in warm + queries:
        problem = vote_problem(answers.get(query), poll_id, OPTIONS[voter % len(OPTIONS)])
        check.record(problem, str((answers.get(query) or {}).get("text", "")))
        votes += problem is None and voter >= WARM_UP * count
    pressed = range(WARM_UP * count + voters)
    expected = tuple(sum(1 for v in pressed if v % len(OPTIONS) == i) for i in range(4))
    counts = await stored_counts(url, poll_id)
    if counts != expected:
        check.record(f"stored tally {counts} differs from the presses {expected}")
    return FleetRun(count, votes, seconds, sum(cpu), server, posts)
