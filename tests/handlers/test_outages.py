"""/outages: the 27 January timeline converted to the reader's zone, with durations."""

from __future__ import annotations

from bot.dispatch import dispatch
from handlers.model import Services, Table
from tests.conftest import make_request


def table_of(reply_parts: tuple[object, ...]) -> Table:
    return next(part for part in reply_parts if isinstance(part, Table))


async def test_london_sees_beijing_times_eight_hours_earlier(services: Services) -> None:
    reply = await dispatch(make_request("/outages Europe/London"), services)

    rows = table_of(reply.parts).rows
    assert [row[0] for row in rows] == ["01-27 02:55", "01-27 06:37", "01-27 12:16", "01-27 13:33"]
    assert [row[2] for row in rows] == ["3h 26m", "2h 06m", "1h 16m", "—"]
    assert "R1 API back 01-27 03:32" in rows[0][3]
    assert "6h 48m" in reply.plain_text()


async def test_new_york_crosses_back_into_26_january(services: Services) -> None:
    reply = await dispatch(make_request("/outages america/new_york"), services)

    rows = table_of(reply.parts).rows
    assert rows[0][0] == "01-26 21:55"
    assert "America/New_York (UTC-05:00" in reply.plain_text()


async def test_chinese_reply_has_chinese_durations(services: Services) -> None:
    reply = await dispatch(make_request("/outages Europe/London", locale="zh"), services)

    assert "3小时26分" in reply.plain_text()
    assert "北京时间" in reply.plain_text()


async def test_without_a_zone_the_chat_setting_is_used(services: Services) -> None:
    await dispatch(make_request("/settings tz Asia/Tokyo"), services)

    reply = await dispatch(make_request("/outages"), services)

    assert table_of(reply.parts).rows[0][0] == "01-27 11:55"


async def test_an_unknown_zone_is_refused_with_examples(services: Services) -> None:
    reply = await dispatch(make_request("/outages Mars/Olympus_Mons"), services)

    assert reply.is_error
    assert "Mars/Olympus_Mons" in reply.plain_text()
    assert "Asia/Shanghai" in reply.plain_text()


async def test_a_path_is_not_a_time_zone(services: Services) -> None:
    reply = await dispatch(make_request("/outages ../../../etc/passwd"), services)

    assert reply.is_error
