"""A webhook worker whose PostgreSQL goes away: /readyz says so, updates are answered 5xx so
Telegram sends them again, and once the server is back each acts exactly once."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.bot.test_webhook_workers import ADMIN, GROUP, HOOK_URL, SECRET, free_port
from tests.conftest import dsbot_environment
from tests.fakes.telegram_webhook import WebhookBotApi
from tests.pg import Cluster

OTHER_GROUP = GROUP - 1


@pytest.fixture
async def fake() -> AsyncIterator[WebhookBotApi]:
    api = WebhookBotApi()
    api.owners[GROUP] = ADMIN
    api.owners[OTHER_GROUP] = ADMIN
    await api.start()
    yield api
    await api.close()


async def readiness(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as answer:
        return answer.status, await answer.json()


async def eventually_ready(url: str, expected: int, timeout: float = 60) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            status, body = await readiness(url)
            if status == expected:
                return body
        except aiohttp.ClientError:
            pass
        assert loop.time() < deadline, f"/readyz never answered {expected}"
        await asyncio.sleep(0.2)


async def test_a_database_outage_is_answered_5xx_and_every_update_acts_once_after(
    fake: WebhookBotApi, own_cluster: Cluster, tmp_path: Path
) -> None:
    hook_port, http_port = free_port(), free_port()
    http = f"http://127.0.0.1:{http_port}"
    env = dsbot_environment(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DSBOT_MARKET="offline",
        DSBOT_DATABASE=own_cluster.fresh_database(),
        DSBOT_ROLES="telegram",
        DSBOT_HTTP_LISTEN=f"127.0.0.1:{http_port}",
        TELEGRAM_WEBHOOK_URL=HOOK_URL,
        TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{hook_port}",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    fake.targets.append(f"http://127.0.0.1:{hook_port}")
    with (tmp_path / "worker.log").open("wb") as log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=log
        )
    try:
        ready = await eventually_ready(http, 200)
        fake.send_command("/poll new Before? | A | B", chat_id=GROUP, user_id=ADMIN)
        await fake.wait_until(lambda: any(m.reply_markup for m in fake.chat_messages(GROUP)), 30)
        poll = next(m for m in fake.chat_messages(GROUP) if m.reply_markup)
        poll_number = poll.plain.split("#")[1].split(":")[0]

        def results_of_poll(text: str) -> bool:
            return text.startswith(f"Results of poll #{poll_number}")

        (_, option_a), _ = poll.buttons()[:2]

        await asyncio.to_thread(own_cluster.stop)
        down = await eventually_ready(http, 503)
        command = fake.send_command("/poll new During? | X | Y", chat_id=OTHER_GROUP, user_id=ADMIN)
        fake.press(poll, option_a, user_id=60_001)
        press = fake.pushed[-1]
        ids = {command["update_id"], press["update_id"]}
        await fake.wait_until(
            lambda: {a.update_id for a in fake.attempts_made if (a.status or 0) >= 500} >= ids,
            timeout=60,
        )
        refused = [a.status for a in fake.attempts_made if a.update_id in ids]

        await asyncio.to_thread(own_cluster.start)
        await fake.wait_until(lambda: fake.delivered >= ids, timeout=90)
        await eventually_ready(http, 200)
        fake.send_command(f"/poll results {poll_number}", chat_id=GROUP, user_id=ADMIN)
        await fake.wait_until(
            lambda: any(results_of_poll(m.plain) for m in fake.chat_messages(GROUP)), 30
        )
    finally:
        worker.terminate()
        await worker.wait()

    components = ready["components"]
    assert isinstance(components, dict) and components["telegram-webhook"] == "connected"
    assert (down["ready"], down["database"]) == (False, "unavailable")
    assert refused and all(status is not None and status >= 500 for status in refused)
    texts = [m.plain for m in fake.chat_messages(GROUP)]
    during = [m.plain for m in fake.chat_messages(OTHER_GROUP)]
    assert sum(text.startswith("Poll #") and "During?" in text for text in during) == 1
    results = next(text for text in texts if results_of_poll(text))
    assert "Voters: 1 (Telegram 1)" in results
    assert "1  A           1   100%" in results
