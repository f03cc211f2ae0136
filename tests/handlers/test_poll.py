"""`/poll` and its buttons through dispatch, as every front end calls them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from bot.dispatch import dispatch
from handlers.i18n import catalogue, text
from handlers.model import MAX_ACTION_BYTES, Reply, Services, Table
from storage.polls import DEEPSEEK_POLL_ID
from tests.conftest import NOW, make_request

MOD = {"chat_kind": "group", "is_admin": True, "platform": "telegram", "chat_id": "-100"}
MEMBER = {"chat_kind": "group", "is_admin": False, "platform": "telegram", "chat_id": "-100"}


async def ask(services: Services, line: str, **fields: Any) -> Reply:
    return await dispatch(make_request(line, **fields), services)


async def press(services: Services, action: str, **fields: Any) -> Reply:
    return await dispatch(make_request(action=action, **fields), services)


def at(services: Services, delta: timedelta) -> Services:
    return dataclasses.replace(services, clock=lambda: NOW + delta)


async def new_poll(services: Services, line: str, **fields: Any) -> int:
    reply = await ask(services, line, **{**MOD, **fields})
    assert not reply.is_error, reply.plain_text()
    return int(reply.refresh_action.split(":")[1])


async def test_poll_shows_the_deepseek_poll_where_the_chat_has_none(services: Services) -> None:
    reply = await ask(services, "/poll")

    assert reply.title == "Poll #1: Will DeepSeek replace GPT?"
    assert [button.label for button in reply.buttons] == [
        "1. Yes",
        "2. No, GPT stays ahead",
        "3. They will coexist",
        "4. Too early to tell",
    ]
    assert [button.action for button in reply.buttons] == [f"poll:1:{i}" for i in range(4)]
    assert reply.refresh_action == "poll:1:r"
    assert "Voters: 0" in reply.plain_text()


async def test_poll_speaks_chinese_to_chinese_users(services: Services) -> None:
    reply = await ask(services, "/poll", locale="zh-CN")

    assert reply.title == "投票 #1：DeepSeek 会取代 GPT 吗？"
    assert reply.buttons[0].label == "1. 会"


async def test_typed_votes_by_number_and_by_text_in_either_language(services: Services) -> None:
    by_number = await ask(services, "/poll vote 2", user_id="alice")
    by_text = await ask(services, "/poll vote they WILL coexist", user_id="bob")
    by_chinese = await ask(services, "/poll vote 现在下结论还为时过早", user_id="carol")

    assert by_number.notice == "Your vote in poll #1: No, GPT stays ahead."
    assert by_text.notice == "Your vote in poll #1: They will coexist."
    assert by_chinese.notice == "Your vote in poll #1: Too early to tell."
    found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)
    assert found is not None and found[1].counts == (0, 1, 1, 1)
    assert "███░░░░░░░ 33% · 1" in by_chinese.plain_text()


async def test_a_typed_vote_repeated_or_redelivered_counts_once(services: Services) -> None:
    for _ in range(3):
        reply = await ask(services, "/poll vote 1", user_id="alice")

    assert "Voters: 1 (console 1)" in reply.plain_text()


async def test_pressing_votes_changes_and_withdraws_with_a_private_notice(
    services: Services,
) -> None:
    voted = await press(services, "poll:1:0", user_id="alice")
    changed = await press(services, "poll:1:3", user_id="alice")
    withdrawn = await press(services, "poll:1:3", user_id="alice")

    assert voted.edit and voted.refresh_action == "poll:1:r"
    assert voted.notice == "Your vote in poll #1: Yes."
    assert changed.notice == "Your vote in poll #1: Too early to tell."
    assert withdrawn.notice == "You have no vote in poll #1 now."
    assert "Voters: 0" in withdrawn.plain_text()
    assert len(withdrawn.buttons) == 4


async def test_a_redelivered_press_is_ignored(services: Services) -> None:
    await press(services, "poll:1:2", user_id="7", platform="telegram", delivery_id="cb-1")
    again = await press(services, "poll:1:2", user_id="7", platform="telegram", delivery_id="cb-1")

    assert again.notice == "Your vote in poll #1: They will coexist."
    found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)
    assert found is not None and found[1].counts == (0, 0, 1, 0)


async def test_the_refresh_action_rerenders_without_voting(services: Services) -> None:
    await ask(services, "/poll vote 1", user_id="alice")

    reply = await press(services, "poll:1:r", user_id="bob")

    assert reply.edit and reply.refresh_action == "poll:1:r" and not reply.notice
    assert "Voters: 1" in reply.plain_text()


async def test_one_deepseek_poll_counts_every_platform_with_a_breakdown(
    services: Services,
) -> None:
    await press(services, "poll:1:0", platform="telegram", user_id="1", chat_id="-100")
    await press(services, "poll:1:0", platform="discord", user_id="1", chat_id="555")
    await ask(services, "/poll vote 3", platform="console", user_id="alice")

    reply = await ask(services, "/poll results", platform="discord", chat_id="other")

    assert "Voters: 3 (Telegram 1 · Discord 1 · console 1)" in reply.plain_text()
    breakdown = [part for part in reply.parts if isinstance(part, Table)][1]
    assert breakdown.headers == ("#", "Telegram", "Discord", "console")
    assert breakdown.rows[0] == ("1", "1", "1", "0")
    assert breakdown.rows[2] == ("3", "0", "0", "1")
    image = reply.images[0]
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "1 = Yes: 2 (67%)" in image.alt


async def test_the_chart_of_results_is_explained_option_by_option_in_the_readers_language(
    services: Services,
) -> None:
    await ask(services, "/poll vote 1", platform="console", user_id="alice")

    reply = await ask(services, "/poll results", locale="zh-CN")

    (image,) = reply.images
    assert "1＝会：1（100%）" in image.alt
    assert "，1 人投票，" in image.alt
    assert all(f"{number}＝" in image.alt for number in range(1, 5))
    assert image.alt.startswith("投票 #1“DeepSeek 会取代 GPT 吗？”的条形图")
    assert "控制台" in reply.plain_text()


async def test_a_moderator_starts_a_poll_that_becomes_the_chats_poll(services: Services) -> None:
    poll_id = await new_poll(services, "/poll new Best open model? | R1 | Qwen | Llama")

    shown = await ask(services, "/poll", **MEMBER)
    elsewhere = await ask(services, "/poll", **{**MEMBER, "chat_id": "-200"})

    assert shown.title == f"Poll #{poll_id}: Best open model?"
    assert [button.action for button in shown.buttons] == [f"poll:{poll_id}:{i}" for i in range(3)]
    assert elsewhere.title.startswith("Poll #1:")


@pytest.mark.parametrize(
    "line",
    ["/poll new Q | A | B", "/poll close", "/poll close 1"],
)
async def test_moderator_only_actions_are_refused_for_other_members(
    services: Services, line: str
) -> None:
    reply = await ask(services, line, **MEMBER)

    assert reply.is_error
    assert reply.plain_text() == text("en", "core.moderators_only")


async def test_in_a_private_chat_the_user_runs_their_own_polls(services: Services) -> None:
    reply = await ask(services, "/poll new Tea or coffee? | Tea | Coffee", chat_kind="private")

    assert not reply.is_error
    assert reply.parts[0] == "Poll #2 is open."


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("/poll new Only a question", "poll.new_usage"),
        ("/poll new Q | one option", "poll.too_few_options"),
        ("/poll new Q | " + " | ".join(str(n) for n in range(11)), "poll.too_many_options"),
        ("/poll new " + "x" * 301 + " | A | B", "poll.question_too_long"),
        ("/poll new Q | A | " + "y" * 101, "poll.option_too_long"),
        ("/poll new Q | A |  | B", "poll.option_empty"),
        ("/poll new Q | A | \u200b\u200b | B", "poll.option_empty"),
        ("/poll new Q | Yes | ＹＥＳ ", "poll.duplicate_option"),
        ("/poll new  | A | B", "poll.question_empty"),
        ("/poll new Q | A | B --closes soon", "poll.bad_closes"),
        ("/poll new Q | A | B --closes 2026-13-45T99:99", "poll.bad_closes"),
        ("/poll new Q | A | B --closes 2020-01-01T00:00", "poll.closes_in_past"),
        ("/poll new Q | A | B --closes 0m", "poll.closes_in_past"),
        ("/poll new Q | A | B --closes 9999w", "poll.closes_too_far"),
    ],
)
async def test_a_malformed_new_poll_gets_a_clear_reason(
    services: Services, line: str, key: str
) -> None:
    reply = await ask(services, line, **MOD)

    assert reply.is_error
    assert reply.plain_text().startswith(template_start(key))


def template_start(key: str) -> str:
    """The catalogue message up to its first placeholder: enough to tell messages apart."""
    return catalogue("en")[key].split("{")[0]


async def test_a_closing_time_is_read_in_the_chats_time_zone(services: Services) -> None:
    await services.chat_settings.set_tz("telegram", "-100", "Asia/Shanghai")

    poll_id = await new_poll(services, "/poll new Q | A | B --closes 2026-12-01T18:00 --multi")

    poll = await services.polls.get(poll_id)
    assert poll is not None and poll.multi
    assert poll.closes_at is not None
    assert poll.closes_at.isoformat() == "2026-12-01T10:00:00+00:00"
    shown = await ask(services, "/poll", **MEMBER)
    assert "Open until 2026-12-01 18:00 (Asia/Shanghai)." in shown.plain_text()
    assert "Choose as many as you like" in shown.plain_text()


async def test_a_duration_closes_the_poll_after_that_long(services: Services) -> None:
    poll_id = await new_poll(services, "/poll new Q | A | B —closes 1h30m")

    poll = await services.polls.get(poll_id)
    assert poll is not None and poll.closes_at == NOW + timedelta(hours=1, minutes=30)


async def test_a_second_open_poll_is_refused_until_the_first_is_closed(
    services: Services,
) -> None:
    first = await new_poll(services, "/poll new First? | A | B")

    refused = await ask(services, "/poll new Second? | A | B", **MOD)
    closed = await ask(services, "/poll close", **MOD)
    second = await new_poll(services, "/poll new Second? | A | B")

    assert refused.is_error and f"#{first}" in refused.plain_text()
    assert closed.parts[0] == f"Poll #{first} is now closed."
    assert not closed.buttons
    assert second != first


async def test_a_closed_poll_refuses_votes_and_shows_its_final_results(
    services: Services,
) -> None:
    poll_id = await new_poll(services, "/poll new Q | A | B")
    await press(services, f"poll:{poll_id}:1", **MEMBER, user_id="u1")
    await ask(services, "/poll close", **MOD)

    pressed = await press(services, f"poll:{poll_id}:0", **MEMBER, user_id="u2")
    typed = await ask(services, f"/poll vote #{poll_id} 1", **MEMBER, user_id="u2")

    assert pressed.is_error and pressed.edit and not pressed.buttons
    assert pressed.notice == text("en", "poll.closed_refused", id=poll_id)
    assert "██████████ 100% · 1" in pressed.plain_text()
    assert typed.is_error and typed.parts[0] == pressed.notice
    assert "These are the final results." in typed.plain_text()


async def test_a_poll_closes_by_itself_when_its_time_is_up(services: Services) -> None:
    poll_id = await new_poll(services, "/poll new Q | A | B --closes 2h")
    later = at(services, timedelta(hours=2))

    vote = await press(later, f"poll:{poll_id}:0", **MEMBER, user_id="u1")
    current = await ask(later, "/poll", **MEMBER)
    listed = await ask(later, "/poll list", **MEMBER)

    assert vote.is_error and not vote.buttons
    # For a day /poll still shows the chat's own poll, with its final results.
    assert current.title.startswith(f"Poll #{poll_id}:") and not current.buttons
    assert "closed 11-30 17:00" in listed.plain_text()
    assert "Times in UTC (UTC+00:00 now)." in listed.plain_text()


async def test_a_vote_naming_no_poll_is_refused_for_a_day_after_the_chats_poll_closed(
    services: Services,
) -> None:
    poll_id = await new_poll(services, "/poll new Q | A | B")
    await ask(services, "/poll close", **MOD)

    typed = await ask(services, "/poll vote 1", **MEMBER, user_id="u1")
    typed_zh = await ask(services, "/poll vote 1", **MEMBER, user_id="u1", locale="zh-CN")
    withdrawn = await ask(services, "/poll withdraw", **MEMBER, user_id="u1")
    shown = await ask(services, "/poll", **MEMBER)
    deepseek = await ask(services, "/poll 1", **MEMBER)
    named = await ask(services, "/poll vote #1 2", **MEMBER, user_id="u1")
    next_day = await ask(
        at(services, timedelta(hours=24, seconds=1)), "/poll vote 3", **MEMBER, user_id="u2"
    )

    refusal = text("en", "poll.own_poll_closed", id=poll_id, global_id=1)
    assert typed.is_error and typed.plain_text() == refusal
    assert "/poll vote #1 2" in refusal
    assert typed_zh.plain_text() == text("zh", "poll.own_poll_closed", id=poll_id, global_id=1)
    assert withdrawn.is_error and withdrawn.plain_text() == refusal
    # Nothing was counted in the DeepSeek poll by the refused vote.
    assert "Voters: 0" in deepseek.plain_text()
    assert shown.title.startswith(f"Poll #{poll_id}:") and not shown.buttons
    assert shown.parts[0] == refusal
    assert not named.is_error and named.title.startswith("Poll #1:")
    assert named.notice == "Your vote in poll #1: No, GPT stays ahead."
    assert not next_day.is_error and next_day.title.startswith("Poll #1:")


async def test_the_deepseek_poll_cannot_be_closed_by_a_chat(services: Services) -> None:
    reply = await ask(services, "/poll close 1", **MOD)

    assert reply.is_error
    assert reply.plain_text() == text("en", "poll.global_fixed", id=1)


@pytest.mark.parametrize(
    ("action", "key"),
    [
        ("poll:1:9", "poll.no_such_option"),
        ("poll:1:x", "poll.bad_button"),
        ("poll:1", "poll.bad_button"),
        ("poll::0", "poll.bad_button"),
        ("poll:1:0:extra", "poll.bad_button"),
        # Digits of other scripts: no button carries them, so no vote may come of them.
        ("poll:１:０", "poll.bad_button"),
        ("poll:1:٠", "poll.bad_button"),
        ("poll:99999999999:0", "poll.not_found"),
        ("poll:999:0", "poll.not_found"),
    ],
)
async def test_a_forged_or_stale_button_gets_a_catalogued_error(
    services: Services, action: str, key: str
) -> None:
    reply = await press(services, action)

    assert reply.is_error and not reply.edit
    assert reply.plain_text().startswith(template_start(key))


async def test_another_chats_poll_cannot_be_voted_in_or_seen(services: Services) -> None:
    poll_id = await new_poll(services, "/poll new Secret? | A | B")
    outsider = {**MEMBER, "chat_id": "-999"}

    pressed = await press(services, f"poll:{poll_id}:0", **outsider)
    refreshed = await press(services, f"poll:{poll_id}:r", **outsider)
    results = await ask(services, f"/poll results {poll_id}", **outsider)
    other_platform = await press(services, f"poll:{poll_id}:0", **{**MEMBER, "platform": "discord"})

    for reply in (pressed, refreshed, results, other_platform):
        assert reply.is_error
        assert reply.plain_text() == text("en", "poll.not_found", id=poll_id)
    found = await services.polls.get_with_tally(poll_id)
    assert found is not None and found[1].voters == 0


async def test_each_kind_of_poll_explains_how_its_typed_vote_works(services: Services) -> None:
    single = await ask(services, "/poll", **MEMBER)
    await new_poll(services, "/poll new Which? | A | B | C --multi")
    multi = await ask(services, "/poll", **MEMBER)
    multi_zh = await ask(services, "/poll", **MEMBER, locale="zh-CN")

    assert text("en", "poll.hint") in single.parts
    assert text("en", "poll.hint_multi") in multi.parts
    assert text("en", "poll.hint") not in multi.parts
    assert "/poll vote 1 3" in text("en", "poll.hint_multi")
    assert text("zh", "poll.hint_multi") in multi_zh.parts


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_shows_how_to_withdraw_a_vote(services: Services, lang: str) -> None:
    reply = await ask(services, "/help", locale=lang)

    assert "/poll withdraw" in reply.plain_text()


async def test_multi_choice_by_buttons_and_by_typing(services: Services) -> None:
    poll_id = await new_poll(services, "/poll new Which? | A | B | C --multi")

    await press(services, f"poll:{poll_id}:0", **MEMBER, user_id="u1")
    both = await press(services, f"poll:{poll_id}:2", **MEMBER, user_id="u1")
    typed = await ask(services, "/poll vote 2, 3", **MEMBER, user_id="u2")

    assert both.notice == f"Your choices in poll #{poll_id}: A; C."
    assert typed.notice == f"Your choices in poll #{poll_id}: B; C."
    assert "Voters: 2" in typed.plain_text()


async def test_several_numbers_are_refused_for_a_single_choice_poll(services: Services) -> None:
    reply = await ask(services, "/poll vote 1 2")

    assert reply.is_error
    assert reply.plain_text() == text("en", "poll.one_choice_only", id=1)


async def test_withdraw_removes_a_typed_vote(services: Services) -> None:
    await ask(services, "/poll vote 1", user_id="alice")

    reply = await ask(services, "/poll withdraw", user_id="alice")

    assert reply.notice == "You have no vote in poll #1 now."


HOSTILE = [
    "<b>bold</b> &amp; <script>alert(1)</script>",
    "@everyone @here",
    "'; DROP TABLE poll_votes; --",
    "left\u200bright\u200d",
    "\u202eevil\u202c txet",
    "[link](https://example.com) /poll close",
]


async def test_hostile_text_is_stored_and_shown_as_plain_text(services: Services) -> None:
    question = "Hostile? " + HOSTILE[0]
    line = "/poll new " + " | ".join([question, *HOSTILE[1:]])
    poll_id = await new_poll(services, line)

    shown = await ask(services, "/poll", **MEMBER)
    voted = await ask(services, "/poll vote '; DROP TABLE poll_votes; --", **MEMBER, user_id="u")
    results = await ask(services, f"/poll results {poll_id}", **MEMBER)

    # Commands lose pasted zero-width and direction-override characters (not the emoji
    # joiner) before they reach the poll; everything else is kept as typed.
    assert shown.title == f"Poll #{poll_id}: Hostile? <b>bold</b> &amp; <script>alert(1)</script>"
    assert [button.label for button in shown.buttons] == [
        "1. @everyone @here",
        "2. '; DROP TABLE poll_votes; --",
        "3. leftright\u200d",
        "4. evil txet",
        "5. [link](https://example.com) /poll close",
    ]
    assert voted.notice == f"Your vote in poll #{poll_id}: '; DROP TABLE poll_votes; --."
    assert not results.is_error and results.images
    assert (await services.polls.get_with_tally(poll_id)) is not None


async def test_huge_input_is_refused_without_echoing_it(services: Services) -> None:
    huge = "Q" * 100_000

    new = await ask(services, f"/poll new {huge} | A | B", **MOD)
    vote = await ask(services, f"/poll vote {huge}")

    assert new.is_error and len(new.plain_text()) < 200
    assert vote.is_error and len(vote.plain_text()) < 300


async def test_every_button_action_fits_the_platform_limits(services: Services) -> None:
    long_options = " | ".join(f"{n}" * 100 for n in range(10))
    await new_poll(services, f"/poll new {'q' * 300} | {long_options}")

    reply = await ask(services, "/poll", **MEMBER)

    assert len(reply.buttons) == 10
    assert all(len(button.action.encode()) <= MAX_ACTION_BYTES for button in reply.buttons)
    assert all(len(button.label) <= 60 for button in reply.buttons)


async def test_list_shows_this_chats_polls_and_the_shared_one(services: Services) -> None:
    empty = await ask(services, "/poll list", **MEMBER)
    poll_id = await new_poll(services, "/poll new Q | A | B")
    listed = await ask(services, "/poll list", **MEMBER)

    assert [row[0] for row in _table(empty).rows if row[0]] == ["#1"]
    assert empty.parts[-1] == text("en", "poll.list_none")
    assert [row[0] for row in _table(listed).rows if row[0]] == [f"#{poll_id}", "#1"]


def _table(reply: Reply) -> Table:
    tables = [part for part in reply.parts if isinstance(part, Table)]
    assert tables
    return tables[0]


@pytest.mark.parametrize("line", ["/poll frobnicate", "/poll vote", "/poll list extra", "/poll #x"])
async def test_unknown_usage_gets_the_usage_message(services: Services, line: str) -> None:
    reply = await ask(services, line)

    assert reply.is_error
    assert "/poll" in reply.plain_text()


async def test_the_chart_alt_text_says_1_voter_and_names_the_question(services: Services) -> None:
    await ask(services, "/poll vote 1")

    (image,) = (await ask(services, "/poll results")).images

    assert image.alt.startswith(
        'Bar chart of poll #1, "Will DeepSeek replace GPT?", 1 voter, bars split by platform:'
    )


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "Your vote in poll #1: Yes."), ("zh", "你在投票 #1 中选择了：会。")],
)
async def test_an_invisible_joiner_after_the_option_number_is_ignored(
    services: Services, lang: str, said: str
) -> None:
    reply = await ask(services, "/poll vote 1\u200d", locale=lang)

    assert not reply.is_error
    assert reply.notice == said
