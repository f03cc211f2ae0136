"""Bot tokens never leave the process except to the platform that issued them.

`dsbot run` runs as a child process with both tokens set to canaries, at DEBUG level, against
the fake Telegram and Discord servers, through start-up, commands, faults, a handler bug and
SIGTERM; then every byte it produced (stdout, stderr, what the fakes received, the database
and every other file it wrote) is searched for the canaries and their obvious derived forms.
The only places a token may appear are the ones the platforms require: the Bot API URL path
for Telegram, the Authorization header and the gateway IDENTIFY for Discord.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from aiohttp import web
from pydantic import SecretStr, ValidationError

from bot.config import Settings
from bot.logs import REDACTED, RedactSecrets
from tests.conftest import dsbot_environment
from tests.fakes.discord_api import EVERYDAY_PERMISSIONS, MANAGE_GUILD, FakeDiscord, RestCall
from tests.fakes.telegram_api import BOT_ID, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
GROUP = -1001_234_567_890
OWNER = 42
TELEGRAM_CANARY = f"{BOT_ID}:AAcanaryTelegramSecret_0123456789xyzQ"
DISCORD_CANARY = "MTEwMDAwMDAwMDAwMDAwMDAwMg.GcAnRy.canaryDiscordSecret_do-not-log-9876"
# Points discord.py at the fake (there is deliberately no setting for that) and plants a
# handler bug whose exception quotes the token, as a library error quoting a URL would.
PROBE = """
import dataclasses, os, sys
import discord.gateway, discord.http, yarl
discord.http.Route.BASE = sys.argv[1]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
from handlers import registry

async def broken(request, services):
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
    raise RuntimeError(f"could not reach https://api.telegram.org/bot{token}/getMe "
                       f"with {os.environ.get('DISCORD_BOT_TOKEN', '')!r}")

about = registry.REGISTRY.by_name["about"]
broken_form = dataclasses.replace(about.default, handler=broken)
broken_about = dataclasses.replace(about, forms=(broken_form,))
registry.REGISTRY = dataclasses.replace(
    registry.REGISTRY,
    commands=tuple(broken_about if c is about else c for c in registry.REGISTRY.commands),
)
from bot.__main__ import main
sys.exit(main(sys.argv[3:]))
"""
# The same, and then everything that bypasses the logging handlers by default goes wrong, each
# quoting the token: a warning, an exception in a thread, an exception in __del__, and a
# crash out of `dsbot run` itself.
CRASH_PROBE = PROBE.replace(
    "from bot.__main__ import main",
    """
import threading, warnings
import bot.runner
secret = os.environ["TELEGRAM_BOT_TOKEN"]

class Leaky:
    def __del__(self):
        raise ValueError(f"closing https://api.telegram.org/bot{secret}/close")

def in_thread():
    raise OSError(f"reset by https://api.telegram.org/bot{secret}/sendMessage")

async def crash(settings):
    warnings.warn(f"deprecated URL https://api.telegram.org/bot{secret}/getMe")
    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    Leaky()
    raise RuntimeError(f"unexpected answer from https://api.telegram.org/bot{secret}/getMe")

bot.runner.run_front_ends = crash
from bot.__main__ import main""",
)


def derived_forms(token: str) -> set[str]:
    """The token, its secret part, and the ways a URL or a repr would spell either."""
    secret = token.split(":", 1)[1] if ":" in token else token.rsplit(".", 1)[-1]
    forms = {token, secret}
    for value in (token, secret):
        forms |= {quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    return forms


def leaks(haystack: str | bytes, tokens: Iterable[str]) -> list[str]:
    """Which forms of `tokens` occur in `haystack`."""
    text = haystack.decode("utf-8", "replace") if isinstance(haystack, bytes) else haystack
    return sorted(form for token in tokens for form in derived_forms(token) if form in text)


def test_derived_forms_catch_the_secret_part_and_url_encoding() -> None:
    assert leaks("/bot7000000001%3AAAcanaryTelegramSecret_0123456789xyzQ/x", [TELEGRAM_CANARY])
    assert leaks("Bearer canaryDiscordSecret_do-not-log-9876", [DISCORD_CANARY])
    assert leaks("nothing secret here", [TELEGRAM_CANARY, DISCORD_CANARY]) == []


@pytest.mark.parametrize("token", [TELEGRAM_CANARY, DISCORD_CANARY])
def test_the_log_filter_redacts_every_derived_form_of_a_token(token: str) -> None:
    forms = sorted(derived_forms(token))
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, " / ".join(["%s"] * len(forms)), tuple(forms), None
    )

    RedactSecrets([token]).filter(record)

    assert leaks(record.getMessage(), [token]) == []
    assert record.getMessage().count(REDACTED) == len(forms)


class CheckedDiscord(FakeDiscord):
    """The fake Discord, refusing a bot call not made with `token` as Discord does.

    Interaction responses are authorised by the interaction's own token in the path instead.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    async def _answer(self, call: RestCall) -> web.StreamResponse:
        by_interaction = call.path.startswith(("/interactions/", "/webhooks/"))
        if not by_interaction and call.headers.get("Authorization") != f"Bot {self.token}":
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return await super()._answer(call)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi(token=TELEGRAM_CANARY).start()
    api.owners[GROUP] = OWNER
    yield api
    await api.close()


@pytest.fixture
async def discord_fake() -> AsyncIterator[CheckedDiscord]:
    server = CheckedDiscord(DISCORD_CANARY)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def environment(work: Path, **tokens: str) -> dict[str, str]:
    env = dsbot_environment()
    env.update(
        DSBOT_DATABASE=str(work / "dsbot.sqlite3"),
        DSBOT_MARKET="offline",
        DSBOT_LOG_LEVEL="debug",
        PYTHONPATH=str(ROOT),
        **tokens,
    )
    return env


async def start_dsbot(
    discord_fake: FakeDiscord, work: Path, env: dict[str, str], *args: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PROBE,
        discord_fake.api_base,
        discord_fake.gateway_url,
        *args,
        cwd=work,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def option(name: str, value: object, kind: int = 3) -> dict[str, object]:
    return {"name": name, "type": kind, "value": value}


def discord_received(fake: FakeDiscord) -> str:
    """Everything the bot sent Discord except the two places the token belongs."""
    pieces: list[str] = []
    for call in fake.calls:
        headers = {k: v for k, v in call.headers.items() if k.lower() != "authorization"}
        pieces.append(f"{call.method} {call.path} {call.query} {headers} {call.json!r}")
        pieces.extend(repr(content) for _, content in call.files)
    for session in fake.sessions:
        identify = dict(session.identify or {})
        identify.pop("token", None)
        pieces.append(json.dumps(identify))
    return "\n".join(pieces)


def telegram_received(fake: FakeBotApi) -> str:
    """Every parameter of every Bot API call (the token travels in the URL path only)."""
    return "\n".join(f"{call.method} {call.params!r}" for call in fake.calls)


def failed_polls(fake: FakeBotApi) -> list[int]:
    """Statuses of the getUpdates calls that failed (0: the connection was dropped)."""
    return [call.status for call in fake.attempts("getUpdates") if call.status != 200]


def confirmed(fake: FakeBotApi, update: dict[str, object]) -> bool:
    """Whether a getUpdates offset has moved past `update`, as Telegram takes it for handled."""
    offsets = [int(str(params.get("offset") or 0)) for params in fake.sent("getUpdates")]
    return max(offsets, default=0) > int(str(update["update_id"]))


def files_written(work: Path) -> dict[str, bytes]:
    return {str(path): path.read_bytes() for path in work.rglob("*") if path.is_file()}


async def test_a_whole_run_with_faults_and_a_handler_bug_never_shows_either_token(
    telegram: FakeBotApi, discord_fake: CheckedDiscord, tmp_path: Path
) -> None:
    env = environment(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TELEGRAM_CANARY,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        DISCORD_BOT_TOKEN=DISCORD_CANARY,
    )
    process = await start_dsbot(discord_fake, tmp_path, env, "run")
    try:
        await telegram.wait_for("setMyCommands", 2, timeout=60)
        await discord_fake.wait_until_connected(timeout=60)

        # Telegram: ordinary commands, a moderator's poll, a refused member, the handler bug,
        # then a 500, a 401 and a 429 on replies and failing long polls.
        telegram.send_command("/cost training")
        telegram.send_command("/poll new Lunch? | Pizza | Sushi", chat_id=GROUP, user_id=OWNER)
        telegram.send_command("/settings lang zh", chat_id=GROUP, user_id=7)
        telegram.send_command("/about")
        await telegram.wait_for("sendMessage", 4, timeout=30)
        telegram.inject("sendMessage", status=500, times=1)
        telegram.inject("sendMessage", status=401, description="Unauthorized", times=1)
        telegram.send_command("/help")
        telegram.send_command("/outages")
        # The 500 and the 401 each take the next attempt and a 500 is retried: the fifth
        # delivered reply comes third, when neither command has a reply left in flight.
        await telegram.wait_for("sendMessage", 5, timeout=30)
        assert [call.status for call in telegram.attempts("sendMessage")][4:] == [500, 401, 200]
        telegram.inject("sendMessage", retry_after=1, times=1)
        telegram.send_command("/factcheck")
        await telegram.wait_for("sendMessage", 6, timeout=30)
        assert [call.status for call in telegram.attempts("sendMessage")][-2:] == [429, 200]
        telegram.inject("getUpdates", status=502, times=1)
        telegram.inject("getUpdates", drop=True, times=1)
        await telegram.wait_until(lambda: failed_polls(telegram) == [502, 0], timeout=30)
        last = telegram.send_command("/about", user_id=8)
        await telegram.wait_for("sendMessage", 7, timeout=30)

        # Discord: a command, the handler bug, a refused member, a 429 on a callback.
        callback = r"/interactions/\d+/[^/]+/callback"
        discord_fake.rate_limits[callback] = 1
        for name, options, permissions in (
            ("cost", [option("input", "2M")], EVERYDAY_PERMISSIONS),
            ("about", None, EVERYDAY_PERMISSIONS),
            ("settings", [option("lang", "zh")], EVERYDAY_PERMISSIONS),
            ("settings", [option("tz", "Asia/Shanghai")], MANAGE_GUILD),
        ):
            interaction = await discord_fake.slash(name, options, permissions=permissions)
            await discord_fake.wait_for_call(
                "POST", rf"/interactions/{interaction['id']}/[^/]+/callback", timeout=30
            )
        # Every Telegram update was taken: the bot's getUpdates offset has moved past the last.
        await telegram.wait_until(lambda: confirmed(telegram, last), timeout=30)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 0, logged[-3000:]
    tokens = (TELEGRAM_CANARY, DISCORD_CANARY)
    assert leaks(stdout, tokens) == []
    assert leaks(logged, tokens) == []
    assert leaks(telegram_received(telegram), tokens) == []
    assert leaks(discord_received(discord_fake), tokens) == []
    written = files_written(tmp_path)
    assert str(tmp_path / "dsbot.sqlite3") in written
    assert {name: found for name, data in written.items() if (found := leaks(data, tokens))} == {}
    # The run went through what it was meant to: debug lines, the bug, the faults.
    assert " DEBUG " in logged
    assert "handler failed on telegram command='about'" in logged
    assert "handler failed on discord command='about'" in logged
    assert "[redacted]" in logged
    assert [call.status for call in telegram.attempts("sendMessage")].count(401) == 1
    assert "Telegram: getUpdates failed" in logged
    assert " ERROR bot.discord.frontend" not in logged  # Discord's replies went through
    assert discord_fake.rate_limits == {r"/interactions/\d+/[^/]+/callback": 0}
    assert "stopped; database closed" in logged


async def test_an_unexpected_crash_never_prints_the_token(
    discord_fake: FakeDiscord, telegram: FakeBotApi, tmp_path: Path
) -> None:
    env = environment(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TELEGRAM_CANARY,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        PYTHONWARNINGS="always",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASH_PROBE,
        discord_fake.api_base,
        discord_fake.gateway_url,
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 1, logged[-3000:]
    assert leaks(stdout + stderr, [TELEGRAM_CANARY]) == []
    # Each went to the log, redacted, with what a bug report needs.
    assert "deprecated URL https://api.telegram.org/bot[redacted]/getMe" in logged
    assert "OSError: reset by https://api.telegram.org/bot[redacted]/sendMessage" in logged
    assert "closing https://api.telegram.org/bot[redacted]/close" in logged
    assert "RuntimeError: unexpected answer from https://api.telegram.org/bot[redacted]" in logged


async def test_a_token_telegram_rejects_is_not_printed(
    discord_fake: FakeDiscord, telegram: FakeBotApi, tmp_path: Path
) -> None:
    wrong = f"{BOT_ID}:AAwrongCanaryTelegram_abcdefghij0123456"
    env = environment(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=telegram.base_url)
    process = await start_dsbot(discord_fake, tmp_path, env, "run")
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 3, logged[-3000:]
    assert "Telegram rejected TELEGRAM_BOT_TOKEN" in logged
    assert telegram.attempts("getMe")[0].status == 401
    assert leaks(stdout + stderr, [wrong]) == []
    assert leaks(b"".join(files_written(tmp_path).values()), [wrong]) == []


@pytest.mark.parametrize("command", ["run", "discord-sync"])
async def test_a_token_discord_rejects_is_not_printed(
    discord_fake: CheckedDiscord, tmp_path: Path, command: str
) -> None:
    wrong = "MTEwMDAwMDAwMDAwMDAwMDAwMg.WrOnGg.wrongCanaryDiscord_abcdefghij-0123"
    env = environment(tmp_path, DISCORD_BOT_TOKEN=wrong)
    process = await start_dsbot(discord_fake, tmp_path, env, command)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    logged = stderr.decode()
    assert process.returncode == 3, logged[-3000:]
    assert "Discord rejected DISCORD_BOT_TOKEN" in logged
    assert "Traceback" not in logged
    assert leaks(stdout + stderr, [wrong]) == []
    assert leaks(b"".join(files_written(tmp_path).values()), [wrong]) == []


def test_settings_never_show_the_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_CANARY)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_CANARY)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())]

    tokens = (TELEGRAM_CANARY, DISCORD_CANARY)
    assert leaks("\n".join(shown), tokens) == []
    assert settings.telegram_bot_token == SecretStr(TELEGRAM_CANARY)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DSBOT_TZ", "Mars/Olympus_Mons"),
        ("DSBOT_MARKET", "sometimes"),
        ("DSBOT_LOG_LEVEL", "chatty"),
        ("DSBOT_MARKET_TTL", "-1"),
    ],
)
def test_a_configuration_error_never_shows_the_tokens(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_CANARY)
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_CANARY)
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None)  # type: ignore[call-arg]

    error: Any = raised.value
    shown = "\n".join([str(error), repr(error), json.dumps(error.errors(), default=str)])
    assert variable.lower() in shown
    assert leaks(shown, (TELEGRAM_CANARY, DISCORD_CANARY)) == []
