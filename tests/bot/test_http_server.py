"""/healthz, /readyz and /metrics, asked over HTTP on 127.0.0.1 like a load balancer would."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import Settings
from bot.cooldowns import Cooldowns, Rate, guarded
from bot.dispatch import Dispatch
from bot.health import Health, State
from bot.http_server import HttpServer, ListenFailed, serving_http
from bot.services import build_services
from handlers.model import Services
from storage.facts import Facts
from tests.bot.test_console import run_dsbot
from tests.bot.test_telegram_run import dsbot_run, environment
from tests.conftest import make_request, offline_settings
from tests.fakes.telegram_api import FakeBotApi

COMMAND_NAMES = {
    "start",
    "help",
    "about",
    "stocks",
    "cost",
    "factcheck",
    "outages",
    "poll",
    "recap",
    "settings",
}


def listening(**overrides: Any) -> Settings:
    """Offline settings serving HTTP on a free port of 127.0.0.1."""
    values = offline_settings().model_dump()
    values.update({"dsbot_http_listen": "127.0.0.1:0", **overrides})
    return Settings(**values, _env_file=None)


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture
async def server(health: Health, services: Services) -> AsyncIterator[HttpServer]:
    async with serving_http(listening(), health, services) as server:
        assert server is not None
        yield server


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(client: aiohttp.ClientSession, server: HttpServer, path: str) -> tuple[int, Any]:
    async with client.get(server.url + path) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, by name and labels, read by Prometheus's own parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def value(
    page: dict[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    *,
    role: str = "scheduler",
    **labels: str,
) -> float:
    """A sample; `role` is the process's roles, the scheduler alone where no token is set."""
    return page[(name, frozenset({**labels, "role": role}.items()))]


def counted(server: HttpServer, cooldowns: Cooldowns | None = None) -> Dispatch:
    """The dispatcher chain `dsbot run` builds: dispatch behind the cooldowns, counted."""
    return server.metrics.counted(guarded(cooldowns))


# -- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize("listen", ["9090", "localhost:http", "127.0.0.1:70000", ":9090"])
def test_a_listen_address_that_is_not_host_and_port_is_a_configuration_error(
    listen: str, tmp_path: Path
) -> None:
    result = run_dsbot("ask", "/help", tmp_path=tmp_path, env={"DSBOT_HTTP_LISTEN": listen})

    assert result.returncode == 3
    assert result.stderr == (
        f'DSBOT_HTTP_LISTEN: "{listen}" is not host:port (e.g. 127.0.0.1:9090 or [::1]:9090)\n'
    )


# -- /healthz and /readyz --------------------------------------------------------------------


async def test_healthz_answers_200_while_the_process_runs_its_loop(
    server: HttpServer, client: aiohttp.ClientSession
) -> None:
    status, body = await get(client, server, "/healthz")

    assert status == 200
    assert body == {"status": "ok"}


async def test_readyz_is_503_while_a_front_end_is_down_and_200_once_it_connects(
    server: HttpServer, client: aiohttp.ClientSession, health: Health
) -> None:
    health.expect("telegram")
    health.expect("discord")
    health.set("telegram", State.CONNECTED)
    health.set("discord", State.RETRYING)

    down_status, down = await get(client, server, "/readyz")
    health.set("discord", State.CONNECTED)
    up_status, up = await get(client, server, "/readyz")

    assert down_status == 503
    assert down == {
        "ready": False,
        "database": "ok",
        "components": {"discord": "retrying", "telegram": "connected"},
    }
    assert up_status == 200
    assert up == {
        "ready": True,
        "database": "ok",
        "components": {"discord": "connected", "telegram": "connected"},
    }


async def test_readyz_is_503_when_the_database_does_not_answer(
    facts: Facts, health: Health, client: aiohttp.ClientSession
) -> None:
    async with build_services(offline_settings(), facts=facts) as services:
        pass  # leaving closes the database under these Services
    health.expect("telegram")
    health.set("telegram", State.CONNECTED)

    async with serving_http(listening(), health, services) as server:
        assert server is not None
        status, body = await get(client, server, "/readyz")

    assert status == 503
    assert body == {
        "ready": False,
        "database": "unavailable",
        "components": {"telegram": "connected"},
    }


async def test_an_address_already_in_use_is_a_clear_configuration_error(
    server: HttpServer, health: Health, services: Services
) -> None:
    taken = listening(dsbot_http_listen=f"127.0.0.1:{server.port}")

    with pytest.raises(
        ListenFailed, match=rf"cannot listen on DSBOT_HTTP_LISTEN=127.0.0.1:{server.port}"
    ):
        async with serving_http(taken, health, services):
            pass


async def test_nothing_is_served_when_dsbot_http_listen_is_unset(
    health: Health, services: Services
) -> None:
    async with serving_http(offline_settings(), health, services) as server:
        assert server is None


# -- /metrics --------------------------------------------------------------------------------


async def test_metrics_count_commands_by_name_and_votes_through_the_poll(
    server: HttpServer, client: aiohttp.ClientSession, services: Services
) -> None:
    ask = counted(server)
    await ask(make_request("/cost training"), services)
    await ask(make_request("/cost"), services)
    await ask(make_request("/poll vote 1", user_id="alice"), services)
    await ask(make_request("/poll vote 3", user_id="bob"), services)
    # The same choice again commits nothing: not a vote.
    await ask(make_request("/poll vote 3", user_id="bob"), services)

    status, text = await get(client, server, "/metrics")

    assert status == 200
    page = samples(text)
    assert value(page, "dsbot_commands_total", platform="console", command="cost") == 2
    assert value(page, "dsbot_commands_total", platform="console", command="poll") == 3
    assert value(page, "dsbot_commands_total", platform="telegram", command="cost") == 0
    assert value(page, "dsbot_votes_total", platform="console") == 2
    assert value(page, "dsbot_command_seconds_count", platform="console") == 5


async def test_metrics_count_a_vote_by_button_under_its_command(
    server: HttpServer, client: aiohttp.ClientSession, services: Services
) -> None:
    ask = counted(server)
    # The DeepSeek poll is #1; option 0 is its first answer.
    await ask(make_request(platform="telegram", action="poll:1:0", delivery_id="q1"), services)

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    assert value(page, "dsbot_commands_total", platform="telegram", command="poll") == 1
    assert value(page, "dsbot_votes_total", platform="telegram") == 1


async def test_metrics_count_refusals_by_kind_and_cooldown_refusals_as_rate_limited(
    server: HttpServer, client: aiohttp.ClientSession, services: Services
) -> None:
    ask = counted(server, Cooldowns(per_user=Rate(3, 60.0), per_chat=Rate(100, 60.0)))
    await ask(make_request("/nosuchcommand"), services)
    await ask(make_request("/poll vote 99"), services)
    await ask(make_request("/help"), services)
    await ask(make_request("/help"), services)  # the fourth in a minute: over the cooldown

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    assert (
        value(page, "dsbot_command_errors_total", platform="console", kind="unknown_command") == 1
    )
    assert value(page, "dsbot_command_errors_total", platform="console", kind="user") == 1
    assert value(page, "dsbot_command_errors_total", platform="console", kind="internal") == 0
    assert value(page, "dsbot_rate_limited_total", platform="console", source="cooldown") == 1


async def test_command_labels_stay_bounded_under_a_thousand_distinct_unknown_commands(
    server: HttpServer, client: aiohttp.ClientSession, services: Services
) -> None:
    ask = counted(server)
    for number in range(1000):
        request = make_request(f"/nosuch{number}", user_id=f"user{number}", chat_id=f"chat{number}")
        await ask(request, services)

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    commands = {dict(labels)["command"] for name, labels in page if name == "dsbot_commands_total"}
    assert commands == COMMAND_NAMES | {"unknown"}
    assert value(page, "dsbot_commands_total", platform="console", command="unknown") == 1000
    assert "nosuch" not in text and "user1" not in text and "chat1" not in text


async def test_metrics_show_each_front_ends_connection_from_health(
    server: HttpServer, client: aiohttp.ClientSession, health: Health
) -> None:
    health.set("telegram", State.CONNECTED)
    health.set("discord", State.LOST)

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    assert value(page, "dsbot_frontend_connected", platform="telegram") == 1
    assert value(page, "dsbot_frontend_connected", platform="discord") == 0


async def test_metrics_show_the_market_fetches_by_result(
    server: HttpServer, client: aiohttp.ClientSession, services: Services
) -> None:
    services.market.counters.latest_fetches = 2
    services.market.counters.history_fetches = 1
    services.market.counters.failures = 4

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    assert value(page, "dsbot_market_fetches_total", result="ok") == 3
    assert value(page, "dsbot_market_fetches_total", result="error") == 4
    assert value(page, "dsbot_market_fetches_total", result="unknown_symbol") == 0
    assert value(page, "dsbot_market_fetches_total", result="circuit_open") == 0


# -- `dsbot run` ----------------------------------------------------------------------------


async def served_url(process: asyncio.subprocess.Process) -> str:
    """The address `dsbot run` logs once its HTTP server listens (port 0 picks a free one)."""
    assert process.stderr is not None
    while line := await asyncio.wait_for(process.stderr.readline(), timeout=60):
        if match := re.search(
            r"serving /healthz, /readyz and /metrics on (http://\S+)", line.decode()
        ):
            return match[1]
    raise AssertionError("dsbot run ended without serving HTTP")


async def test_dsbot_run_serves_health_and_counts_telegram_commands_in_metrics(
    telegram_fake: FakeBotApi, tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    env = environment(telegram_fake, tmp_path / "dsbot.sqlite3")
    env["DSBOT_HTTP_LISTEN"] = "127.0.0.1:0"

    async with dsbot_run(env, tmp_path) as process:
        url = await served_url(process)
        async with client.get(url + "/healthz") as response:
            healthz = response.status
        await telegram_fake.wait_for("setMyCommands", 2, timeout=60)
        telegram_fake.send_command("/cost training")
        await telegram_fake.wait_for("sendMessage", 1, timeout=30)
        async with client.get(url + "/readyz") as response:
            readyz = response.status, await response.json()
        async with client.get(url + "/metrics") as response:
            page = samples(await response.text())
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, stderr.decode()
    assert healthz == 200
    status, body = readyz
    assert (status, body["ready"], body["database"]) == (200, True, "ok")
    # The scheduler is reported (it may still be loading its calendar) but gates nothing.
    assert body["components"]["telegram"] == "connected"
    assert "scheduler" in body["components"]
    assert (
        value(
            page,
            "dsbot_commands_total",
            platform="telegram",
            command="cost",
            role="telegram,scheduler",
        )
        == 1
    )
    assert (
        value(page, "dsbot_frontend_connected", platform="telegram", role="telegram,scheduler") == 1
    )


class Shown(logging.Handler):
    """What a log handler without a level of its own (as `dsbot run`'s) is given."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.names.append(record.name)


@pytest.fixture
def shown_at_warning() -> Iterator[Shown]:
    root = logging.getLogger()
    handler, level = Shown(), root.level
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


async def test_metrics_count_the_429s_the_platform_libraries_wait_out_logging_as_before(
    shown_at_warning: Shown, server: HttpServer, client: aiohttp.ClientSession
) -> None:
    # The lines discord.py and python-telegram-bot log when the platform answers 429.
    logging.getLogger("discord.http").warning(
        "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
        "POST",
        "https://discord.com/api/v10/channels/1/messages",
        1.5,
    )
    logging.getLogger("telegram.ext.AIORateLimiter").info(
        "Rate limit hit. Retrying after %f seconds", 3.1
    )

    _, text = await get(client, server, "/metrics")

    page = samples(text)
    assert value(page, "dsbot_rate_limited_total", platform="discord", source="platform") == 1
    assert value(page, "dsbot_rate_limited_total", platform="telegram", source="platform") == 1
    # At WARNING the warning is shown once, as before, and the INFO line is not.
    assert shown_at_warning.names == ["discord.http"]
