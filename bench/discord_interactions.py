"""What the Discord adapter costs per interaction, against bare discord.py on the same fake.

Both cases run the real discord.py client against tests/fakes/discord_api.py on 127.0.0.1:
the baseline is a bare client whose one slash command answers a fixed embed, dsbot is the
DiscordFrontEnd answering /about (dispatch, catalogue, SQLite chat settings, embed
rendering) and poll button presses (a vote written to SQLite and a throttled tally edit).
Prints the median and 95th-percentile latency from the gateway event to the interaction
callback arriving at the fake, the throughput of a burst, and dsbot's ratio to the baseline.
Usage: .venv/bin/python -m bench.discord_interactions [--count 200]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from pydantic import SecretStr

from bot.config import Settings
from bot.discord_frontend import DiscordFrontEnd
from bot.services import build_services
from tests.fakes.discord_api import FakeDiscord, point_discord_py_at

TOKEN = "MTEw.bench.token"
CALLBACK = r"/interactions/{id}/[^/]+/callback"

Send = Callable[[int], Awaitable[dict[str, Any]]]


async def latencies(fake: FakeDiscord, send: Send, count: int) -> list[float]:
    """Seconds from each event being sent to its callback arriving, one at a time."""
    measured: list[float] = []
    for number in range(count):
        started = time.perf_counter()
        payload = await send(number)
        await fake.wait_for_call("POST", CALLBACK.format(id=payload["id"]), timeout=30)
        measured.append(time.perf_counter() - started)
    return measured


async def burst(fake: FakeDiscord, send: Send, count: int) -> float:
    """Seconds until all of `count` events sent at once have been answered."""
    before = len(fake.calls_to("POST", r"/interactions/\d+/[^/]+/callback"))
    started = time.perf_counter()
    for number in range(count):
        await send(number)
    await fake.wait_for(
        lambda: len(fake.calls_to("POST", r"/interactions/\d+/[^/]+/callback")) >= before + count,
        timeout=120,
    )
    return time.perf_counter() - started


def summary(name: str, measured: list[float], burst_seconds: float, count: int) -> float:
    median = statistics.median(measured)
    p95 = statistics.quantiles(measured, n=20)[-1]
    print(
        f"{name:34s} median {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  "
        f"burst of {count}: {count / burst_seconds:7.0f}/s"
    )
    return median


async def bare_discord(fake: FakeDiscord, count: int) -> tuple[list[float], float]:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)

    @tree.command(name="about", description="a fixed answer")
    async def about(interaction: discord.Interaction[Any]) -> None:
        embed = discord.Embed(title="dsbot", description="fixed")
        await interaction.response.send_message(embed=embed)

    await client.login(TOKEN)
    connection = asyncio.create_task(client.connect())
    await fake.wait_until_connected(sessions=len(fake.sessions) + 1)
    try:
        measured = await latencies(fake, lambda n: fake.slash("about"), count)
        seconds = await burst(fake, lambda n: fake.slash("about"), count)
    finally:
        await client.close()
        await connection
    return measured, seconds


async def main_async(count: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    settings = Settings(
        discord_bot_token=SecretStr(TOKEN),
        dsbot_database=folder / "bench.sqlite3",
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )
    fake = FakeDiscord()
    await fake.start()
    with point_discord_py_at(fake):
        bare, bare_burst = await bare_discord(fake, count)
        async with build_services(settings) as services:
            front_end = DiscordFrontEnd(settings, services)
            await front_end.start()
            try:
                about, about_burst = (
                    await latencies(fake, lambda n: fake.slash("about"), count),
                    await burst(fake, lambda n: fake.slash("about"), count),
                )
                shown = await fake.slash("poll", [{"name": "show", "type": 1, "options": []}])
                await fake.wait_for_call("POST", CALLBACK.format(id=shown["id"]))
                # Under load the answer may be deferred: wait for the message with buttons.
                message = await fake.wait_for(
                    lambda: next((m for m in fake.messages.values() if m["components"]), None),
                    timeout=60,
                )
                option = message["components"][0]["components"][0]["custom_id"]

                def press(number: int) -> Awaitable[dict[str, Any]]:
                    return fake.press(message, option, user_id=10**18 + number)

                votes = await latencies(fake, press, count)
                votes_burst = await burst(fake, lambda n: press(count + n), count)
            finally:
                await front_end.stop()
    await fake.close()
    print(f"interactions per case: {count} one at a time, then {count} at once")
    base = summary("bare discord.py fixed embed", bare, bare_burst, count)
    dsbot = summary("dsbot /about", about, about_burst, count)
    vote = summary("dsbot poll button vote", votes, votes_burst, count)
    print(f"dsbot /about vs bare discord.py: median latency {dsbot / base:.2f}x")
    print(f"dsbot poll vote vs bare discord.py: median latency {vote / base:.2f}x")
    print(f"burst throughput, /about vs bare: {bare_burst / about_burst:.2f}x")
    print(f"burst throughput, poll vote vs bare: {bare_burst / votes_burst:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main_async(parser.parse_args().count))


if __name__ == "__main__":
    main()
