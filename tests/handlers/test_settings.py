"""/settings: a chat's own language and time zone."""

from __future__ import annotations

from bot.dispatch import dispatch
from handlers.model import Services
from storage.chat_settings import ChatSettings
from tests.conftest import make_request


async def test_a_chat_that_chose_chinese_gets_chinese_whatever_the_locale(
    services: Services,
) -> None:
    await dispatch(make_request("/settings lang zh", locale="en"), services)

    reply = await dispatch(make_request("/help", locale="en-US"), services)

    assert "所有命令及示例" in reply.plain_text()


async def test_auto_language_follows_the_member_again(services: Services) -> None:
    await dispatch(make_request("/settings lang zh"), services)
    await dispatch(make_request("/settings lang auto"), services)

    reply = await dispatch(make_request("/help", locale="en"), services)

    assert "every command with an example" in reply.plain_text()


async def test_group_members_who_are_not_moderators_cannot_change_settings(
    services: Services,
) -> None:
    reply = await dispatch(make_request("/settings lang zh", chat_kind="group"), services)

    assert reply.is_error
    assert "moderators" in reply.plain_text()
    assert (await services.chat_settings.get("console", "chat-1")).lang is None


async def test_a_group_moderator_sets_the_time_zone(services: Services) -> None:
    reply = await dispatch(
        make_request("/settings tz asia/shanghai", chat_kind="group", is_admin=True), services
    )

    assert "Asia/Shanghai" in reply.plain_text()
    assert (await services.chat_settings.get("console", "chat-1")).tz == "Asia/Shanghai"


async def test_settings_are_per_chat(services: Services) -> None:
    await dispatch(make_request("/settings tz Asia/Tokyo"), services)

    assert (await services.chat_settings.get("console", "chat-2")).tz is None


async def test_unknown_values_are_refused(services: Services) -> None:
    for line in ("/settings lang klingon", "/settings tz Nowhere/City", "/settings colour red"):
        reply = await dispatch(make_request(line), services)
        assert reply.is_error, line
    assert await services.chat_settings.get("console", "chat-1") == ChatSettings()
