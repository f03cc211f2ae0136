"""Telegram webhook mode against long polling: CPU per update, round trips per vote, workers.

One throwaway PostgreSQL cluster (tests/pg.py: 127.0.0.1, fsync off) serves every case;
each case gets a fresh database of its own.

1. CPU per update. The same `--updates` updates (from bench.telegram_updates: half `/cost`
   commands in private chats, half poll-button presses by distinct members of one group) go
   through the real python-telegram-bot Application with dsbot's production cooldowns.
   The headline pair is the production path both ways, with the Bot API in a process of
   its own (bench.bot_api_process) on 127.0.0.1:
   * "long polling, Bot API HTTP": TelegramFrontEnd fetches the updates by getUpdates;
   * "webhook, Bot API HTTP": the Bot API process POSTs every update to the
     TelegramWebhookFrontEnd's aiohttp listener (secret header, 40 connections at once);
   and in both, every call (toasts, messages, edits) goes out over HTTP through
   python-telegram-bot's own HTTPXRequest. The breakdown below it answers the calls in
   process, to show what the webhook route alone costs:
   * long polling: TelegramFrontEnd, its getUpdates answered by an in-process Bot API;
   * webhook: TelegramWebhookFrontEnd behind its aiohttp listener on 127.0.0.1 (the
     production route: secret check, JSON body, `handle`, the status), the updates POSTed
     over HTTP by a separate process (`--poster`, so its CPU is not counted) with Telegram's
     default of 40 connections at once. Commands are claimed by update id (claims and their
     done-marks written in batches); presses are not (see bot.telegram.webhook).
   This process's CPU time (time.process_time) from releasing the updates to the last
   answer, per update; the cases take turns for an untimed warm-up round, then `--rounds`
   rounds; each ratio is a round's case over the long polling of the same Bot API in that
   round, and the median of the rounds of the HTTP pair is printed last.
2. Round trips per vote and per command. Outside the clock, presses alone and commands
   alone go through each mode with every asyncpg exchange counted (bench.round_trips), the
   throttled tally redraws included (counted until the front end has stopped).
3. Votes per second of 1, 2 and 3 `python -m bot run` webhook workers (bench.webhook_fleet).

Every answer is checked (the vote notice, the /cost reply, no alert or refusal; every POST
answered 200) and the stored votes must equal the acknowledged presses; otherwise exit 1.
Usage: .venv/bin/python -m bench.webhook_workers [--updates 400] [--rounds 3]
       [--voters 150] [--workers 1 2 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import round_trips
from bench.bot_api_process import posted
from bench.replies import ReplyCheck, fail_if_any
from bench.telegram_updates import (
    NO_FLOOD_LIMITS,
    TOKEN,
    InProcessBotApi,
    Json,
    Measured,
    answer_key,
    dsbot_answer,
    make_updates,
    record_answers,
    run_updates,
)
from bench.webhook_fleet import FleetRun, fleet_run
from bot.config import Settings
from bot.cooldowns import guarded
from bot.services import build_services
from bot.telegram.frontend import TelegramFrontEnd
from bot.telegram.webhook import (
    TelegramWebhookFrontEnd,
    WebhookReceiver,
    serving_webhook,
)
from handlers.model import Services
from handlers.poll_view import labels_of
from storage.polls import DEEPSEEK_POLL_ID
from storage.urls import database_location

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook_secret"
HOOK_URL = "https://dsbot.example/telegram/hook"
POLLING, WEBHOOK = "long polling", "webhook (HTTP POST)"
POLLING_HTTP, WEBHOOK_HTTP = "long polling, Bot API HTTP", "webhook, Bot API HTTP"
Case = Callable[[str, list[Json], ReplyCheck], Awaitable[Measured]]


@contextlib.asynccontextmanager
async def pg_services(url: str) -> AsyncIterator[Services]:
    settings = Settings(
        dsbot_database=database_location(url), dsbot_market="offline", _env_file=None
    )  # type: ignore[call-arg]
    async with build_services(settings) as services:
        yield services


def bot_settings(webhook: bool) -> Settings:
    extra: dict[str, Any] = (
        {"telegram_webhook_url": HOOK_URL, "telegram_webhook_secret": SecretStr(SECRET)}
        if webhook
        else {}
    )
    return Settings(telegram_bot_token=SecretStr(TOKEN), _env_file=None, **extra)  # type: ignore[call-arg]


async def check_stored(
    services: Services, updates: list[Json], api: InProcessBotApi, check: ReplyCheck
) -> None:
    await check_stored_answers(services, updates, api.answers, check)


async def check_stored_answers(
    services: Services, updates: list[Json], answers: dict[str, Json], check: ReplyCheck
) -> None:
    """The votes stored must be the presses acknowledged."""
    poll = await services.polls.get(DEEPSEEK_POLL_ID)
    assert poll is not None
    vote = dsbot_answer(labels_of(poll, "en"))
    acknowledged = sum(
        "callback_query" in update
        and (answer := answers.get(answer_key(update))) is not None
        and vote(update, answer) is None
        for update in updates
    )
    found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)
    stored = found[1].voters if found else 0
    if stored != acknowledged:
        check.record(f"votes stored ({stored}) differ from those acknowledged ({acknowledged})")


async def labels(services: Services) -> list[str]:
    poll = await services.polls.get(DEEPSEEK_POLL_ID)
    assert poll is not None
    return labels_of(poll, "en")


async def polling(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    api = InProcessBotApi(updates)
    async with pg_services(url) as services:
        front_end = TelegramFrontEnd(
            bot_settings(False),
            services,
            tuning=NO_FLOOD_LIMITS,
            request=api,
            dispatcher=guarded(),
        )
        await front_end.start()
        try:
            measured = await run_updates(api, dsbot_answer(await labels(services)), check)
        finally:
            await front_end.stop()
        await check_stored(services, updates, api, check)
    return measured


@contextlib.asynccontextmanager
async def webhook_front_end(
    url: str, api: InProcessBotApi, claims: bool
) -> AsyncIterator[tuple[TelegramWebhookFrontEnd, Services]]:
    """A started webhook front end on a fresh database; without update claims if not `claims`
    (only to show what they cost: production always claims commands)."""
    async with pg_services(url) as built:
        services = built if claims else dataclasses.replace(built, update_claims=None)
        front_end = TelegramWebhookFrontEnd(
            bot_settings(True), services, tuning=NO_FLOOD_LIMITS, request=api, dispatcher=guarded()
        )
        await front_end.start()
        try:
            yield front_end, services
        finally:
            await front_end.stop()


def record_statuses(statuses: dict[str, int], check: ReplyCheck) -> None:
    for status, count in statuses.items():
        if status != "200":
            check.record(f"{count} POSTs answered {status}")


async def webhook(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    """The production path: POSTed over HTTP to the listener, by another process."""
    api = InProcessBotApi(updates)
    settings = bot_settings(True)
    receiver = WebhookReceiver.of(settings)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as batch:
        json.dump(updates, batch)
        batch.flush()
        async with (
            serving_webhook("127.0.0.1:0", receiver) as port,
            webhook_front_end(url, api, claims=True) as (front_end, services),
        ):
            receiver.front_end = front_end
            poster = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.webhook_workers",
                "--poster",
                f"http://127.0.0.1:{port}{receiver.path}",
                batch.name,
                str(settings.telegram_webhook_max_connections),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert poster.stdin is not None and poster.stdout is not None
            try:
                if await poster.stdout.readline() != b"ready\n":
                    raise SystemExit("the webhook poster did not start")
                poster.stdin.write(b"go\n")
                await poster.stdin.drain()
                measured = await run_updates(api, dsbot_answer(await labels(services)), check)
                statuses = json.loads(await poster.stdout.readline() or b"{}")
            finally:
                with contextlib.suppress(ProcessLookupError):
                    poster.stdin.close()
                await poster.wait()
            record_statuses(statuses, check)
            await check_stored(services, updates, api, check)
    return measured


async def over_http(url: str, updates: list[Json], check: ReplyCheck, hooked: bool) -> Measured:
    """The production path both ways: the Bot API in another process (bench.bot_api_process),
    dsbot's calls to it over HTTP through python-telegram-bot's own HTTPXRequest, the updates
    by getUpdates or POSTed to the webhook listener. Only this process's CPU is counted."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as batch:
        json.dump(updates, batch)
        batch.flush()
        connections = bot_settings(True).telegram_webhook_max_connections
        telegram = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bench.bot_api_process", batch.name, SECRET),
            str(connections),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # the outcome is one JSON line with every answer in it
        )
        assert telegram.stdin is not None and telegram.stdout is not None
        try:
            words = (await telegram.stdout.readline()).split()
            if words[:1] != [b"port"]:
                raise SystemExit("the Bot API process did not start")
            base = f"http://127.0.0.1:{int(words[1])}/bot"
            settings = bot_settings(hooked).model_copy(update={"telegram_api_base_url": base})
            receiver = WebhookReceiver.of(settings) if hooked else None
            async with contextlib.AsyncExitStack() as stack:
                go = b"go\n"
                if receiver is not None:
                    port = await stack.enter_async_context(serving_webhook("127.0.0.1:0", receiver))
                    go = f"go http://127.0.0.1:{port}{receiver.path}\n".encode()
                services = await stack.enter_async_context(pg_services(url))
                kind = TelegramWebhookFrontEnd if hooked else TelegramFrontEnd
                front_end = kind(settings, services, tuning=NO_FLOOD_LIMITS, dispatcher=guarded())
                await front_end.start()
                stack.push_async_callback(front_end.stop)
                if isinstance(front_end, TelegramWebhookFrontEnd) and receiver is not None:
                    receiver.front_end = front_end
                vote = dsbot_answer(await labels(services))
                started, cpu_started = time.perf_counter(), time.process_time()
                telegram.stdin.write(go)
                await telegram.stdin.drain()
                outcome = json.loads(await telegram.stdout.readline() or b"{}")
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                answers: dict[str, Json] = outcome.get("answers", {})
                record_answers(updates, answers, vote, check)
                record_statuses(outcome.get("statuses", {}), check)
                await check_stored_answers(services, updates, answers, check)
        finally:
            with contextlib.suppress(ProcessLookupError):
                telegram.stdin.close()
            await telegram.wait()
    return Measured(wall, cpu, outcome.get("calls", {}))


async def polling_over_http(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    return await over_http(url, updates, check, hooked=False)


async def webhook_over_http(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    return await over_http(url, updates, check, hooked=True)


async def direct(url: str, updates: list[Json], check: ReplyCheck, claims: bool) -> Measured:
    """The update dicts handed to `handle` as the POST route would, 40 at a time, no HTTP."""
    api = InProcessBotApi(updates)
    async with webhook_front_end(url, api, claims) as (front_end, services):
        limit = asyncio.Semaphore(bot_settings(True).telegram_webhook_max_connections)
        statuses: Counter[str] = Counter()

        async def one(update: Json) -> None:
            async with limit:
                statuses[str(await front_end.handle(update))] += 1

        feeding = asyncio.gather(*(one(update) for update in updates))
        measured = await run_updates(api, dsbot_answer(await labels(services)), check)
        await feeding
        record_statuses(statuses, check)
        await check_stored(services, updates, api, check)
    return measured


async def direct_claimed(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    return await direct(url, updates, check, claims=True)


async def direct_unclaimed(url: str, updates: list[Json], check: ReplyCheck) -> Measured:
    return await direct(url, updates, check, claims=False)


async def poster(target: str, batch: str, connections: int) -> None:
    """The child that plays Telegram: POST every update once `go` arrives; statuses as JSON."""
    updates = json.loads(Path(batch).read_text())
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    statuses = await posted(target, updates, SECRET, connections)
    print(json.dumps(statuses), flush=True)


async def counted(case: Case, url: str, updates: list[Json], check: ReplyCheck) -> Counter[str]:
    """Round trips of `case` on `updates`, start-up and migration left out."""
    with round_trips.counting() as counts:
        started: Counter[str] = Counter()
        original = TelegramFrontEnd.start

        async def start(self: TelegramFrontEnd) -> None:
            await original(self)
            started.update(counts)

        TelegramFrontEnd.start = start  # type: ignore[method-assign]
        try:
            await case(url, updates, check)
        finally:
            TelegramFrontEnd.start = original  # type: ignore[method-assign]
    return counts - started


def describe(counts: Counter[str], per: int) -> str:
    parts = ", ".join(f"{kind} {n / per:.2f}" for kind, n in sorted(counts.items()))
    return f"{round_trips.total(counts) / per:.2f} ({parts})"


def ratios(runs: dict[str, list[Measured]], name: str) -> list[float]:
    """Each round's CPU of case `name` over long polling's (of the same Bot API) that round."""
    baseline = runs[POLLING_HTTP if name in (POLLING_HTTP, WEBHOOK_HTTP) else POLLING]
    return [m.cpu / p.cpu for p, m in zip(baseline, runs[name], strict=True)]


async def main(options: argparse.Namespace) -> None:
    from tests.pg import started_cluster  # the tests' throwaway server, not a dependency

    updates = make_updates(options.updates)
    cases: dict[str, Case] = {
        POLLING_HTTP: polling_over_http,
        WEBHOOK_HTTP: webhook_over_http,
        POLLING: polling,
        WEBHOOK: webhook,
        "webhook, handle() direct": direct_claimed,
        "  same, no update claims": direct_unclaimed,
    }
    checks = {name: ReplyCheck(name) for name in cases}
    runs: dict[str, list[Measured]] = {name: [] for name in cases}
    cluster = started_cluster()
    try:
        print(
            f"python {sys.version.split()[0]}, PostgreSQL on 127.0.0.1 (tests/pg.py, fsync=off); "
            f"{options.updates} updates (half /cost, half poll votes), {options.rounds} rounds"
        )
        # Round 0 is untimed: each case's first-time costs (lazy imports, the first
        # connections) are not a cost per update.
        for round_ in range(options.rounds + 1):
            for name, case in cases.items():  # in turn, so a busy spell hits both
                url = cluster.fresh_database()
                result = await case(url, updates, checks[name])
                if round_:
                    runs[name].append(result)
                cluster.drop_database(url)
        fail_if_any(list(checks.values()))
        for name, measured in runs.items():
            cpu = statistics.median(m.cpu for m in measured) / len(updates) * 1e6
            wall = statistics.median(m.wall for m in measured) / len(updates) * 1e6
            ratio = statistics.median(ratios(runs, name))
            print(
                f"  {name:26s} CPU per update: median {cpu:5.0f} µs ({ratio:.2f}x of polling)"
                f"   wall {wall:5.0f} µs"
            )

        presses = [u for u in updates if "callback_query" in u][: options.updates // 4]
        commands = [u for u in updates if "message" in u][: options.updates // 8]
        trip_check = ReplyCheck("round-trip passes")
        for name, case in ((POLLING, polling), (WEBHOOK, webhook)):
            figures = []
            for kind in (presses, commands):
                url = cluster.fresh_database()
                figures.append(await counted(case, url, kind, trip_check))
                cluster.drop_database(url)
            votes, sent = figures
            print(
                f"  {name:26s} round trips per vote {describe(votes, len(presses))};"
                f" per /cost {describe(sent, len(commands))}"
            )
        fail_if_any([trip_check])

        fleet_check = ReplyCheck("webhook workers")
        fleet: list[FleetRun] = []
        with tempfile.TemporaryDirectory() as folder:
            for count in options.workers:
                url = cluster.fresh_database()
                fleet.append(
                    await fleet_run(
                        url, cluster.data, Path(folder), count, options.voters, fleet_check
                    )
                )
                cluster.drop_database(url)
                fail_if_any([fleet_check])
        for run in fleet:
            print(
                f"  {run.workers} webhook worker(s) on one PostgreSQL: {run.votes} votes in "
                f"{run.seconds:.2f} s = {run.rate:,.0f} votes/s ({run.rate / fleet[0].rate:.2f}x "
                f"of {fleet[0].workers}); CPU per vote: workers "
                f"{1000 * run.worker_cpu / run.votes:.2f} ms, PostgreSQL "
                f"{1000 * run.server_cpu / run.votes:.2f} ms; {run.posts} POSTs"
            )
        print("  (2-core machine: the workers, the fake Bot API and PostgreSQL share the cores)")
    finally:
        cluster.destroy()
    rounds = ratios(runs, WEBHOOK_HTTP)
    print("  rounds (webhook / polling CPU): " + " ".join(f"{r:.2f}" for r in rounds))
    print(f"webhook vs polling CPU per update: {statistics.median(rounds):.2f}x (goal <=1.1x)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--poster":
        asyncio.run(poster(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--updates", type=int, default=400)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--voters", type=int, default=150)
        parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(main(parser.parse_args()))
