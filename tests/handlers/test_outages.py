"""/outages: the 27 January timeline converted to the reader's zone, with durations."""

from __future__ import annotations

import pytest

from bot.dispatch import dispatch
from handlers.model import Services
from tests.conftest import make_request


def cards_of(reply_parts: tuple[object, ...]) -> list[str]:
    """The incidents: the parts after the intro, up to the totals."""
    return [str(part) for part in reply_parts[1:5]]


async def test_london_sees_beijing_times_eight_hours_earlier(services: Services) -> None:
    reply = await dispatch(make_request("/outages Europe/London"), services)

    assert cards_of(reply.parts) == [
        "01-27 02:55 – 01-27 06:21 (3h 26m)\nfirst major outage: the API fully down, until the"
        " V3 API came back; R1 API back 01-27 03:32",
        "01-27 06:37 – 01-27 08:43 (2h 06m)\nsecond major outage: web chat and API down",
        "01-27 12:16 – 01-27 13:32 (1h 16m)\nlogin and registration failing",
        "from 01-27 13:33, end not reported\nweb and API degraded again",
    ]


async def test_full_and_partial_outage_are_totalled_apart_with_what_each_includes(
    services: Services,
) -> None:
    reply = await dispatch(make_request("/outages Asia/Shanghai"), services)
    zh = await dispatch(make_request("/outages Asia/Shanghai", locale="zh"), services)

    # The article: all API down 10:55, R1 API back 11:32, V3 API back 14:21.
    assert reply.parts[5:8] == (
        "Full outage: 2h 43m in all, when the API (and in the second outage web chat too) was"
        " down completely: 01-27 10:55–11:32, 01-27 14:37–16:43.",
        "Partial outage: 4h 05m in all, when only part of the service failed:"
        " 01-27 11:32–14:21, 01-27 20:16–21:32. That is the V3 API still down after the R1 API"
        " was back, and the login failures.",
        "The last problem, from 01-27 21:33, has no reported end and is in neither total.",
    )
    assert zh.parts[5:8] == (
        "完全中断：共 2小时43分，即 API（第二次还有网页）完全不可用的时段："
        "01-27 10:55–11:32、01-27 14:37–16:43。",
        "部分中断：共 4小时05分，即只有部分服务出问题的时段：01-27 11:32–14:21、"
        "01-27 20:16–21:32。包括 R1 API 恢复后 V3 API 仍不可用的时间，以及无法登录的时间。",
        "最后一次问题（01-27 21:33 起）没有报告结束时间，不计入以上两项。",
    )
    assert "6h 48m" not in reply.plain_text()


async def test_new_york_crosses_back_into_26_january(services: Services) -> None:
    reply = await dispatch(make_request("/outages america/new_york"), services)

    assert cards_of(reply.parts)[0].startswith("01-26 21:55 – 01-27 01:21")
    assert "America/New_York (UTC-05:00" in reply.plain_text()


async def test_chinese_reply_has_chinese_durations(services: Services) -> None:
    reply = await dispatch(make_request("/outages Europe/London", locale="zh"), services)

    assert "3小时26分" in reply.plain_text()
    assert "北京时间" in reply.plain_text()


async def test_without_a_zone_the_chat_setting_is_used(services: Services) -> None:
    await dispatch(make_request("/settings tz Asia/Tokyo"), services)

    reply = await dispatch(make_request("/outages"), services)

    assert cards_of(reply.parts)[0].startswith("01-27 11:55")


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
