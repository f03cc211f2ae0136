"""`dsbot discord-sync` and `dsbot run` (Discord alone, and both platforms) as a user runs them.

Discord that is down when the bot starts is a port where nothing listens yet; the fake is
started there later, as Discord answering again.

The CLI runs in a child process; a few lines before `main` point discord.py at the fake
Discord served by this test (there is no environment variable for that on purpose: a
production bot talks to Discord only).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot.conftest import unused_port
from tests.bot.test_secrets import CheckedDiscord
from tests.conftest import dsbot_environment
from tests.fakes import telegram_api
from tests.fakes.discord_api import GUILD_ID, FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMg.cli-canary.Discord-token-that-must-never-be-logged"
PROBE = """
import sys
import discord.gateway, discord.http, yarl
discord.http.Route.BASE = sys.argv[1]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
from bot.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def dsbot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dsbot_environment()
    env.update(
        {
            "DISCORD_BOT_TOKEN": TOKEN,
            "DSBOT_DATABASE": str(tmp_path / "dsbot.sqlite3"),
            "DSBOT_MARKET": "offline",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


async def start_dsbot(
    fake: FakeDiscord, tmp_path: Path, *args: str, **env: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PROBE,
        fake.api_base,
        fake.gateway_url,
        *args,
        cwd=tmp_path,
        env=dsbot_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(stream: asyncio.StreamReader | None, marker: str) -> list[str]:
    """dsbot's log lines up to the first that contains `marker`; fails if dsbot ends first."""
    assert stream is not None
    lines: list[str] = []
    async with asyncio.timeout(60):
        while marker not in (lines[-1] if lines else ""):
            line = (await stream.readline()).decode()
            assert line, "dsbot ended:\n" + "".join(lines)
            lines.append(line)
    return lines


async def test_run_without_discord_stays_up_without_a_traceback_and_connects_when_it_answers(
    tmp_path: Path,
) -> None:
    fake = FakeDiscord()
    fake.port = unused_port()
    process = await start_dsbot(fake, tmp_path, "run")
    logged: list[str] = []
    try:
        logged += await read_until(process.stderr, "discord: unreachable")
        logged += await read_until(process.stderr, "discord: unreachable")  # tried again
        await fake.start()
        await fake.wait_until_connected(timeout=90)
        interaction = await fake.slash("about")
        await fake.wait_for_call("POST", rf"/interactions/{interaction['id']}/[^/]+/callback")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        await fake.close()
    output = "".join(logged) + stderr.decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "Cannot connect to host 127.0.0.1" in logged[-1]  # the outage, in one line
    assert "discord: connected" in output
    assert TOKEN not in output


async def test_run_exits_3_when_discord_answers_at_last_and_rejects_the_token(
    tmp_path: Path,
) -> None:
    fake = CheckedDiscord("MTEwMDAwMDAwMDAwMDAwMDAwMg.other.the-token-Discord-knows-this-bot-by")
    fake.port = unused_port()
    process = await start_dsbot(fake, tmp_path, "run")
    try:
        logged = await read_until(process.stderr, "discord: unreachable")
        await fake.start()
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await fake.close()
    output = "".join(logged) + stderr.decode()
    assert process.returncode == 3, output
    assert "dsbot: Discord rejected DISCORD_BOT_TOKEN" in output
    assert "Traceback" not in output
    assert TOKEN not in output and TOKEN.split(".")[-1] not in output


async def test_discord_sync_uploads_the_commands_to_one_guild(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    process = await start_dsbot(fake, tmp_path, "discord-sync", "--guild", str(GUILD_ID))
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    (put,) = fake.calls_to("PUT", rf"/applications/\d+/guilds/{GUILD_ID}/commands")
    assert f"synced {len(put.json)} Discord commands to guild {GUILD_ID}" in stdout.decode()
    assert fake.sessions == []


async def test_discord_sync_without_a_token_says_what_is_missing(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    process = await start_dsbot(fake, tmp_path, "discord-sync", DISCORD_BOT_TOKEN="")
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 3
    assert "DISCORD_BOT_TOKEN" in stderr.decode()
    assert fake.calls == []


async def test_run_serves_discord_and_stops_cleanly_on_sigterm(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    process = await start_dsbot(fake, tmp_path, "run")
    try:
        await fake.wait_until_connected(timeout=60)
        interaction = await fake.slash("about")
        await fake.wait_for_call("POST", rf"/interactions/{interaction['id']}/[^/]+/callback")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    logged = stderr.decode()
    assert process.returncode == 0, logged
    assert "discord: connected" in logged
    assert "stopped; database closed" in logged
    assert TOKEN not in logged
    assert fake.live_session is None


async def test_run_with_both_tokens_counts_a_telegram_and_a_discord_vote_in_one_poll(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    telegram = await telegram_api.FakeBotApi().start()
    group = -100_2025_0127
    process = await start_dsbot(
        fake,
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
    )
    try:
        await fake.wait_until_connected(timeout=60)
        telegram.send_command("/poll vote 1", chat_id=group)
        vote = subcommand("vote", option("choices", "2"))
        discord_vote = await fake.slash("poll", [vote])
        await fake.wait_for_call("POST", rf"/interactions/{discord_vote['id']}/[^/]+/callback")
        await telegram.wait_for("sendMessage", timeout=30)

        telegram.send_command("/poll results", chat_id=group)
        discord_results = await fake.slash("poll", [subcommand("results")])
        edited = rf"/webhooks/\d+/itoken-{discord_results['id']}/messages/@original"
        (edit,) = await fake.wait_for_call("PATCH", edited, timeout=60)
        await telegram.wait_until(lambda: bool(results_shown(telegram, group)), timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        await telegram.close()
    logged = stderr.decode()
    assert process.returncode == 0, logged
    shown = results_shown(telegram, group)
    discord_text = "\n".join(e.get("description", "") for e in edit.json["embeds"])
    both = "Voters: 2 (Telegram 1 · Discord 1)"
    assert len(shown) == 1 and both in shown[0], shown
    assert both in discord_text
    assert TOKEN not in logged and telegram.token not in logged


def results_shown(telegram: telegram_api.FakeBotApi, chat: int) -> list[str]:
    return [m.plain for m in telegram.chat_messages(chat) if "Results of poll" in m.plain]


def option(name: str, value: object, kind: int = 3) -> dict[str, object]:
    return {"name": name, "type": kind, "value": value}


def subcommand(name: str, *options: dict[str, object]) -> dict[str, object]:
    return {"name": name, "type": 1, "options": list(options)}
