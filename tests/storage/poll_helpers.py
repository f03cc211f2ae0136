"""Making a poll and pressing its buttons, for the poll store's tests on any backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.polls import PollStore

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def make_poll(
    store: PollStore,
    *,
    chat: str = "chat-1",
    multi: bool = False,
    closes_at: datetime | None = None,
    options: tuple[str, ...] = ("A", "B", "C"),
) -> int:
    poll = await store.create(
        platform="telegram",
        chat_id=chat,
        question="Which?",
        options=options,
        multi=multi,
        closes_at=closes_at,
        created_by="mod",
        now=NOW,
    )
    return poll.id


async def press(
    store: PollStore,
    poll_id: int,
    user: str,
    option: int,
    *,
    delivery: str = "",
    chat: str = "chat-1",
) -> frozenset[int]:
    outcome = await store.press(
        poll_id,
        platform="telegram",
        chat_id=chat,
        user_id=user,
        option=option,
        now=NOW,
        delivery_id=delivery,
    )
    return outcome.choices
