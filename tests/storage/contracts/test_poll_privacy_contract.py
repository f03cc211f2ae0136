"""The poll store's contract for poll options, voters and closing announcements.

Written against the poll store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

import pytest

from storage.backends import Stores, open_stores
from storage.poll_model import PollVoter
from storage.polls import PollStore
from tests.storage.poll_helpers import HOUR, NOW


@pytest.fixture
def store(stores: Stores) -> PollStore:
    return stores.polls


async def new(store: PollStore, *, closes_in: int = 0, **options: bool) -> int:
    poll = await store.create(
        platform="telegram",
        chat_id="chat-1",
        question="Which?",
        options=("A", "B"),
        multi=False,
        closes_at=NOW + closes_in * HOUR if closes_in else None,
        created_by="mod",
        now=NOW,
        **options,
    )
    return poll.id


async def vote(store: PollStore, poll_id: int, user: str, option: int, name: str) -> None:
    await store.set_choices(
        poll_id,
        platform="telegram",
        chat_id="chat-1",
        user_id=user,
        options={option},
        now=NOW,
        user_name=name,
    )


async def test_a_poll_keeps_its_hide_results_and_public_options(store: PollStore) -> None:
    hidden = await store.get(await new(store, hide_results=True, closes_in=2))
    assert hidden is not None and hidden.hide_results and not hidden.public
    assert not hidden.results_shown(NOW) and hidden.results_shown(NOW + 3 * HOUR)


async def test_a_public_polls_voters_are_listed_by_their_latest_display_name(
    store: PollStore,
) -> None:
    poll_id = await new(store, public=True)
    await vote(store, poll_id, "1", 0, "Ada")
    await vote(store, poll_id, "2", 1, "Grace")
    await vote(store, poll_id, "1", 1, "Ada Lovelace")

    voters = await store.voters(poll_id)

    assert sorted(voters, key=lambda voter: voter.name) == [
        PollVoter("Ada Lovelace", "telegram", frozenset({1})),
        PollVoter("Grace", "telegram", frozenset({1})),
    ]


async def test_an_anonymous_polls_voters_are_nobody(store: PollStore) -> None:
    poll_id = await new(store)
    await vote(store, poll_id, "1", 0, "Ada")

    assert await store.voters(poll_id) == []


async def test_a_closing_announcement_is_claimed_once_per_chat_across_restarts(
    store_url: str,
) -> None:
    async with open_stores(store_url) as first:
        poll_id = await new(first.polls, closes_in=1)
        due = await first.polls.unannounced(NOW + 2 * HOUR)
        claimed = await first.polls.claim_announcement(poll_id, "telegram", "chat-1", NOW)
    async with open_stores(store_url) as second:
        again = await second.polls.claim_announcement(poll_id, "telegram", "chat-1", NOW)
        elsewhere = await second.polls.claim_announcement(poll_id, "discord", "c", NOW)
        chats = await second.polls.showing_chats(poll_id)
        await second.polls.finish_announcing(poll_id)
        after = await second.polls.unannounced(NOW + 2 * HOUR)

    assert [poll.id for poll in due] == [poll_id]
    assert (claimed, again, elsewhere) == (True, False, True)
    assert chats == [("telegram", "chat-1")]
    assert after == []


async def test_an_open_poll_is_not_due_for_announcing(store: PollStore) -> None:
    await new(store, closes_in=2)

    assert await store.unannounced(NOW + HOUR) == []
