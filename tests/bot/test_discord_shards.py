"""Discord with 2 shards in 2 `dsbot run` processes on one PostgreSQL, against the fake gateway.

Each process runs one shard (DISCORD_SHARD_COUNT=2, DISCORD_SHARD_IDS=0 or 1): the fake
routes a guild's interactions to shard (guild_id >> 22) % 2 and direct messages to shard 0,
and the process running that shard answers (its /metrics count the command). Only the shard-0
process syncs the command tree, and only when the tree differs from the one last synced, whose
hash both find in the shared database. Which process handled a command is read off its own
/metrics, so nothing in the product has to say it.

The processes are started with DSBOT_ROLES=discord, what a shard process of a deployment runs
with; on a build without roles they also run the recap jobs, which have nothing to send here.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.bot.test_discord_cli import TOKEN, dsbot_env
from tests.bot.test_http_server import served_url
from tests.fakes.discord_api import FakeDiscord

# Snowflakes chosen for Discord's formula shard_id = (guild_id >> 22) % num_shards:
# (1100000000004194307 >> 22) % 2 == 0 and (1100000000000000003 >> 22) % 2 == 1.
SHARD_0_GUILD = 1_100_000_000_004_194_307
SHARD_1_GUILD = 1_100_000_000_000_000_003
SHARD_0_CHANNEL = 1_100_000_000_004_194_308
SHARD_1_CHANNEL = 1_100_000_000_000_000_004
GLOBAL_SYNC = r"/applications/\d+/commands"
# A new release whose /about reads differently: the command payload, and so its hash, change.
PROBE = """
import os, sys
import discord.gateway, discord.http, yarl
discord.http.Route.BASE = sys.argv[1]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(sys.argv[2])
if os.environ.get("PROBE_ABOUT_SUMMARY"):
    from handlers.i18n import catalogue
    catalogue("en")["help.summary_about"] = os.environ["PROBE_ABOUT_SUMMARY"]
from bot.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


@dataclass
class ShardProcess:
    shard: int
    process: asyncio.subprocess.Process
    url: str = ""
    log: str = ""  # what it logged, once it stopped


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    server.add_guild(SHARD_0_GUILD, SHARD_0_CHANNEL)
    server.add_guild(SHARD_1_GUILD, SHARD_1_CHANNEL)
    server.recommended_shards = 2
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def two_shards(
    fake: FakeDiscord, tmp_path: Path, database: str, **env: str
) -> AsyncIterator[list[ShardProcess]]:
    """Processes A (shard 0) and B (shard 1), serving /metrics, both shards connected.

    B starts first and is connected before A starts: were B to sync, it would find no hash (or
    an old one) in the database and sync, every time, rather than when it loses a race.
    """
    shards: list[ShardProcess] = []
    for shard in (1, 0):
        folder = tmp_path / f"shard{shard}"
        folder.mkdir(exist_ok=True)
        environment = dsbot_env(
            folder,
            DSBOT_DATABASE=database,
            DSBOT_ROLES="discord",
            DISCORD_SHARD_COUNT="2",
            DISCORD_SHARD_IDS=str(shard),
            DSBOT_HTTP_LISTEN="127.0.0.1:0",
            **env,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PROBE,
            fake.api_base,
            fake.gateway_url,
            "run",
            cwd=folder,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        started = ShardProcess(shard, process)
        shards.insert(0, started)
        try:
            started.url = await served_url(process)
            await fake.wait_for(lambda shard=shard: fake.session_of_shard(shard), timeout=90)
        except BaseException:
            await stop(shards)
            raise
    try:
        yield shards
    finally:
        await stop(shards)
    for shard_process in shards:
        assert shard_process.process.returncode == 0, shard_process.log
        assert "Traceback" not in shard_process.log, shard_process.log
        assert TOKEN not in shard_process.log


async def stop(shards: list[ShardProcess]) -> None:
    for shard_process in shards:
        if shard_process.process.returncode is None:
            shard_process.process.send_signal(signal.SIGTERM)
    for shard_process in shards:
        _, stderr = await asyncio.wait_for(shard_process.process.communicate(), 60)
        shard_process.log = stderr.decode()


async def commands_counted(url: str, command: str) -> float:
    """dsbot_commands_total for a Discord command on one process's /metrics (any other labels,
    such as a process role, summed over)."""
    async with aiohttp.ClientSession() as client, client.get(url + "/metrics") as response:
        page = await response.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == "dsbot_commands_total"
        and sample.labels.get("platform") == "discord"
        and sample.labels.get("command") == command
    )


async def answered(fake: FakeDiscord, interaction: dict[str, object]) -> None:
    await fake.wait_for_call("POST", rf"/interactions/{interaction['id']}/[^/]+/callback", 1, 60)


async def test_each_shard_process_answers_its_guilds_and_direct_messages_come_to_shard_0(
    fake: FakeDiscord, tmp_path: Path, pg_url: str
) -> None:
    async with two_shards(fake, tmp_path, pg_url) as (process_a, process_b):
        in_guild_0 = await fake.slash("about", guild_id=SHARD_0_GUILD)
        await answered(fake, in_guild_0)
        in_guild_1 = await fake.slash("about", guild_id=SHARD_1_GUILD)
        await answered(fake, in_guild_1)
        direct = await fake.slash("cost", guild=False)
        await answered(fake, direct)
        a_about = await commands_counted(process_a.url, "about")
        b_about = await commands_counted(process_b.url, "about")
        a_cost = await commands_counted(process_a.url, "cost")
        b_cost = await commands_counted(process_b.url, "cost")

    identified = sorted(tuple(s.identify["shard"]) for s in fake.sessions if s.identify)
    assert identified == [(0, 2), (1, 2)]
    assert fake.delivered_on[int(str(in_guild_0["id"]))] == (0, 2)
    assert fake.delivered_on[int(str(in_guild_1["id"]))] == (1, 2)
    assert fake.delivered_on[int(str(direct["id"]))] == (0, 2)
    assert (a_about, b_about) == (1, 1)
    assert (a_cost, b_cost) == (1, 0)


async def test_only_the_shard_0_process_syncs_and_only_when_the_commands_changed(
    fake: FakeDiscord, tmp_path: Path, pg_url: str
) -> None:
    async with two_shards(fake, tmp_path, pg_url) as first:
        first_start = len(fake.calls_to("PUT", GLOBAL_SYNC))
    async with two_shards(fake, tmp_path, pg_url) as restarted:
        after_restart = len(fake.calls_to("PUT", GLOBAL_SYNC))
    changed = "What the DeepSeek moment was, in one new sentence"
    async with two_shards(fake, tmp_path, pg_url, PROBE_ABOUT_SUMMARY=changed) as upgraded:
        after_change = len(fake.calls_to("PUT", GLOBAL_SYNC))

    assert (first_start, after_restart, after_change) == (1, 1, 2)
    synced = "Discord commands globally (the command tree changed)"
    said_so = [[synced in p.log for p in run] for run in (first, restarted, upgraded)]
    # [process A (shard 0), process B (shard 1)] of each start.
    assert said_so == [[True, False], [False, False], [True, False]]
    about = [c for c in fake.commands["global"] if c["name"] == "about"]
    assert about[0]["description"] == changed
