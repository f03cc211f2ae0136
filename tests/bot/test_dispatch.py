"""Dispatch: command parsing, language resolution, and the one broad except."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bot.console import ConsoleUser, ask
from bot.cooldowns import Cooldowns, Rate, guarded
from bot.dispatch import dispatch, parse_command
from handlers.commands import Registry
from handlers.model import Reply, Request, Services
from storage.chat_settings import ChatSettings, ChatSettingsStore
from tests.conftest import make_request


@pytest.mark.parametrize(
    ("message", "name", "text", "addressee"),
    [
        ("/stocks NVDA", "stocks", "NVDA", ""),
        ("/stocks@DsBot nvda msft", "stocks", "nvda msft", "DsBot"),
        ("  /HELP  ", "help", "", ""),
        ("／cost 1M in", "cost", "1M in", ""),
        ("/poll new Q?\n| A | B", "poll", "new Q?\n| A | B", ""),
        ("/stocks NVDA\u200b", "stocks", "NVDA", ""),
        ("/st\u200bocks \u202eAsia/Shanghai\u202c", "stocks", "Asia/Shanghai", ""),
        ("/poll vote 👨\u200d👩\u200d👧", "poll", "vote 👨\u200d👩\u200d👧", ""),
    ],
)
def test_commands_are_split_into_name_text_and_addressee(
    message: str, name: str, text: str, addressee: str
) -> None:
    parsed = parse_command(message)
    assert parsed is not None
    assert (parsed.name, parsed.text, parsed.addressee) == (name, text, addressee)


def test_plain_chat_is_not_a_command() -> None:
    assert parse_command("hello /help") is None
    assert parse_command("") is None


async def test_an_unknown_command_gets_a_hint_in_the_users_language(services: Services) -> None:
    reply = await dispatch(make_request("/frobnicate", locale="zh-CN"), services)

    assert reply.is_error and reply.ephemeral
    assert "我不认识命令 /frobnicate" in reply.plain_text()


async def test_an_unknown_button_is_answered_not_raised(services: Services) -> None:
    reply = await dispatch(make_request(action="nothing:1:2"), services)

    assert reply.is_error
    assert "no longer does anything" in reply.plain_text()


async def test_a_failing_handler_becomes_a_logged_apology(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: Request, services: Services) -> Reply:
        raise RuntimeError("boom")

    registry = Registry(services.registry.commands, actions={"broken": broken})
    with_broken = dataclasses.replace(services, registry=registry)

    with caplog.at_level(logging.ERROR):
        reply = await dispatch(make_request(action="broken:1"), with_broken)

    assert reply.is_error
    assert "Sorry, something went wrong" in reply.plain_text()
    assert "boom" in caplog.text
    assert "boom" not in reply.plain_text()


async def test_the_default_language_applies_without_a_locale(services: Services) -> None:
    chinese_default = dataclasses.replace(services, default_lang="zh")

    reply = await dispatch(make_request("/help", locale=""), chinese_default)

    assert "所有命令及示例" in reply.plain_text()


class CountingChatSettings:
    """The chat settings store, counting reads."""

    def __init__(self, inner: ChatSettingsStore) -> None:
        self.inner = inner
        self.reads = 0

    async def get(self, platform: str, chat_id: str) -> ChatSettings:
        self.reads += 1
        return await self.inner.get(platform, chat_id)

    async def set_lang(self, platform: str, chat_id: str, lang: str | None) -> None:
        await self.inner.set_lang(platform, chat_id, lang)

    async def set_tz(self, platform: str, chat_id: str, tz: str | None) -> None:
        await self.inner.set_tz(platform, chat_id, tz)


async def test_a_chats_settings_are_read_once_per_request(services: Services) -> None:
    counting = CountingChatSettings(services.chat_settings)
    counted = dataclasses.replace(services, chat_settings=counting)

    await ask("/outages", ConsoleUser(), counted)
    await guarded()(make_request("/help"), counted)

    assert counting.reads == 2


async def test_a_refusal_to_slow_down_reads_the_chats_settings_once_and_speaks_its_language(
    services: Services,
) -> None:
    counting = CountingChatSettings(services.chat_settings)
    counted = dataclasses.replace(services, chat_settings=counting)
    await counting.set_lang("console", "chat-1", "zh")
    cooldowns = Cooldowns(per_user=Rate(1, 10.0))
    await guarded(cooldowns)(make_request("/about", locale="en"), counted)
    reads_before = counting.reads

    refused = await guarded(cooldowns)(make_request("/about", locale="en"), counted)

    assert refused.is_error
    assert "请稍等几秒" in refused.plain_text()
    assert counting.reads - reads_before == 1
