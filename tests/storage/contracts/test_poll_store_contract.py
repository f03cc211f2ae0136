"""The poll store's contract: one vote per person, toggles, expiry, closing and restarts.

Written against the store's public methods alone; conftest.py runs it on every backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from storage.backends import Stores, open_stores
from storage.polls import (
    DEEPSEEK_POLL_ID,
    ChatHasOpenPoll,
    GlobalPollFixed,
    NoSuchOption,
    PollClosed,
    PollNotFound,
    PollStore,
    TooManyChoices,
)
from tests.storage.poll_helpers import HOUR, NOW, make_poll, press


@pytest.fixture
def store(stores: Stores) -> PollStore:
    return stores.polls


async def test_a_new_database_holds_the_deepseek_poll_in_english_and_chinese(
    store: PollStore,
) -> None:
    poll = await store.get(DEEPSEEK_POLL_ID)

    assert poll is not None and poll.is_global
    assert poll.question == "Will DeepSeek replace GPT?"
    assert poll.question_zh == "DeepSeek 会取代 GPT 吗？"
    assert [option.label for option in poll.options] == [
        "Yes",
        "No, GPT stays ahead",
        "They will coexist",
        "Too early to tell",
    ]
    assert all(option.label_zh for option in poll.options)
    assert poll.is_open(NOW)


async def test_the_deepseek_poll_is_current_where_a_chat_has_none_of_its_own(
    store: PollStore,
) -> None:
    poll, tally = await store.current("discord", "guild-channel", NOW)

    assert poll.id == DEEPSEEK_POLL_ID
    assert tally.voters == 0 and tally.counts == (0, 0, 0, 0)


async def test_a_chats_poll_stays_current_for_the_asked_time_after_it_closed(
    store: PollStore,
) -> None:
    poll_id = await make_poll(store)
    await store.close(poll_id, "telegram", "chat-1", NOW)

    within = await store.current("telegram", "chat-1", NOW + HOUR, closed_within=2 * HOUR)
    after = await store.current("telegram", "chat-1", NOW + 2 * HOUR, closed_within=2 * HOUR)
    by_default = await store.current("telegram", "chat-1", NOW + HOUR)
    elsewhere = await store.current("telegram", "chat-2", NOW + HOUR, closed_within=2 * HOUR)

    assert within[0].id == poll_id and not within[0].is_open(NOW + HOUR)
    assert after[0].id == DEEPSEEK_POLL_ID
    assert by_default[0].id == DEEPSEEK_POLL_ID
    assert elsewhere[0].id == DEEPSEEK_POLL_ID


async def test_one_vote_per_person_however_often_they_vote(store: PollStore) -> None:
    poll_id = await make_poll(store)
    for _ in range(3):
        await store.set_choices(
            poll_id, platform="telegram", chat_id="chat-1", user_id="u1", options={0}, now=NOW
        )
    outcome = await store.set_choices(
        poll_id, platform="telegram", chat_id="chat-1", user_id="u2", options={0}, now=NOW
    )

    assert outcome.tally.voters == 2
    assert outcome.tally.counts == (2, 0, 0)


async def test_repeating_the_same_typed_vote_changes_nothing(store: PollStore) -> None:
    poll_id = await make_poll(store)
    first = await store.set_choices(
        poll_id, platform="telegram", chat_id="chat-1", user_id="u1", options={1}, now=NOW
    )
    again = await store.set_choices(
        poll_id, platform="telegram", chat_id="chat-1", user_id="u1", options={1}, now=NOW
    )

    assert first.changed and not again.changed
    assert again.tally.counts == (0, 1, 0)


async def test_pressing_another_option_changes_the_vote(store: PollStore) -> None:
    poll_id = await make_poll(store)

    assert await press(store, poll_id, "u1", 0) == {0}
    assert await press(store, poll_id, "u1", 2) == {2}
    poll_and_tally = await store.get_with_tally(poll_id)
    assert poll_and_tally is not None
    assert poll_and_tally[1].counts == (0, 0, 1)


async def test_pressing_the_current_option_again_withdraws_the_vote(store: PollStore) -> None:
    poll_id = await make_poll(store)
    await press(store, poll_id, "u1", 1)

    assert await press(store, poll_id, "u1", 1) == frozenset()
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].voters == 0


async def test_a_multi_choice_poll_toggles_each_option(store: PollStore) -> None:
    poll_id = await make_poll(store, multi=True)

    assert await press(store, poll_id, "u1", 0) == {0}
    assert await press(store, poll_id, "u1", 2) == {0, 2}
    assert await press(store, poll_id, "u1", 0) == {2}
    await press(store, poll_id, "u2", 2)
    found = await store.get_with_tally(poll_id)
    assert found is not None
    assert found[1].voters == 2 and found[1].counts == (0, 0, 2)


async def test_a_single_choice_poll_refuses_several_typed_choices(store: PollStore) -> None:
    poll_id = await make_poll(store)

    with pytest.raises(TooManyChoices):
        await store.set_choices(
            poll_id, platform="telegram", chat_id="chat-1", user_id="u1", options={0, 1}, now=NOW
        )


async def test_a_redelivered_press_changes_nothing(store: PollStore) -> None:
    poll_id = await make_poll(store)
    await press(store, poll_id, "u1", 1, delivery="cbq-1")

    # The same delivery again would withdraw the vote if it were applied a second time.
    again = await store.press(
        poll_id,
        platform="telegram",
        chat_id="chat-1",
        user_id="u1",
        option=1,
        now=NOW,
        delivery_id="cbq-1",
    )

    assert not again.changed
    assert again.choices == {1}
    assert again.tally.counts == (0, 1, 0)
    # A new press by the same person still withdraws, as it should.
    assert await press(store, poll_id, "u1", 1, delivery="cbq-2") == frozenset()


async def test_a_burst_larger_than_any_statement_judges_every_press_and_redelivery(
    store: PollStore,
) -> None:
    poll_id = await make_poll(store)
    voters = range(600)
    # One burst: 600 first presses, and 20 of them delivered twice within the burst.
    first = await asyncio.gather(
        *(press(store, poll_id, f"u{i}", i % 3, delivery=f"d{i}") for i in voters),
        *(press(store, poll_id, f"u{i}", i % 3, delivery=f"d{i}") for i in range(20)),
    )
    # The next burst: the first half redelivered from the last one, the second half pressed
    # anew on the same option, which withdraws those votes.
    second = await asyncio.gather(
        *(press(store, poll_id, f"u{i}", i % 3, delivery=f"d{i}") for i in range(300)),
        *(press(store, poll_id, f"u{i}", i % 3, delivery=f"e{i}") for i in range(300, 600)),
    )

    assert first == [frozenset({i % 3}) for i in [*voters, *range(20)]]
    assert second == [frozenset({i % 3}) for i in range(300)] + [frozenset()] * 300
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].counts == (100, 100, 100)


async def test_votes_from_every_platform_count_together_with_a_breakdown(
    store: PollStore,
) -> None:
    for platform, user, option in [
        ("telegram", "1", 0),
        ("discord", "1", 0),
        ("console", "alice", 2),
        ("discord", "2", 3),
    ]:
        outcome = await store.set_choices(
            DEEPSEEK_POLL_ID,
            platform=platform,
            chat_id=f"{platform}-chat",
            user_id=user,
            options={option},
            now=NOW,
        )

    tally = outcome.tally
    assert tally.voters == 4
    assert tally.counts == (2, 0, 1, 1)
    breakdown = {entry.platform: (entry.voters, entry.counts) for entry in tally.by_platform}
    assert breakdown == {
        "telegram": (1, (1, 0, 0, 0)),
        "discord": (2, (1, 0, 0, 1)),
        "console": (1, (0, 0, 1, 0)),
    }
    assert [entry.platform for entry in tally.by_platform] == ["telegram", "discord", "console"]


async def test_a_poll_of_another_chat_cannot_be_voted_in_or_closed(store: PollStore) -> None:
    poll_id = await make_poll(store, chat="chat-1")

    with pytest.raises(PollNotFound):
        await press(store, poll_id, "u1", 0, chat="chat-2")
    with pytest.raises(PollNotFound):
        await store.close(poll_id, "telegram", "chat-2", NOW)
    with pytest.raises(PollNotFound):
        await store.close(poll_id, "discord", "chat-1", NOW)


async def test_an_option_out_of_range_is_refused(store: PollStore) -> None:
    poll_id = await make_poll(store)

    with pytest.raises(NoSuchOption):
        await press(store, poll_id, "u1", 3)
    with pytest.raises(NoSuchOption):
        await press(store, poll_id, "u1", -1)


async def test_a_closed_poll_refuses_votes_and_keeps_its_results(store: PollStore) -> None:
    poll_id = await make_poll(store)
    await press(store, poll_id, "u1", 0)
    closed = await store.close(poll_id, "telegram", "chat-1", NOW)

    assert closed.closed_at == NOW
    with pytest.raises(PollClosed):
        await press(store, poll_id, "u2", 1)
    with pytest.raises(PollClosed):
        await store.close(poll_id, "telegram", "chat-1", NOW)
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].counts == (1, 0, 0)


async def test_a_poll_whose_time_is_up_refuses_votes_without_any_sweep(
    store: PollStore,
) -> None:
    poll_id = await make_poll(store, closes_at=NOW + HOUR)

    await press(store, poll_id, "u1", 0)
    with pytest.raises(PollClosed):
        await store.press(
            poll_id,
            platform="telegram",
            chat_id="chat-1",
            user_id="u2",
            option=0,
            now=NOW + HOUR,
        )


async def test_the_global_poll_cannot_be_closed_by_a_chat(store: PollStore) -> None:
    with pytest.raises(GlobalPollFixed):
        await store.close(DEEPSEEK_POLL_ID, "telegram", "chat-1", NOW)


async def test_a_chat_has_one_open_poll_until_it_is_closed(store: PollStore) -> None:
    first = await make_poll(store)

    with pytest.raises(ChatHasOpenPoll) as refused:
        await make_poll(store)
    assert refused.value.poll.id == first
    assert (await store.current("telegram", "chat-1", NOW))[0].id == first
    await store.close(first, "telegram", "chat-1", NOW)
    second = await make_poll(store)
    assert second != first
    # Another chat is not affected by this one's poll.
    assert await make_poll(store, chat="chat-2") not in (first, second)


async def test_an_expired_poll_does_not_block_a_new_one(store: PollStore) -> None:
    first = await make_poll(store, closes_at=NOW - HOUR)

    second = await make_poll(store)

    old = await store.get(first)
    assert old is not None and old.closed_at == NOW - HOUR
    assert second != first


async def test_close_expired_records_polls_that_ran_out_while_the_bot_was_stopped(
    store: PollStore,
) -> None:
    expiring = await make_poll(store, closes_at=NOW + HOUR)
    await make_poll(store, chat="chat-2", closes_at=NOW + 3 * HOUR)

    closed = await store.close_expired(NOW + 2 * HOUR)

    assert [poll.id for poll in closed] == [expiring]
    assert closed[0].closed_at == NOW + HOUR
    assert await store.close_expired(NOW + 2 * HOUR) == []


async def test_list_for_chat_shows_its_polls_newest_first_then_the_global_one(
    store: PollStore,
) -> None:
    first = await make_poll(store)
    await store.close(first, "telegram", "chat-1", NOW)
    second = await make_poll(store)
    await press(store, second, "u1", 0)
    await make_poll(store, chat="elsewhere")

    summaries = await store.list_for_chat("telegram", "chat-1")

    assert [(summary.poll.id, summary.voters) for summary in summaries] == [
        (second, 1),
        (first, 0),
        (DEEPSEEK_POLL_ID, 0),
    ]


async def test_one_bad_vote_in_a_batch_costs_the_others_nothing(store: PollStore) -> None:
    poll_id = await make_poll(store)

    results = await asyncio.gather(
        press(store, poll_id, "u1", 0),
        press(store, poll_id, "u2", 9),
        press(store, poll_id, "u3", 1, chat="other-chat"),
        press(store, poll_id, "u4", 1),
        return_exceptions=True,
    )

    assert results[0] == frozenset({0}) and results[3] == frozenset({1})
    assert isinstance(results[1], NoSuchOption)
    assert isinstance(results[2], PollNotFound)
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].counts == (1, 1, 0)


async def test_a_voter_who_gives_up_does_not_strand_the_others(store: PollStore) -> None:
    poll_id = await make_poll(store)
    impatient = asyncio.ensure_future(press(store, poll_id, "u1", 0))
    patient = asyncio.ensure_future(press(store, poll_id, "u2", 1))
    await asyncio.sleep(0)
    impatient.cancel()

    assert await patient == {1}
    found = await store.get_with_tally(poll_id)
    assert found is not None and found[1].voters in (1, 2)


async def test_a_restart_keeps_polls_votes_and_closings(store_url: str) -> None:
    async with open_stores(store_url) as stores:
        store = stores.polls
        closed = await make_poll(store, multi=True)
        await press(store, closed, "u1", 0)
        await press(store, closed, "u1", 1)
        await store.close(closed, "telegram", "chat-1", NOW)
        open_poll = await make_poll(store, closes_at=NOW + HOUR)
        await press(store, open_poll, "u2", 2, delivery="cbq-9")
        await store.set_choices(
            DEEPSEEK_POLL_ID, platform="discord", chat_id="d", user_id="7", options={3}, now=NOW
        )

    async with open_stores(store_url) as stores:
        store = stores.polls
        old = await store.get_with_tally(closed)
        current = await store.current("telegram", "chat-1", NOW)
        deepseek = await store.get_with_tally(DEEPSEEK_POLL_ID)
        # The press delivered before the restart is still recognised as already applied.
        redelivered = await store.press(
            open_poll,
            platform="telegram",
            chat_id="chat-1",
            user_id="u2",
            option=2,
            now=NOW,
            delivery_id="cbq-9",
        )

    assert old is not None and old[0].multi and old[0].closed_at == NOW
    assert old[1].counts == (1, 1, 0)
    assert current[0].id == open_poll and current[0].closes_at == NOW + HOUR
    assert deepseek is not None and deepseek[1].counts == (0, 0, 0, 1)
    assert not redelivered.changed and redelivered.tally.counts == (0, 0, 1)


async def test_a_poll_that_expired_while_the_bot_was_stopped_is_closed_on_restart(
    store_url: str,
) -> None:
    async with open_stores(store_url) as stores:
        store = stores.polls
        poll_id = await make_poll(store, closes_at=NOW + HOUR)
        await press(store, poll_id, "u1", 2)

    # The bot comes back three hours later.
    later = NOW + 3 * HOUR
    async with open_stores(store_url) as stores:
        store = stores.polls
        with pytest.raises(PollClosed):
            await store.press(
                poll_id, platform="telegram", chat_id="chat-1", user_id="u2", option=0, now=later
            )
        current, _ = await store.current("telegram", "chat-1", later)
        closed = await store.close_expired(later)
        found = await store.get_with_tally(poll_id)

    assert current.id == DEEPSEEK_POLL_ID
    assert [poll.id for poll in closed] == [poll_id]
    assert found is not None
    assert found[0].closed_at == NOW + HOUR
    assert found[1].counts == (0, 0, 1)


async def test_two_stores_sharing_the_database_judge_every_press_against_the_others(
    store_url: str,
) -> None:
    # Two sets of stores on one database are two bot processes: their own group commits and
    # connections, one table of votes and seen deliveries.
    async with open_stores(store_url) as first, open_stores(store_url) as second:
        poll_id = await make_poll(first.polls)
        users = [f"u{number}" for number in range(12)]

        def pressing(stores: Stores, user: str, delivery: str) -> Awaitable[frozenset[int]]:
            return press(stores.polls, poll_id, user, 0, delivery=delivery)

        # Each user's press is delivered to both processes at once (a redelivery): one vote.
        await asyncio.gather(
            *(pressing(first, user, f"{user}-a") for user in users),
            *(pressing(second, user, f"{user}-a") for user in users),
        )
        once = await first.polls.get_with_tally(poll_id)
        # Two distinct presses of each user at once, one in each process: off, then on again.
        await asyncio.gather(
            *(pressing(first, user, f"{user}-b") for user in users),
            *(pressing(second, user, f"{user}-c") for user in users),
        )
        twice = await second.polls.get_with_tally(poll_id)
        await asyncio.gather(*(pressing(first, user, f"{user}-d") for user in users))
        withdrawn = await second.polls.get_with_tally(poll_id)

    assert once is not None and once[1].counts == (12, 0, 0)
    assert twice is not None and twice[1].counts == (12, 0, 0)
    assert withdrawn is not None and withdrawn[1].voters == 0
