"""Hidden results, public and anonymous polls and `/poll voters`, through dispatch in en and zh."""

from __future__ import annotations

from typing import Any

from bot.dispatch import dispatch
from handlers.model import Reply, Services, Table
from tests.conftest import make_request, sqlite_database

MOD = {"chat_kind": "group", "is_admin": True, "platform": "telegram", "chat_id": "-100"}
MEMBER = {"chat_kind": "group", "is_admin": False, "platform": "telegram", "chat_id": "-100"}
# Everything a count could show as: bars, shares, "Voters: 3", "3 票", "投票人数".
COUNT_MARKS = ("█", "░", "%", "Voters", " 票", "投票人数")


async def ask(services: Services, line: str, **fields: Any) -> Reply:
    return await dispatch(make_request(line, **fields), services)


def tables(reply: Reply) -> list[Table]:
    return [part for part in reply.parts if isinstance(part, Table)]


def shows_counts(reply: Reply) -> bool:
    shown = reply.plain_text() + "\n" + reply.notice
    return any(mark in shown for mark in COUNT_MARKS) or bool(reply.images)


async def test_a_hidden_poll_shows_no_count_to_voters_or_moderators_until_it_closes(
    services: Services,
) -> None:
    created = await ask(services, "/poll new Lunch? | Pizza | Sushi --hide-results", **MOD)
    alice = await ask(services, "/poll vote 1", **MEMBER, user_id="alice")
    bob = await ask(services, "/poll vote 1", **MEMBER, user_id="bob")
    carol = await ask(services, "/poll vote 2", **MEMBER, user_id="carol")
    seen_by_moderator = await ask(services, "/poll", **MOD)
    results_before = await ask(services, "/poll results", **MOD)
    press = await dispatch(make_request(action="poll:2:1", **MEMBER, user_id="dave"), services)

    for reply in (created, alice, bob, carol, seen_by_moderator, results_before, press):
        assert not reply.is_error, reply.plain_text()
        assert not shows_counts(reply), reply.plain_text()
    assert "Results are hidden until the poll closes." in seen_by_moderator.plain_text()
    assert [button.label for button in seen_by_moderator.buttons] == ["1. Pizza", "2. Sushi"]
    # A voter sees their own choice, nobody else's.
    assert carol.notice == "Your vote in poll #2: Sushi."
    assert press.notice == "Your vote in poll #2: Sushi."
    assert results_before.plain_text() == (
        "Results of poll #2: Lunch?\n"
        "The results of this poll are hidden until a moderator closes it.\n"
        "Anonymous poll: nobody can see who voted for what, moderators included."
    )

    closed = await ask(services, "/poll close", **MOD)
    results_after = await ask(services, "/poll results", **MOD)
    shown_after = await ask(services, "/poll 2", **MEMBER)

    assert closed.title == "Poll #2 has closed: Lunch?"
    assert "Voters: 4 (Telegram 4)" in closed.plain_text() and len(closed.images) == 1
    assert tables(results_after)[0].rows == (("1", "Pizza", "2", "50%"), ("2", "Sushi", "2", "50%"))
    assert len(results_after.images) == 1
    assert "██████████ 50% · 2" not in shown_after.plain_text()
    assert "█████░░░░░ 50% · 2" in shown_after.plain_text()


async def test_a_hidden_poll_in_chinese_says_so_and_shows_everything_after_the_close(
    services: Services,
) -> None:
    zh_mod = {**MOD, "locale": "zh-CN"}
    await ask(services, "/poll new 午饭？ | 面条 | 米饭 --hide-results --closes 2h", **zh_mod)
    voted = await ask(services, "/poll vote 面条", **MEMBER, user_id="li", locale="zh-CN")
    results_before = await ask(services, "/poll results", **zh_mod)
    await ask(services, "/poll close", **zh_mod)
    results_after = await ask(services, "/poll results", **zh_mod)

    assert not shows_counts(voted) and not shows_counts(results_before)
    assert "投票结束前不显示结果。" in voted.plain_text()
    assert voted.notice == "你在投票 #2 中选择了：面条。"
    assert results_before.parts[0] == (
        "本投票的结果在结束前隐藏，将于 2026-11-30 17:00 (UTC) 结束。"
    )
    assert tables(results_after)[0].rows == (("1", "面条", "1", "100%"), ("2", "米饭", "0", "0%"))


async def test_a_public_poll_says_so_before_the_vote_and_moderators_see_names(
    services: Services,
) -> None:
    created = await ask(services, "/poll new Tea? | Green | Black --public", **MOD)
    ada = await ask(services, "/poll vote 1", **MEMBER, user_id="4242", user_name="Ada Lovelace")
    grace = await dispatch(
        make_request(action="poll:2:1", **MEMBER, user_id="777", user_name="Grace Hopper"),
        services,
    )
    listed = await ask(services, "/poll voters", **MOD)
    refused = await ask(services, "/poll voters", **MEMBER, user_id="4242")

    public = "Votes are public: moderators can see who voted for what, by display name."
    assert public in created.plain_text()
    assert ada.notice == (
        "Your vote in poll #2: Green. "
        "Votes in this poll are public: moderators can see your choice."
    )
    assert grace.notice == (
        "Your vote in poll #2: Black. "
        "Votes in this poll are public: moderators can see your choice."
    )
    assert listed.title == "Who voted in poll #2: Tea?"
    assert tables(listed)[0].headers == ("Voter", "Platform", "Choice")
    assert tables(listed)[0].rows == (
        ("Ada Lovelace", "Telegram", "1"),
        ("Grace Hopper", "Telegram", "2"),
    )
    assert "1 = Green; 2 = Black" in listed.parts
    assert "4242" not in listed.plain_text() and "777" not in listed.plain_text()
    assert refused.is_error
    assert refused.plain_text() == "Only the moderators of this chat can do that."


async def test_a_public_poll_lists_its_voters_in_chinese(services: Services) -> None:
    zh_mod = {**MOD, "locale": "zh-CN"}
    created = await ask(
        services, "/poll new 喝茶？ | 绿茶 | 红茶 | 花茶 --public --multi", **zh_mod
    )
    await ask(services, "/poll vote 1 3", **MEMBER, user_id="9", user_name="王小明", locale="zh-CN")
    listed = await ask(services, "/poll 投票者", **zh_mod)

    assert "公开投票：管理员可以按显示名称查看谁投了什么。" in created.plain_text()
    assert listed.title == "投票 #2 的投票者：喝茶？"
    assert tables(listed)[0].rows == (("王小明", "Telegram", "1、3"),)


async def test_nobody_may_list_the_voters_of_an_anonymous_poll_not_even_a_moderator(
    services: Services,
) -> None:
    created = await ask(services, "/poll new Lunch? | Pizza | Sushi", **MOD)
    await ask(services, "/poll vote 1", **MEMBER, user_id="alice", user_name="Alice")
    by_moderator = await ask(services, "/poll voters", **MOD)
    by_member = await ask(services, "/poll voters", **MEMBER)
    deepseek = await ask(services, "/poll voters 1", **MOD)
    deepseek_zh = await ask(services, "/poll voters 1", **MOD, locale="zh-CN")
    deepseek_face = await ask(services, "/poll 1", **MEMBER)

    anonymous = "Anonymous poll: nobody can see who voted for what, moderators included."
    assert anonymous in created.plain_text() and anonymous in deepseek_face.plain_text()
    for reply in (by_moderator, by_member):
        assert reply.is_error
        assert reply.plain_text() == (
            "Poll #2 is anonymous: nobody can see who voted for what, moderators included."
        )
    assert deepseek.plain_text() == (
        "Poll #1 is anonymous: nobody can see who voted for what, moderators included."
    )
    assert deepseek_zh.plain_text() == (
        "投票 #1 是匿名投票：任何人都无法查看谁投了什么，管理员也不例外。"
    )


async def test_an_anonymous_vote_is_stored_without_the_user_id_or_name(
    services: Services,
) -> None:
    await ask(services, "/poll new Lunch? | Pizza | Sushi", **MOD)
    await ask(services, "/poll vote 1", **MEMBER, user_id="4242", user_name="Ada Lovelace")
    await ask(services, "/poll vote 2", user_id="console-bob", user_name="Bob")
    await dispatch(
        make_request(action="poll:1:0", platform="discord", user_id="777000111", user_name="Grace"),
        services,
    )

    rows = await sqlite_database(services).connection.execute_fetchall("SELECT * FROM poll_votes")

    stored = repr([tuple(row) for row in rows])
    assert len(rows) == 3
    for raw in ("4242", "console-bob", "777000111", "Ada", "Bob", "Grace"):
        assert raw not in stored


async def test_a_public_vote_keeps_the_display_name_but_not_the_user_id(
    services: Services,
) -> None:
    await ask(services, "/poll new Tea? | Green | Black --public", **MOD)
    await ask(services, "/poll vote 2", **MEMBER, user_id="4242", user_name="Ada Lovelace")

    rows = list(
        await sqlite_database(services).connection.execute_fetchall(
            "SELECT user_id, voter_name FROM poll_votes WHERE poll_id = 2"
        )
    )

    assert [row[1] for row in rows] == ["Ada Lovelace"]
    assert "4242" not in str(rows[0][0])
