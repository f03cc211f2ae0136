"""/outages: the 27 January timeline converted to the reader's zone, with durations."""

from __future__ import annotations

import pytest

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


async def test_the_statement_is_attributed_to_the_reports_that_quote_it(
    services: Services,
) -> None:
    reply = await dispatch(make_request("/outages"), services)

    assert (
        "DeepSeek's notice of 27 January, as quoted by TechStartups, NewsBytes and SC Magazine"
        " (its status page itself could not be retrieved)"
    ) in reply.plain_text()
    assert "DeepSeek's status page:" not in reply.plain_text()


async def test_in_chinese_the_statement_is_deepseeks_own_chinese_wording(
    services: Services,
) -> None:
    reply = await dispatch(make_request("/outages", locale="zh"), services)

    assert (
        "DeepSeek 的回应（据原文引述）：“近期DeepSeek线上服务受到大规模恶意攻击，注册可能繁忙，"
        "请稍等重试。已注册用户可以正常登录，感谢理解和支持。”"
    ) in reply.plain_text()
    assert "malicious" not in reply.plain_text()
    fact = services.facts.fact("status_statement_zh")
    assert "article.zh.txt" in fact.source


@pytest.mark.parametrize(
    "line",
    ["/outages Mars/Olympus_Mons", "/settings tz Mars/Olympus_Mons", "/recap on Mars/Olympus_Mons"],
)
async def test_chinese_lists_of_example_zones_are_joined_with_the_enumeration_comma(
    services: Services, line: str
) -> None:
    reply = await dispatch(make_request(line, locale="zh"), services)

    assert reply.is_error
    assert "Asia/Shanghai、Europe/London、America/New_York、UTC" in reply.plain_text()
    english = await dispatch(make_request(line), services)
    assert "Asia/Shanghai, Europe/London, America/New_York, UTC" in english.plain_text()
