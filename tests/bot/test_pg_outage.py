"""The PostgreSQL server stopped mid-run: commands are told so, the bot keeps running, and once
the server is back work resumes with every acknowledged vote still there."""

from __future__ import annotations

import asyncio

from bot.dispatch import dispatch
from bot.services import build_services
from handlers.model import Request
from storage.facts import Facts
from storage.polls import DEEPSEEK_POLL_ID
from tests.conftest import NOW, make_request, offline_settings
from tests.pg import Cluster

UNAVAILABLE_EN = (
    "The bot's storage is unavailable right now, so nothing was saved. Please try again shortly."
)
UNAVAILABLE_ZH = "机器人的存储暂时无法使用，这次操作没有保存。请稍后再试。"


def vote(user: str, option: int, locale: str = "en") -> Request:
    return Request(
        platform="telegram",
        user_id=user,
        chat_id="-100",
        chat_kind="group",
        locale=locale,
        action=f"poll:{DEEPSEEK_POLL_ID}:{option}",
        delivery_id=f"{user}/{option}",
    )


async def test_a_server_outage_is_told_in_each_language_and_no_acknowledged_vote_is_lost(
    own_cluster: Cluster, facts: Facts
) -> None:
    url = own_cluster.fresh_database()
    async with build_services(offline_settings(url), facts=facts, clock=lambda: NOW) as services:
        before = [await dispatch(vote(f"u{number}", number % 4), services) for number in range(6)]
        await asyncio.to_thread(own_cluster.stop)

        during = [
            await dispatch(vote("late", 0), services),
            await dispatch(vote("late-zh", 1, locale="zh-hans"), services),
            await dispatch(make_request("/poll", locale="zh"), services),
            await dispatch(make_request("/poll", locale="en"), services),
        ]
        await asyncio.to_thread(own_cluster.start)
        after = await dispatch(vote("back", 3), services)
        found = await services.polls.get_with_tally(DEEPSEEK_POLL_ID)

    assert not any(reply.is_error for reply in before)
    assert [reply.plain_text() for reply in during] == [
        UNAVAILABLE_EN,
        UNAVAILABLE_ZH,
        UNAVAILABLE_ZH,
        UNAVAILABLE_EN,
    ]
    assert all(reply.is_error and reply.ephemeral for reply in during)
    assert not after.is_error
    assert found is not None
    # u0..u5 chose 0,1,2,3,0,1 and "back" chose 3; neither refused vote was stored.
    assert found[1].voters == 7
    assert found[1].counts == (2, 2, 1, 2)
