"""One of several processes pressing and claiming on one PostgreSQL database at the same moment.

Usage: python -m tests.storage.pg_presser URL INDEX MULTI_POLL SINGLE_POLL
Opens the stores, prints "ready", waits for a line on stdin (the barrier: the test sends it
to every process at once), then, all at the same time:
- presses option INDEX of MULTI_POLL (multiple choice, 4 options) for users u0..u29, the
  same users in every process: pressing toggles, so a vote judged against a stale one loses
  another process's option;
- presses option 3 of MULTI_POLL twice for users r0..r9 with the delivery id "shared/n",
  which every process sends: a redelivery, to be counted once in all;
- on SINGLE_POLL (single choice), user cINDEX votes 0 then changes to 2, and user wINDEX
  votes 1 then withdraws it;
- claims session 2025-01-27's recap of chats recap-0..recap-11, sweeps the expired polls and
  claims the closing announcement of each in its chat;
- reads the chart "shared-chart" and the latest NVDA price, which process 0 stored before
  printing "ready".
Prints one JSON line of what this process was given, and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime

from storage.backends import Stores, open_stores
from storage.market_cache import CachedLatest

# Later than every poll's closing time the test sets.
NOW = datetime(2025, 1, 27, 16, 0, tzinfo=UTC)
SESSION = date(2025, 1, 27)
RECAP_CHATS = [f"recap-{n}" for n in range(12)]
CHART = b"\x89PNG\r\n\x1a\n-shared"


async def press(stores: Stores, poll_id: int, user: str, option: int, delivery: str) -> bool:
    outcome = await stores.polls.press(
        poll_id,
        platform="telegram",
        chat_id=f"-100{poll_id}",
        user_id=user,
        option=option,
        now=NOW,
        delivery_id=delivery,
    )
    return outcome.changed


async def votes(stores: Stores, index: int, multi: int, single: int) -> list[str]:
    """The presses; returns the shared delivery ids this process's press was counted for."""

    async def in_turn(user: str, options: tuple[int, int]) -> None:
        for step, option in enumerate(options):
            await press(stores, single, user, option, f"{index}/{user}/{step}")

    async def shared(n: int) -> str | None:
        delivery = f"shared/{n}"
        results = await asyncio.gather(
            press(stores, multi, f"r{n}", 3, delivery),
            press(stores, multi, f"r{n}", 3, delivery),
        )
        return delivery if any(results) else None

    results = await asyncio.gather(
        *(press(stores, multi, f"u{n}", index, f"{index}/u{n}") for n in range(30)),
        in_turn(f"c{index}", (0, 2)),
        in_turn(f"w{index}", (1, 1)),
        *(shared(n) for n in range(10)),
    )
    return sorted(result for result in results if isinstance(result, str))


async def recaps(stores: Stores) -> list[str]:
    won = await asyncio.gather(
        *(stores.subscriptions.claim("telegram", chat, SESSION) for chat in RECAP_CHATS)
    )
    return [chat for chat, taken in zip(RECAP_CHATS, won, strict=True) if taken]


async def announcements(stores: Stores) -> tuple[list[int], list[int]]:
    closed = [poll.id for poll in await stores.polls.close_expired(NOW)]
    ended = [poll for poll in await stores.polls.unannounced(NOW) if poll.chat_id]
    won = await asyncio.gather(
        *(
            stores.polls.claim_announcement(poll.id, "telegram", poll.chat_id or "", NOW)
            for poll in ended
        )
    )
    return closed, [poll.id for poll, taken in zip(ended, won, strict=True) if taken]


async def main(url: str, index: int, multi: int, single: int) -> None:
    async with open_stores(url) as stores:
        if index == 0:
            await stores.market_cache.store_chart("shared-chart", CHART, NOW)
            await stores.market_cache.store_latest("NVDA", CachedLatest(118.42, NOW, NOW))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        shared, claimed, (closed, announced), chart, latest = await asyncio.gather(
            votes(stores, index, multi, single),
            recaps(stores),
            announcements(stores),
            stores.market_cache.chart("shared-chart"),
            stores.market_cache.latest("NVDA"),
        )
    print(
        json.dumps(
            {
                "shared_counted": shared,
                "recaps_claimed": claimed,
                "polls_closed": closed,
                "announcements_claimed": announced,
                "chart": chart.hex() if chart else None,
                "latest": latest.price if latest else None,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
