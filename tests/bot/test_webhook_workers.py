"""Several `dsbot run` Telegram webhook workers on one PostgreSQL, behind the fake Bot API's
round-robin webhook delivery: every update handled once, answered, and the tally exact."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import dsbot_environment
from tests.fakes.telegram_api import StoredMessage
from tests.fakes.telegram_flood import FloodRule
from tests.fakes.telegram_webhook import WebhookBotApi

GROUP = -1001_234_567_890
ADMIN = 42
SECRET = "s3cret-webhook_token"
HOOK_URL = "https://dsbot.example/telegram/hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[WebhookBotApi]:
    api = WebhookBotApi()
    api.owners[GROUP] = ADMIN
    await api.start()
    yield api
    await api.close()


@contextlib.asynccontextmanager
async def workers(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path, count: int
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """`count` webhook workers (`python -m bot run`), each on its own port, all of them the
    fake's targets; yielded once every one has called setWebhook."""
    processes = []
    ports = [free_port() for _ in range(count)]
    try:
        for number, port in enumerate(ports):
            env = dsbot_environment(
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_BASE_URL=fake.base_url,
                DSBOT_MARKET="offline",
                DSBOT_DATABASE=pg_url,
                DSBOT_ROLES="telegram",
                TELEGRAM_WEBHOOK_URL=HOOK_URL,
                TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                TELEGRAM_WEBHOOK_SECRET=SECRET,
            )
            log = (tmp_path / f"worker{number}.log").open("wb")
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=log
                )
            )
            fake.targets.append(f"http://127.0.0.1:{port}")
        await fake.wait_until(lambda: len(fake.webhooks) >= count, timeout=90)
        yield processes
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def new_poll(fake: WebhookBotApi, question: str = "Lunch?") -> StoredMessage:
    fake.send_command(f"/poll new {question} | Pizza | Sushi", chat_id=GROUP, user_id=ADMIN)
    await fake.wait_until(lambda: any(m.reply_markup for m in fake.chat_messages(GROUP)), 30)
    return next(m for m in fake.chat_messages(GROUP) if m.reply_markup)


async def results(fake: WebhookBotApi) -> str:
    before = len(fake.chat_messages(GROUP))
    fake.send_command("/poll results", chat_id=GROUP, user_id=ADMIN)
    await fake.wait_until(lambda: len(fake.chat_messages(GROUP)) > before, timeout=30)
    return fake.chat_messages(GROUP)[-1].plain


async def test_300_voters_over_3_workers_are_answered_and_tallied_exactly(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path
) -> None:
    async with workers(fake, pg_url, tmp_path, 3):
        poll = await new_poll(fake)
        (_, pizza), (_, sushi) = poll.buttons()[:2]
        started = fake.now()
        queries = [
            fake.press(poll, pizza if voter % 3 else sushi, user_id=10_000 + voter)
            for voter in range(300)
        ]
        await fake.wait_until(lambda: all(fake.answered(q) for q in queries), timeout=120)
        await fake.wait_until(lambda: "200" in poll.plain and "100" in poll.plain, timeout=30)
        summary = await results(fake)

    print(poll.plain, summary, sep="\n---\n")
    assert len(fake.webhooks) == 3
    assert {hook["url"] for hook in fake.webhooks} == {HOOK_URL}
    assert all(hook["secret_token"] == SECRET for hook in fake.webhooks)
    assert all(not hook.get("drop_pending_updates") for hook in fake.webhooks)
    assert fake.attempts("deleteWebhook") == []
    assert {attempt.target for attempt in fake.attempts_made} == set(fake.targets)
    edits = [
        c for c in fake.attempts("editMessageText") if c.params["message_id"] == poll.message_id
    ]
    assert len(edits) <= (edits[-1].received - started) + 2
    assert [(c.method, c.status, c.result) for c in fake.calls if c.status in (400, 429)] == []


async def test_three_workers_keep_telegrams_flood_limits_together(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path
) -> None:
    # Each worker alone would send its third of these at once: 24 answers in a group in a
    # second, and 45 a second overall, both over Telegram's limits.
    fake.flood = FloodRule()
    async with workers(fake, pg_url, tmp_path, 3):
        started = fake.now()
        for member in range(24):
            fake.send_command("/about", chat_id=GROUP, user_id=40_000 + member)
        for member in range(45):
            fake.send_command("/about", user_id=50_000 + member)
        await fake.wait_until(lambda: len(fake.chat_messages(GROUP)) >= 24, timeout=60)
        await fake.wait_until(
            lambda: all(fake.chat_messages(50_000 + member) for member in range(45)), 30
        )
        answered = [c.received for c in fake.calls if c.method == "sendMessage"]

    assert [(c.method, c.status) for c in fake.calls if c.status == 429] == []
    assert len(answered) == 24 + 45
    # The group's twenty-first answer waited for the bucket: 20, then one every 3 seconds.
    group_times = sorted(
        c.received
        for c in fake.calls
        if c.method == "sendMessage" and str(c.params["chat_id"]) == str(GROUP)
    )
    assert group_times[-1] - started >= 3 * 3


async def test_a_worker_killed_mid_burst_loses_no_press_and_counts_none_twice(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path
) -> None:
    async with workers(fake, pg_url, tmp_path, 3) as processes:
        poll = await new_poll(fake)
        (_, pizza), (_, sushi) = poll.buttons()[:2]
        queries = [
            fake.press(poll, pizza if voter % 2 else sushi, user_id=20_000 + voter)
            for voter in range(120)
        ]
        await fake.wait_until(lambda: len(fake.delivered) >= 30, timeout=60)
        processes[1].send_signal(signal.SIGKILL)
        await fake.wait_until(lambda: all(fake.answered(q) for q in queries), timeout=120)
        summary = await results(fake)

    assert any(a.status is None and a.target == fake.targets[1] for a in fake.attempts_made)
    assert "Pizza      60" in summary
    assert "Sushi      60" in summary


async def test_the_same_update_posted_to_two_workers_acts_once(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path
) -> None:
    async with workers(fake, pg_url, tmp_path, 2):
        command = fake.compose(
            {
                "message": {
                    "message_id": 900,
                    "date": 1_737_936_000,
                    "chat": fake.chat(GROUP),
                    "from": {"id": ADMIN, "is_bot": False, "first_name": "Ada"},
                    "text": "/poll new Twice? | Yes | No",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                }
            }
        )
        both = fake.targets[:2]
        fake.post_to_all_until_answered(command, both)
        fake.post_to_all_until_answered(command, both[::-1])
        await fake.wait_until(lambda: command["update_id"] in fake.delivered, timeout=30)
        await fake.wait_until(lambda: any(m.reply_markup for m in fake.chat_messages(GROUP)), 30)
        poll = next(m for m in fake.chat_messages(GROUP) if m.reply_markup)
        (_, yes), _ = poll.buttons()[:2]
        fake.press(poll, yes, user_id=30_001)  # one press first: the toggle would undo a second
        vote = fake.pushed[-1]
        await fake.wait_until(lambda: vote["update_id"] in fake.delivered, timeout=30)
        fake.post_to_all_until_answered(vote, both)
        fake.post_to_all_until_answered(vote, both[::-1])
        await fake.wait_until(fake.all_delivered, timeout=30)
        await fake.wait_until(lambda: fake.delivered >= {vote["update_id"]}, timeout=30)
        summary = await results(fake)

    answers = [
        call
        for call in fake.sent("sendMessage")
        if (call.get("reply_parameters") or {}).get("message_id") == 900
    ]
    assert len(answers) == 1
    assert "Twice?" in answers[0]["text"]
    assert "1  Yes         1   100%" in summary


async def test_a_post_without_the_secret_is_refused_with_403_and_does_nothing(
    fake: WebhookBotApi, pg_url: str, tmp_path: Path
) -> None:
    async with workers(fake, pg_url, tmp_path, 1):
        forged = {
            "update_id": 5_000,
            "message": {
                "message_id": 901,
                "date": 1_737_936_000,
                "chat": fake.chat(GROUP),
                "from": {"id": ADMIN, "is_bot": False, "first_name": "Ada"},
                "text": "/poll new Forged? | A | B",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        missing = await fake.post(fake.targets[0], forged, None)
        wrong = await fake.post(fake.targets[0], forged, "not-the-secret")
        summary = await results(fake)  # handled after the forged POSTs, on the same worker

    assert (missing, wrong) == (403, 403)
    assert not any("Forged?" in m.plain for m in fake.chat_messages(GROUP))
    assert "Forged?" not in summary
