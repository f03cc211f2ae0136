"""Discord misbehaving: 429 storms on answers and edits, and a gateway that drops mid-vote.

The real discord.py client talks to the fake Discord on 127.0.0.1. As Discord does, the
fake replays the events a client missed when it resumes its gateway session; a test holds
the resume back so that commands and button presses really arrive while the bot is
disconnected. Each test ends by counting answers and votes. Single 429s and a reconnect
followed by a new command are in test_discord_frontend.py.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bot.discord.frontend import DiscordFrontEnd
from handlers.model import Services
from tests.bot.test_discord_frontend import (
    CALLBACK,
    callback_for,
    custom_ids,
    description,
    subcommand,
)
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord, RestCall

VOTERS = 20
FIRST_VOTER = 1_000_000_000_000_100_000


@pytest.fixture
def fake(discord_fake: FakeDiscord) -> FakeDiscord:
    return discord_fake


async def shown_poll(fake: FakeDiscord) -> tuple[int, dict[str, Any]]:
    interaction = await fake.slash("poll", [subcommand("show")])
    await callback_for(fake, interaction)
    (message_id,) = [key for key, message in fake.messages.items() if custom_ids(message)]
    return message_id, fake.messages[message_id]


def answered(fake: FakeDiscord, interaction: dict[str, Any]) -> bool:
    """The interaction got an accepted callback (not only 429s)."""
    path = rf"/interactions/{interaction['id']}/[^/]+/callback"
    return any(call.status == 200 for call in fake.calls_to("POST", path))


def callbacks_of(fake: FakeDiscord, interaction: dict[str, Any]) -> list[RestCall]:
    return fake.calls_to("POST", rf"/interactions/{interaction['id']}/[^/]+/callback")


async def voters_of(services: Services, action: str) -> tuple[int, tuple[int, ...]]:
    found = await services.polls.get_with_tally(int(action.split(":")[1]))
    assert found is not None
    return found[1].voters, found[1].counts


async def test_a_429_storm_on_answers_and_edits_loses_no_answer_and_no_vote(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    message_id, message = await shown_poll(fake)
    first, second = custom_ids(message)[:2]
    edits = rf"/channels/{CHANNEL_ID}/messages/{message_id}"
    fake.rate_limits[CALLBACK] = 15
    fake.rate_limits[edits] = 5

    presses = [
        await fake.press(message, first if n % 4 else second, user_id=FIRST_VOTER + n)
        for n in range(VOTERS)
    ]
    await fake.wait_for(lambda: all(answered(fake, press) for press in presses), timeout=20)
    await fake.wait_for(lambda: f"Voters: {VOTERS}" in str(fake.messages[message_id]["embeds"]))

    limited = [press for press in presses if len(callbacks_of(fake, press)) > 1]
    assert limited, "no press met a 429"
    for press in presses:
        *refused, accepted = callbacks_of(fake, press)
        assert accepted.status == 200, "the last response was not the accepted one"
        assert all(call.status == 429 for call in refused), "answered twice"
        for before, after in itertools.pairwise([*refused, accepted]):
            assert after.json == before.json, "the retry was not the same response"
            assert after.at - before.at >= fake.retry_after, "retried before retry_after"
    edited = fake.calls_to("PATCH", edits)
    assert [c.status for c in edited].count(429) >= 1 and edited[-1].status == 200
    voters, counts = await voters_of(services, first)
    assert voters == VOTERS
    assert sum(counts) == VOTERS
    assert sorted(counts, reverse=True)[:2] == [15, 5]


async def test_commands_and_votes_sent_while_the_gateway_is_down_are_answered_after_resume(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    message_id, message = await shown_poll(fake)
    first = custom_ids(message)[0]
    fake.resumes_allowed.clear()

    await fake.drop_gateway()
    # The client is back and asking to resume, which the fake holds: it is disconnected.
    await fake.wait_for(lambda: len(fake.sessions) == 2 and fake.sessions[-1].resume_requested)
    assert fake.live_session is None, "the bot was not disconnected"
    commands = [await fake.slash("about") for _ in range(3)]
    presses = [
        await fake.press(message, first, user_id=FIRST_VOTER + n) for n in range(VOTERS // 2)
    ]
    fake.resumes_allowed.set()
    await fake.wait_until_connected(sessions=2, timeout=15)
    await fake.wait_for(lambda: all(answered(fake, i) for i in commands + presses), timeout=20)
    await fake.wait_for(
        lambda: f"Voters: {VOTERS // 2}" in str(fake.messages[message_id]["embeds"])
    )

    for command in commands:
        call = await callback_for(fake, command)
        assert "DeepSeek" in description(call)
    voters, counts = await voters_of(services, first)
    assert voters == VOTERS // 2 and max(counts) == VOTERS // 2
    assert fake.sessions[-1].resumed, "the client identified anew instead of resuming"


async def test_votes_across_two_gateway_drops_are_each_counted_once(
    fake: FakeDiscord, discord_front_end: DiscordFrontEnd, services: Services
) -> None:
    message_id, message = await shown_poll(fake)
    first, second = custom_ids(message)[:2]
    presses = []
    for drop in range(2):
        presses += [
            await fake.press(message, first, user_id=FIRST_VOTER + 100 * drop + n) for n in range(5)
        ]
        await fake.drop_gateway()
        # Sent at once after the drop: delivered live or replayed, never both.
        presses += [
            await fake.press(message, second, user_id=FIRST_VOTER + 100 * drop + 50 + n)
            for n in range(5)
        ]
        await fake.wait_until_connected(sessions=2 + drop, timeout=15)

    await fake.wait_for(lambda: all(answered(fake, press) for press in presses), timeout=20)
    await fake.wait_for(lambda: "Voters: 20" in str(fake.messages[message_id]["embeds"]))

    voters, counts = await voters_of(services, first)
    assert voters == 20
    assert sorted(counts, reverse=True)[:2] == [10, 10]
    for press in presses:
        path = rf"/interactions/{press['id']}/[^/]+/callback"
        assert len(fake.calls_to("POST", path)) == 1, "an interaction was answered twice"
