"""What the Discord adapter costs per interaction, against bare discord.py on the same fake.

Both cases run the real discord.py client against tests/fakes/discord_api.py on 127.0.0.1:
the baseline is a bare client whose one slash command answers a fixed embed, dsbot is the
DiscordFrontEnd answering /about (dispatch, catalogue, SQLite chat settings, embed
rendering) and poll button presses (a vote written to SQLite and a throttled tally edit).
dsbot answers as `dsbot run` does (bot.services.build_services, bot.cooldowns.guarded), cooldowns
included, so the traffic is shaped like real traffic: every interaction comes from a
different member, and /about is spread over channels of USERS_PER_CHANNEL members each, so
no member (10 commands / 10 s) or channel (30 / 10 s) goes over its cooldown. Both cases get
the same interactions from the same members in the same channels.

Every measured interaction is timed until its real answer arrives at the fake (after a
deferral, the follow-up or edit that carries it), and every answer is checked: the /about
embed titled from the catalogue, the vote acknowledgement, the baseline's fixed embed. A
"slow down", an apology, an error embed or a missing answer makes the run fail (exit 1).
Prints the median and 95th-percentile latency, the throughput of a burst, and dsbot's ratio
to the baseline.

Both clients stay connected to the one fake, which sends each event to the session whose
turn it is. The bursts are measured in ROUNDS rounds of one burst per case (bare, /about,
vote, in an order that rotates), and a throughput ratio is the median of the rounds' ratios:
a spike of another process's load then falls on the cases of one round alike, where with
all of one case's bursts first it moved that case alone (0.57x-1.14x for the vote before).

A burst opens one connection per answer at once (on both sides, as discord.py does). The
fake listens with a backlog that holds the whole burst: with the default of 128 the kernel
drops the connections past it, discord.py's connect waits out a 1 s SYN retransmit, and
whichever case that struck measured the kernel's timer instead of the bot (seen as 0.2x-2.4x
swings between runs, with TcpExtListenOverflows counting the drops).
Usage: .venv/bin/python -m bench.discord_interactions [--count 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import logging
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import discord
from aiohttp import web
from discord import app_commands
from pydantic import SecretStr

from bench.replies import ReplyCheck, fail_if_any, readable, refusal_in, template_pattern
from bot.config import Settings
from bot.cooldowns import guarded
from bot.discord.frontend import DiscordFrontEnd
from bot.discord.render import ERROR_COLOUR
from bot.services import build_services
from handlers.i18n import text
from handlers.poll_view import labels_of
from tests.fakes.discord_api import (
    CHANNEL_ID,
    EVERYDAY_PERMISSIONS,
    FakeDiscord,
    GatewaySession,
    point_discord_py_at,
)

TOKEN = "MTEw.bench.token"
BARE_TITLE = "dsbot"
# Members per channel sending /about: under the per-channel cooldown's burst of 30, so a
# channel is never refused however its commands fall in time.
USERS_PER_CHANNEL = 20
ABOUT_USERS = 1_000_000_000_000_000_000
VOTERS = 2_000_000_000_000_000_000
POLL_SHOWER = 3_000_000_000_000_000_000
ANSWER_TIMEOUT = 60.0
# Rounds of one burst per case; the median of the rounds' ratios counts.
ROUNDS = 7
_CALLBACK = re.compile(r"/interactions/\d+/([^/]+)/callback")
_WEBHOOK = re.compile(r"/webhooks/\d+/([^/]+)(?:/messages/@original)?")
_DEFERRALS = (5, 6)  # "thinking..." and "acknowledged, message unchanged"

Json = dict[str, Any]
Send = Callable[[int], Awaitable[Json]]
Check = Callable[[Json], str | None]


class Answers:
    """The answer each interaction got (by token), read from the fake's calls as they arrive.

    The answer is the callback unless that was a deferral; then it is the first follow-up
    or edit of the original response.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.seen = 0
        self.by_token: dict[str, Json] = {}

    def get(self, token: str) -> Json | None:
        calls = self.fake.calls
        while self.seen < len(calls):
            call = calls[self.seen]
            self.seen += 1
            if call.method == "POST" and (match := _CALLBACK.fullmatch(call.path)):
                if call.json["type"] not in _DEFERRALS:
                    self.by_token.setdefault(match[1], call.json.get("data") or {})
            elif call.method in ("POST", "PATCH") and (match := _WEBHOOK.fullmatch(call.path)):
                self.by_token.setdefault(match[1], call.json or {})
        return self.by_token.get(token)


class BenchFake(FakeDiscord):
    """The fake Discord, listening with room for a whole burst of new connections."""

    def __init__(self, backlog: int) -> None:
        super().__init__()
        self.backlog = backlog
        self.target: GatewaySession | None = None

    @property
    def live_session(self) -> GatewaySession | None:
        """The session whose turn it is to get the events (the last connected by default)."""
        return self.target if self.target is not None else super().live_session

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=self.backlog)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.port = server.sockets[0].getsockname()[1]


def shown_text(answer: Json) -> str:
    embeds = answer.get("embeds") or []
    pieces = [answer.get("content") or ""]
    pieces += [f"{e.get('title', '')}\n{e.get('description', '')}" for e in embeds]
    return "\n".join(pieces)


def _refused(answer: Json) -> str | None:
    if key := refusal_in(shown_text(answer)):
        return key
    if any(embed.get("color") == ERROR_COLOUR.value for embed in answer.get("embeds") or []):
        return "error embed (red)"
    return None


def about_problem(answer: Json) -> str | None:
    """None when `answer` is the /about embed, titled as the English catalogue has it."""
    if problem := _refused(answer):
        return problem
    embeds = answer.get("embeds") or []
    if not embeds or readable(embeds[0].get("title", "")) != text("en", "about.title"):
        return "not the /about embed"
    return None


def vote_problem(answer: Json, poll_id: int, choice: str) -> str | None:
    """None when `answer` is the acknowledgement of a vote for `choice` in poll `poll_id`."""
    if problem := _refused(answer):
        return problem
    notice = template_pattern("poll.notice_vote", id=poll_id, choice=choice)
    if not notice.fullmatch(readable(answer.get("content") or "")):
        return "not the vote acknowledgement"
    return None


def bare_problem(answer: Json) -> str | None:
    embeds = answer.get("embeds") or []
    if not embeds or embeds[0].get("title") != BARE_TITLE:
        return "not the fixed embed"
    return None


async def slash_from(
    fake: FakeDiscord, name: str, user_id: int, channel_id: int, options: list[Json] | None = None
) -> Json:
    """A slash command from `user_id` in guild channel `channel_id` (the fake's own has one)."""
    data: Json = {"id": str(fake._command_id(name)), "name": name, "type": 1}
    if options:
        data["options"] = options
    payload = fake._interaction(
        2,
        data,
        user_id=user_id,
        locale="en-US",
        permissions=EVERYDAY_PERMISSIONS,
        roles=(),
        guild=True,
    )
    payload["channel_id"] = payload["channel"]["id"] = str(channel_id)
    # Through the fake's own dispatch, which starts the interaction's 3-second clock: sent
    # as a bare event, the fake knows no such interaction and answers 404 10062.
    await fake._dispatch_interaction(payload)
    return payload


def about_from_member(fake: FakeDiscord) -> Send:
    """/about from member `number`, in the channel of its group of USERS_PER_CHANNEL."""
    return lambda number: slash_from(
        fake, "about", ABOUT_USERS + number, CHANNEL_ID + 1 + number // USERS_PER_CHANNEL
    )


async def latencies(
    fake: FakeDiscord, answers: Answers, send: Send, numbers: range, check: Check, into: ReplyCheck
) -> list[float]:
    """Seconds from each event being sent to its answer arriving, one at a time."""
    measured: list[float] = []
    for number in numbers:
        started = time.perf_counter()
        token = (await send(number))["token"]
        try:
            answer = await fake.wait_for(lambda t=token: answers.get(t), ANSWER_TIMEOUT)
        except TimeoutError:
            into.record(f"no answer within {ANSWER_TIMEOUT:.0f} s")
            continue
        measured.append(time.perf_counter() - started)
        into.record(check(answer), shown_text(answer))
    return measured


@dataclasses.dataclass(frozen=True)
class Burst:
    wall: float  # seconds until every answer arrived
    cpu: float  # this process's CPU seconds meanwhile (the fake's, the client's, SQLite's)


async def burst(
    fake: FakeDiscord, answers: Answers, send: Send, numbers: range, check: Check, into: ReplyCheck
) -> Burst:
    """How long until all the events sent at once have been answered.

    Garbage is collected and what survives frozen first: the fake's log of every call grows
    through the run, and a full collection scanning it fell in whichever burst reached the
    threshold (the same case's bursts took 0.23-0.40 s of CPU). Every case starts alike.
    """
    gc.collect()
    gc.freeze()
    started, cpu = time.perf_counter(), time.process_time()
    tokens = [(await send(number))["token"] for number in numbers]
    pending = set(tokens)

    def all_answered() -> bool:
        pending.difference_update([t for t in pending if answers.get(t) is not None])
        return not pending

    with contextlib.suppress(TimeoutError):
        await fake.wait_for(all_answered, timeout=2 * ANSWER_TIMEOUT)
    measured = Burst(time.perf_counter() - started, time.process_time() - cpu)
    for token in tokens:
        answer = answers.get(token)
        if answer is None:
            into.record(f"no answer within {2 * ANSWER_TIMEOUT:.0f} s")
        else:
            into.record(check(answer), shown_text(answer))
    return measured


def summary(name: str, measured: list[float], burst_seconds: float, count: int) -> float:
    median = statistics.median(measured)
    p95 = statistics.quantiles(measured, n=20)[-1]
    print(
        f"{name:34s} median {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  "
        f"burst of {count}: {count / burst_seconds:7.0f}/s"
    )
    return median


@contextlib.asynccontextmanager
async def bare_discord(fake: BenchFake) -> AsyncIterator[GatewaySession]:
    """A bare discord.py client connected to `fake`; yields its gateway session."""
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)

    @tree.command(name="about", description="a fixed answer")
    async def about(interaction: discord.Interaction[Any]) -> None:
        embed = discord.Embed(title=BARE_TITLE, description="fixed")
        await interaction.response.send_message(embed=embed)

    await client.login(TOKEN)
    connection = asyncio.create_task(client.connect())
    await fake.wait_until_connected(sessions=len(fake.sessions) + 1)
    try:
        yield fake.sessions[-1]
    finally:
        await client.close()
        await connection


@dataclasses.dataclass
class Case:
    """One measured case: where its events go, how they are sent and checked."""

    name: str
    session: GatewaySession
    send: Send
    check: Check
    into: ReplyCheck
    next_number: int = 0
    bursts: list[Burst] = dataclasses.field(default_factory=list)

    async def one_at_a_time(self, fake: BenchFake, answers: Answers, count: int) -> list[float]:
        fake.target = self.session
        numbers = range(self.next_number, self.next_number + count)
        self.next_number += count
        return await latencies(fake, answers, self.send, numbers, self.check, self.into)

    async def burst(self, fake: BenchFake, answers: Answers, count: int) -> None:
        fake.target = self.session
        numbers = range(self.next_number, self.next_number + count)
        self.next_number += count
        self.bursts.append(await burst(fake, answers, self.send, numbers, self.check, self.into))


async def rounds(fake: BenchFake, answers: Answers, cases: list[Case], count: int) -> None:
    """ROUNDS rounds of one burst per case, each round starting one case later."""
    for k in range(ROUNDS):
        for case in cases[k % len(cases) :] + cases[: k % len(cases)]:
            await case.burst(fake, answers, count)


def per_round(base: Case, case: Case, cpu: bool = False) -> list[float]:
    """Each round's throughput of the case against the baseline's (or CPU, baseline's over
    the case's: above 1 means the case needed less)."""
    pairs = zip(base.bursts, case.bursts, strict=True)
    return [b.cpu / c.cpu if cpu else b.wall / c.wall for b, c in pairs]


async def main_async(count: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    folder = Path(tempfile.mkdtemp(prefix="dsbot-bench-"))
    settings = Settings(
        discord_bot_token=SecretStr(TOKEN),
        dsbot_database=folder / "bench.sqlite3",
        dsbot_market="offline",
        _env_file=None,  # type: ignore[call-arg]
    )
    checks = {
        name: ReplyCheck(name) for name in ("bare discord.py", "dsbot /about", "dsbot poll vote")
    }
    # Room for every connection a burst opens at once, with some to spare.
    fake = BenchFake(backlog=max(128, 4 * count))
    await fake.start()
    answers = Answers(fake)
    with point_discord_py_at(fake):
        async with bare_discord(fake) as bare_session, build_services(settings) as services:
            front_end = DiscordFrontEnd(settings, services, dispatcher=guarded())
            await front_end.start()
            dsbot_session = fake.sessions[-1]
            try:
                bare = Case(
                    "bare discord.py fixed embed",
                    bare_session,
                    about_from_member(fake),
                    bare_problem,
                    checks["bare discord.py"],
                )
                about = Case(
                    "dsbot /about",
                    dsbot_session,
                    about_from_member(fake),
                    about_problem,
                    checks["dsbot /about"],
                )
                fake.target = dsbot_session
                show = [{"name": "show", "type": 1, "options": []}]
                shown = await slash_from(fake, "poll", POLL_SHOWER, CHANNEL_ID, show)
                poll_answer = await fake.wait_for(lambda: answers.get(shown["token"]), 60)
                if _refused(poll_answer) or not poll_answer.get("components"):
                    raise SystemExit(f"/poll show was not answered: {shown_text(poll_answer)!r}")
                message = next(m for m in fake.messages.values() if m["components"])
                option = message["components"][0]["components"][0]["custom_id"]
                _, poll_id, index = option.split(":")
                poll = await services.polls.get(int(poll_id))
                assert poll is not None
                choice = labels_of(poll, "en")[int(index)]

                def press(number: int) -> Awaitable[Json]:
                    return fake.press(message, option, user_id=VOTERS + number)

                def acknowledged(answer: Json) -> str | None:
                    return vote_problem(answer, int(poll_id), choice)

                vote = Case(
                    "dsbot poll button vote",
                    dsbot_session,
                    press,
                    acknowledged,
                    checks["dsbot poll vote"],
                )
                cases = [bare, about, vote]
                one_by_one = [await case.one_at_a_time(fake, answers, count) for case in cases]
                await rounds(fake, answers, cases, count)
                found = await services.polls.get_with_tally(int(poll_id))
                assert found is not None
                if found[1].voters != vote.next_number:
                    raise SystemExit(
                        f"{vote.next_number} votes answered but {found[1].voters} stored"
                    )
            finally:
                await front_end.stop()
    await fake.close()
    fail_if_any(list(checks.values()))
    print(
        f"interactions per case: {count} one at a time, then {ROUNDS} rounds of a burst of "
        f"{count} per case (the median round counts); every answer checked "
        f"({sum(c.total for c in checks.values())} real answers)"
    )
    medians = [
        summary(case.name, measured, statistics.median(b.wall for b in case.bursts), count)
        for case, measured in zip(cases, one_by_one, strict=True)
    ]
    for case in (about, vote):
        rounds_shown = " ".join(f"{r:.2f}" for r in per_round(bare, case))
        print(f"{case.name} vs bare, burst throughput per round: {rounds_shown}")
    print(f"dsbot /about vs bare discord.py: median latency {medians[1] / medians[0]:.2f}x")
    print(f"dsbot poll vote vs bare discord.py: median latency {medians[2] / medians[0]:.2f}x")
    for name, case in (("/about", about), ("poll vote", vote)):
        cpu = statistics.median(per_round(bare, case, cpu=True))
        print(f"burst CPU, bare over {name} (median of the rounds): {cpu:.2f}x")
    print(f"burst throughput, /about vs bare: {statistics.median(per_round(bare, about)):.2f}x")
    print(f"burst throughput, poll vote vs bare: {statistics.median(per_round(bare, vote)):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    asyncio.run(main_async(parser.parse_args().count))


if __name__ == "__main__":
    main()
