"""The process the crash test kills: votes through dispatch as fast as it can.

Usage: python -m tests.storage.poll_crash_voter WORKERS (database from DSBOT_DATABASE).
Each worker's voters press one option, then another, then the second press is redelivered.
A line "ack USER OPTION" is printed only after dispatch has answered, which is after the
vote's commit, so every printed line is a promise the database must keep.
"""

from __future__ import annotations

import asyncio
import sys

from bot.config import Settings
from bot.dispatch import dispatch
from bot.services import build_services
from handlers.model import Request, Services
from storage.polls import DEEPSEEK_POLL_ID


async def press(services: Services, user: str, option: int, delivery: str) -> bool:
    request = Request(
        platform="telegram",
        user_id=user,
        chat_id=f"chat-{user.split('-')[0]}",
        chat_kind="group",
        action=f"poll:{DEEPSEEK_POLL_ID}:{option}",
        delivery_id=delivery,
    )
    reply = await dispatch(request, services)
    return not reply.is_error


def options_for(user: str) -> tuple[int, int]:
    """The option a voter presses first and the one it changes to."""
    number, round_ = (int(part) for part in user.removeprefix("w").split("-"))
    first, second = round_ % 4, (round_ + 1 + number) % 4
    return first, (first + 1) % 4 if second == first else second


async def worker(services: Services, number: int) -> None:
    for round_ in range(1_000_000):
        user = f"w{number}-{round_}"
        first, second = options_for(user)
        if await press(services, user, first, f"{user}/1"):
            print(f"ack {user} {first}", flush=True)
        if await press(services, user, second, f"{user}/2"):
            print(f"ack {user} {second}", flush=True)
        # A redelivery: applied twice it would withdraw the vote.
        await press(services, user, second, f"{user}/2")


async def main(workers: int) -> None:
    async with build_services(Settings()) as services:
        print("ready", flush=True)
        await asyncio.gather(*(worker(services, number) for number in range(workers)))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
